"""The fault-injection suite in its short form (tests/fault/run.py --short): real gunicorn,
Celery worker and beat, the suite's own PostgreSQL and Redis; worker kills, a Redis outage
and pause, a PostgreSQL restart; then every accepted report is checked in the database.

It needs PostgreSQL's server binaries (initdb) and redis-server; under CI=true their absence
fails. The long form (`--long`) is for a developer's machine; docs/RELIABILITY.md has the
figures of both.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import need
from tests.fault.harness import ROOT, postgres_bin, redis_server

pytestmark = pytest.mark.e2e


def test_the_short_fault_injection_run_meets_every_target(tmp_path: Path) -> None:
    need(postgres_bin() is not None, "PostgreSQL's server binaries (initdb) are not installed")
    need(redis_server() is not None, "redis-server is not installed")
    need(
        os.geteuid() != 0 or shutil.which("runuser") is not None,
        "runuser is needed to run initdb as the postgres user",
    )
    figures = tmp_path / "figures.json"

    run = subprocess.Popen(
        [sys.executable, "tests/fault/run.py", "--short", "--json", str(figures)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = run.communicate(timeout=1200)
    except subprocess.TimeoutExpired:
        run.terminate()  # the script stops the servers it started, then exits
        stdout, stderr = run.communicate(timeout=120)
        pytest.fail(f"the fault suite took over 20 minutes:\n{stdout[-12000:]}{stderr[-4000:]}")

    output = stdout[-12000:] + stderr[-4000:]
    assert figures.is_file(), output
    result = json.loads(figures.read_text())
    assert result["reports_accepted"] > 0, output
    assert result["accepted_reports_lost"] == 0, output
    assert result["reports_in_database"] == result["reports_accepted"], output
    assert result["routed_share_within_4_min_of_recovery"] == 100.0, output
    assert result["reports_routed_twice"] == 0, output
    assert result["duplicate_notifications"] == 0, output
    assert result["events_not_notified"] == 0, output
    assert result["routed_without_reporter_notification"] == 0, output
    assert result["requests_over_5s_or_unanswered_while_redis_down_or_paused"] == 0, output
    assert result["server_errors_500"] == 0, output
    assert result["answers_while_postgres_away"].get("503", 0) > 0, output
    stress = result["idempotency"]
    assert stress["keys_with_one_report"] == stress["keys"], output
    assert stress["reports_in_database"] == stress["keys"], output
    assert stress["answered_reference_matches_database"], output
    assert run.returncode == 0, output
