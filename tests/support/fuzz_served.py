"""`make fuzz`: schemathesis' CLI, every check and phase, against a served Engage with demo data.

A fresh SQLite database (or FUZZ_DATABASE_URL, e.g. an empty PostgreSQL database) is migrated and
seeded, an admin key made, `engage serve` started on a free port; schemathesis runs with the
repository's schemathesis.toml and prints its summary. Fails on any finding, and when fewer than
FUZZ_MIN_CASES (default 5000) cases ran. FUZZ_EXAMPLES sets cases per operation and phase.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"fuzz: {url} did not answer within {seconds:.0f} s") from None
            time.sleep(0.2)


def main() -> int:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="engage-fuzz-") as tmp:
        env = {**os.environ, "ENGAGE_PUBLIC_URL": base, "NO_PROXY": "127.0.0.1,localhost",
               "ENGAGE_DATABASE_URL": os.environ.get("FUZZ_DATABASE_URL", f"sqlite:///{tmp}/fuzz.sqlite")}
        engage = [str(BIN / "engage")]
        subprocess.run([*engage, "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([*engage, "seed-demo"], env=env, check=True, stdout=subprocess.DEVNULL)
        key = subprocess.run([*engage, "keys", "create", "--role", "admin", "--name", "fuzz"], env=env,
                             check=True, capture_output=True, text=True).stdout.strip()
        with open(Path(tmp) / "serve.log", "w") as log:
            server = subprocess.Popen([*engage, "serve", "--port", str(port)], env=env, stdout=log,
                                      stderr=subprocess.STDOUT)
            try:
                wait_for(f"{base}/api/openapi.json")
                return fuzz(base, key, env)
            finally:
                server.terminate()
                server.wait(timeout=30)


def fuzz(base: str, key: str, env: dict) -> int:
    command = [str(BIN / "schemathesis"), "run", f"{base}/api/openapi.json", "--checks", "all",
               "--phases", "examples,coverage,fuzzing,stateful", "-H", f"Authorization: Bearer {key}",
               "--max-examples", os.environ.get("FUZZ_EXAMPLES", "30"), "--workers", "2", "--no-color"]
    if os.environ.get("FUZZ_SEED"):
        command += ["--seed", os.environ["FUZZ_SEED"]]
    output = []
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as run:
        for line in run.stdout:  # as it goes: a run takes minutes
            sys.stdout.write(line)
            output.append(line)
    cases = re.search(r"(\d+) generated", "".join(output))
    generated = int(cases.group(1)) if cases else 0
    wanted = int(os.environ.get("FUZZ_MIN_CASES", "5000"))
    if run.returncode != 0:
        print(f"fuzz: schemathesis found problems ({generated} cases)")
        return 1
    if generated < wanted:
        print(f"fuzz: only {generated} cases ran, fewer than {wanted}; raise FUZZ_EXAMPLES")
        return 1
    print(f"fuzz: {generated} cases, no findings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
