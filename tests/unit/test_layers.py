"""The layering is a contract: import-linter checks pyproject.toml's [tool.importlinter] contracts.

The second test copies the package, adds one back edge, and expects the same check to fail, so a
contract that matches nothing (a renamed package, a typo in a layer) cannot pass unnoticed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(project: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(project)}
    return subprocess.run([str(LINT), "--no-cache", "--config", str(project / "pyproject.toml")],
                          cwd=project, env=env, capture_output=True, text=True, timeout=120)


def test_imports_point_down_the_layers():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(("module", "back_edge", "contract"), [
    ("engage/outbox/retry.py", "from engage.flows import compose", "Layers only point down"),
    ("engage/flows/compose.py", "from engage.channels import console", "Only the dispatcher"),
    ("engage/loyalty/tiers.py", "import sqlalchemy", "The rules are pure"),
    ("engage/store/ledger.py", "import engage.store.members", "No circle"),
])
def test_a_back_edge_breaks_the_contract(tmp_path, module, back_edge, contract):
    shutil.copytree(ROOT / "engage", tmp_path / "engage", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with open(tmp_path / module, "a") as source:
        source.write(f"\n{back_edge}  # noqa\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, result.stdout[-3000:]
