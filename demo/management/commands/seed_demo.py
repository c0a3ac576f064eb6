"""Load the selected city's reference data, and with DEBUG on its demo users, the Open311
demo key and a living demo: reports of the last 30 days in every state."""

from __future__ import annotations

import importlib.util
import logging
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo.api_key import seed_demo_api_key
from demo.reports import seed_demo_reports
from demo.users import seed_demo_users
from hues.city import current_city
from hues.errors import InvalidInput
from open311.services import DEMO_API_KEY
from reports.cities import city_load


class Command(BaseCommand):
    help = (
        "Load the city's reference data (CITY, cities/<CITY>/city.toml): its areas, one "
        "People's Committee each, agencies, categories, routing rules, holidays and reply "
        "templates; and (only while DEBUG is on) its demo users, the Open311 demo key and "
        "a few hundred reports of the last 30 days in every state. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--areas",
            default=str(settings.AREAS_GEOJSON),
            help="GeoJSON file of the wards and communes (default: the city's).",
        )
        parser.add_argument(
            "--reports",
            type=int,
            default=settings.DEMO_REPORTS,
            help="Demo reports to file over the last 30 days, with DEBUG on (default: "
            "DEMO_REPORTS; 0 for none). A city that has demo reports is left as it is.",
        )

    def handle(self, *args: Any, areas: str, reports: int, **options: Any) -> None:
        city = current_city()
        path: Path | None = Path(areas)
        if path is not None and not path.is_file():
            self.stderr.write(
                self.style.WARNING(
                    f"No area boundaries at {path}: areas are left as they are. "
                    "Set AREAS_GEOJSON or pass --areas."
                )
            )
            path = None
        try:
            summary = city_load(city, boundaries=path)
        except InvalidInput as error:
            raise CommandError(f"{areas}: {error.message}") from error
        self.stdout.write(
            self.style.SUCCESS(
                f"{city.name}: areas {summary.areas}, agencies {summary.agencies}, categories "
                f"{summary.categories}, routing rules {summary.rules}, holidays "
                f"{summary.holidays}, reply templates {summary.reply_templates}."
            )
        )
        if not settings.DEMO_USERS_ENABLED:
            self.stdout.write("DEBUG is off: demo users are not created.")
            return
        users = seed_demo_users(city)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo users: {users} (password {city.demo_password}): "
                + ", ".join(f"{user.phone} {user.role}" for user in city.demo_users)
            )
        )
        if seed_demo_api_key(city) is not None:
            self.stdout.write(self.style.SUCCESS(f"Open311 demo API key: {DEMO_API_KEY}"))
        if reports <= 0 or path is None:
            return
        if importlib.util.find_spec("time_machine") is None:
            self.stderr.write(
                self.style.WARNING(
                    "No demo reports: they need time-machine (requirements/dev.txt)."
                )
            )
            return
        started = time.monotonic()
        tasks = logging.getLogger("hues.task")
        level, tasks.level = tasks.level, logging.WARNING  # not a line per task run
        try:
            demo = seed_demo_reports(city, count=reports)
        finally:
            tasks.setLevel(level)
        if demo.existing:
            self.stdout.write(f"Demo reports: {demo.reports} already filed, left as they are.")
            return
        statuses = ", ".join(f"{status} {n}" for status, n in sorted(demo.by_status.items()))
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo reports: {demo.reports} over the last 30 days in "
                f"{time.monotonic() - started:.1f} s ({statuses}; hidden {demo.hidden}, "
                f"flagged {demo.flagged}, by hotline {demo.hotline}, "
                f"corrected {demo.corrected}, escalated {demo.escalated})."
            )
        )
