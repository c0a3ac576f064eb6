"""Benchmark data: realistic citizens and reports, generated fast. Not part of the product:
production never installs or imports it (tests/perf/generate.py runs it)."""

from tests.perf.benchdata.generate import Summary, generate_reports

__all__ = ["Summary", "generate_reports"]
