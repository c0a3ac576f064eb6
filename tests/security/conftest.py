"""The security suites file reports as the reports tests do."""

from tests.reports.conftest import make_report, upload

__all__ = ["make_report", "upload"]
