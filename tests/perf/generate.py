"""Fill a database with realistic reports for benchmarks (tests/perf/benchdata).

    .venv/bin/python tests/perf/generate.py --count 1000000 [--users U] [--seed S]

It loads the selected city's reference data first, then adds the reports, their photos rows,
timelines and supporters, and a few thousand citizens; PostgreSQL through COPY, other
databases through batched inserts. The database is the one DATABASE_URL names.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None, out: object = None) -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hues.settings")
    import django

    django.setup()
    from django.conf import settings

    from tests.perf.benchdata import generate_reports

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, required=True, help="Reports to add.")
    parser.add_argument(
        "--users", type=int, default=None, help="New citizens (default: count/20, 20-3000)."
    )
    parser.add_argument("--seed", type=int, default=2026, help="Random seed (repeatable).")
    parser.add_argument(
        "--areas", default=str(settings.AREAS_GEOJSON), help="GeoJSON of the wards."
    )
    options = parser.parse_args(argv)
    if options.count < 1:
        parser.error("--count must be at least 1.")
    if options.users is not None and options.users < 1:
        parser.error("--users must be at least 1.")
    path = Path(options.areas)
    if not path.is_file():
        parser.error(f"No area boundaries at {path}: set AREAS_GEOJSON or --areas.")
    write = getattr(out, "write", None) or sys.stdout.write

    summary = generate_reports(
        count=options.count,
        users=options.users,
        seed=options.seed,
        areas_path=path,
        log=lambda line: write(line + "\n"),
    )
    statuses = ", ".join(f"{k} {v}" for k, v in summary.statuses.items() if v)
    write(
        f"{summary.reports} reports, {summary.users} citizens, {summary.photos} photos, "
        f"{summary.events} events, {summary.supporters} supporters in "
        f"{summary.seconds:.1f} s ({statuses}). {summary.heavy_reporter_phone} filed "
        f"{summary.heavy_reporter_reports} of them.\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
