"""The dashboard and the public statistics on a large database (issue #7's figures).

    .venv/bin/python tests/perf/dashboard.py                       # hues_bench_1m
    .venv/bin/python tests/perf/dashboard.py --database hues_bench_10k --repeat 3 --no-export

Uses a database that tests/perf/run.py (or tests/perf/generate.py) filled, in production
settings (DEBUG off) and in this process through Django's test client, so the figures are the
view's own: queries and their time, template included, without HTTP. For each view it prints
the median of `--repeat` renders counted afresh (the figures' cache off) and served from the
cache, the number of queries, and the time of each selector the dashboard calls, then writes
tests/perf/results/dashboard.json. Then it streams the whole report list as CSV and prints
its rows, time and the growth of the process' peak memory. First it refreshes the daily
figures as the beat would (all of them on a freshly generated database, about a minute for a
million reports), and it adds two staff users (a dispatcher and HEPCO's manager) if they are
not there; it changes nothing else.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).resolve().parent / "results"
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def log(message: str) -> None:
    print(message, flush=True)  # noqa: T201


def timed(function: Callable[[], Any], repeat: int) -> tuple[float, int]:
    """Median milliseconds of `repeat` calls, and the queries of the last one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    queries = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            function()
            times.append((time.perf_counter() - start) * 1000)
        queries = len(captured)
    return round(statistics.median(times), 1), queries


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="hues_bench_1m")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-export", action="store_true", help="leave out the CSV export")
    options = parser.parse_args()

    os.environ.update(
        {
            "DATABASE_URL": f"{PG}/{options.database}",
            "DEBUG": "false",
            "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-" + "x" * 50),
            "ALLOWED_HOSTS": "testserver",
            "SECURE_COOKIES": "false",
            "SECURE_SSL_REDIRECT": "false",
            "CACHE_URL": "locmemcache://bench",
            "DJANGO_SETTINGS_MODULE": "hues.settings",
            "LOG_LEVEL": "WARNING",
        }
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from accounts.models import Role, User
    from accounts.services import user_set_role
    from insights import rollup, stats
    from reports.models import Agency, Report

    total_reports = Report.objects.count()
    # As the beat does every minute (the first time, or on a freshly generated database, it
    # counts every day).
    started = time.perf_counter()
    days = rollup.refresh()
    refresh_seconds = round(time.perf_counter() - started, 1)
    log(f"daily figures refreshed: {days} days counted in {refresh_seconds} s")
    hepco = Agency.objects.get(code="hepco")
    viewers = {}
    for phone, role, agency in (
        ("+84900999001", Role.DISPATCHER, None),
        ("+84900999002", Role.MANAGER, hepco),
    ):
        user = User.objects.filter(phone=phone).first()
        if user is None:
            user = User.objects.create_user(
                phone=phone,
                password=None,
                full_name=f"Bench {role}",
                role=role,
                agency=agency,
                is_staff=True,
            )
        user_set_role(user=user, role=role, agency=agency)  # the role's group and rights
        viewers[role] = user

    results: dict[str, Any] = {
        "database": options.database,
        "reports": total_reports,
        "repeat": options.repeat,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": os.getloadavg(),
        },
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "daily_figures_refresh": {"days": days, "seconds": refresh_seconds},
        "views": {},
        "selectors": {},
    }
    log(
        f"{options.database}: {total_reports:,} reports; median of {options.repeat} renders; "
        f"load average {os.getloadavg()[0]:.1f}"
    )

    for role, user in viewers.items():
        client = Client()
        client.force_login(user)
        url = "/admin/reports/report/dashboard/"
        settings.DASHBOARD_CACHE_SECONDS = 0  # nothing kept: every render counts
        client.get(url)  # names and ward outlines are loaded once per process
        cold, cold_queries = timed(lambda c=client, u=url: c.get(u), options.repeat)
        settings.DASHBOARD_CACHE_SECONDS = 60
        client.get(url)
        warm, warm_queries = timed(lambda c=client, u=url: c.get(u), options.repeat)
        results["views"][f"dashboard ({role})"] = {
            "counted_ms": cold,
            "counted_queries": cold_queries,
            "cached_ms": warm,
            "cached_queries": warm_queries,
        }
        log(
            f"  dashboard as {role:<10} counted {cold:8.1f} ms ({cold_queries} queries)"
            f"   cached {warm:6.1f} ms ({warm_queries} queries)"
        )

    api = Client()
    settings.STATS_CACHE_SECONDS = 0
    cold, cold_queries = timed(lambda: api.get("/api/v1/stats"), options.repeat)
    settings.STATS_CACHE_SECONDS = 300
    api.get("/api/v1/stats")
    warm, warm_queries = timed(lambda: api.get("/api/v1/stats"), options.repeat)
    results["views"]["GET /api/v1/stats"] = {
        "counted_ms": cold,
        "counted_queries": cold_queries,
        "cached_ms": warm,
        "cached_queries": warm_queries,
    }
    log(
        f"  GET /api/v1/stats        counted {cold:8.1f} ms ({cold_queries} queries)"
        f"   cached {warm:6.1f} ms ({warm_queries} queries)"
    )

    if not options.no_export:
        # The whole report list as CSV: streamed, so memory stays flat over a million rows.
        client = Client()
        client.force_login(viewers[Role.DISPATCHER])
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        response = client.get("/admin/reports/report/export.csv")
        rows = size = 0
        for chunk in response.streaming_content:
            rows += chunk.count(b"\n")
            size += len(chunk)
        seconds = time.perf_counter() - start
        peak_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        results["export"] = {
            "rows": rows - 1,
            "megabytes": round(size / 1e6, 1),
            "seconds": round(seconds, 1),
            "peak_rss_growth_mb": round((peak_after - peak_before) / 1024, 1),
            "peak_rss_mb": round(peak_after / 1024, 1),
        }
        log(
            f"  export.csv: {rows - 1:,} rows, {size / 1e6:.0f} MB in {seconds:.0f} s; peak RSS "
            f"{peak_after / 1024:.0f} MB (+{(peak_after - peak_before) / 1024:.0f} MB)"
        )

    filters = stats.StatsFilters(period=stats.period_between(None, None))
    for name, function in (
        ("tally (state, figures, today, open)", lambda: stats.Tally.count(filters)),
        ("median_hours", lambda: stats.median_hours(filters)),
        ("median_hours_by agency", lambda: stats.median_hours_by(filters, group="agency")),
        ("median_hours_by area", lambda: stats.median_hours_by(filters, group="area")),
        (
            "median_hours_by category",
            lambda: stats.median_hours_by(filters, group="category"),
        ),
        ("daily_counts", lambda: stats.daily_counts(filters)),
        ("reports_overdue", lambda: stats.reports_overdue(filters)),
    ):
        ms, _ = timed(function, options.repeat)
        results["selectors"][name] = ms
        log(f"    {name:<36} {ms:8.1f} ms")

    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "dashboard.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    log(f"written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
