"""Background work for the statistics: keeping the daily figures. Thin: the work is in
insights.rollup."""

from __future__ import annotations

from celery import shared_task

from insights import rollup


def _refresh_daily_figures() -> int:
    """Count again the days of the daily figures that changed reports touch; the number of
    days counted."""
    return rollup.refresh()


def _rebuild_daily_figures() -> int:
    """Count every day of the daily figures again (nightly); the number of rows written."""
    return rollup.rebuild()


refresh_daily_figures = shared_task(name="insights.refresh_daily_figures")(_refresh_daily_figures)
rebuild_daily_figures = shared_task(name="insights.rebuild_daily_figures")(_rebuild_daily_figures)

# The names these tasks had while they lived in the reports app, for beat messages queued
# before an upgrade. Remove them one release after the split.
refresh_under_old_name = shared_task(name="reports.refresh_daily_figures")(_refresh_daily_figures)
rebuild_under_old_name = shared_task(name="reports.rebuild_daily_figures")(_rebuild_daily_figures)
