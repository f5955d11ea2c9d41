"""`engage worker` with ENGAGE_METRICS_PORT serves its own process metrics (its provider calls)."""

from __future__ import annotations

import json
import re
import urllib.request

from tests.integration.test_cli_jobs import seeded, seeded_template, start, stop_within, wait_for  # noqa: F401


def test_worker_serves_its_metrics_and_logs_json(seeded):  # noqa: F811
    log_path = seeded / "worker.log"
    with log_path.open("w") as log:
        worker = start(["worker"], seeded, log, ENGAGE_METRICS_PORT="0")
    try:
        assert wait_for(lambda: "metrics on port" in log_path.read_text()), log_path.read_text()
        lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
        [announced] = [line["message"] for line in lines if line["message"].startswith("metrics on port")]
        port = int(re.search(r"port (\d+)", announced)[1])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            text = response.read().decode()
        assert "# TYPE engage_provider_request_duration_seconds histogram" in text
    finally:
        assert stop_within(worker, 15) == 0
