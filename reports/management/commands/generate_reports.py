"""Fill the database with realistic reports for benchmarks (reports.bulk)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from reports.bulk import generate_reports


class Command(BaseCommand):
    help = (
        "Add N realistic reports (photos rows, timelines, supporters) and a few thousand "
        "citizens, after loading the reference data (the 40 areas, agencies, categories, "
        "rules). PostgreSQL loads them with COPY; other databases with batched inserts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, required=True, help="Reports to add.")
        parser.add_argument(
            "--users", type=int, default=None, help="New citizens (default: count/20, 20-3000)."
        )
        parser.add_argument("--seed", type=int, default=2026, help="Random seed (repeatable).")
        parser.add_argument(
            "--areas", default=str(settings.AREAS_GEOJSON), help="GeoJSON of the wards."
        )

    def handle(
        self, *args: Any, count: int, users: int | None, seed: int, areas: str, **options: Any
    ) -> None:
        if count < 1:
            raise CommandError("--count must be at least 1.")
        if users is not None and users < 1:
            raise CommandError("--users must be at least 1.")
        path = Path(areas)
        if not path.is_file():
            raise CommandError(f"No area boundaries at {path}: set AREAS_GEOJSON or --areas.")
        summary = generate_reports(
            count=count, users=users, seed=seed, areas_path=path, log=self.stdout.write
        )
        statuses = ", ".join(f"{k} {v}" for k, v in summary.statuses.items() if v)
        self.stdout.write(
            self.style.SUCCESS(
                f"{summary.reports} reports, {summary.users} citizens, {summary.photos} photos, "
                f"{summary.events} events, {summary.supporters} supporters in "
                f"{summary.seconds:.1f} s ({statuses}). {summary.heavy_reporter_phone} filed "
                f"{summary.heavy_reporter_reports} of them."
            )
        )
