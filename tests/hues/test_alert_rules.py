"""The alerting rules (deploy/prometheus/alerts.yml) are valid Prometheus rules, and their
unit tests (alerts.test.yml: the error rate, the growing queue, slow routing) pass, with
Prometheus's own promtool (Debian package prometheus, installed by .ci/run)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import need

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    found = shutil.which("promtool")
    need(found is not None, "promtool is not installed (Debian package prometheus)")
    assert found is not None
    return subprocess.run(
        [found, *args], cwd=RULES, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_alerting_rules_are_valid():
    result = promtool("check", "rules", "alerts.yml")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 8 rules found" in result.stdout


def test_the_alerting_rules_pass_their_unit_tests():
    result = promtool("test", "rules", "alerts.test.yml")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
