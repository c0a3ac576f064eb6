"""Check a city's folder before deploying it: `manage.py check_city <slug>`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from hues.city import available_cities, check_city


class Command(BaseCommand):
    help = (
        "Check cities/<slug>/city.toml and the boundary file it names; every problem is "
        "printed on its own line, with the line of city.toml where there is one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", nargs="?", help="The city's folder (default: CITY).")

    def handle(self, *args: Any, slug: str | None, **options: Any) -> None:
        slug = slug or settings.CITY
        errors, warnings = check_city(slug, settings.CITIES_DIR)
        for warning in warnings:
            self.stdout.write(self.style.WARNING(f"warning: {warning}"))
        if errors:
            for error in errors:
                self.stderr.write(self.style.ERROR(error))
            cities = ", ".join(available_cities(settings.CITIES_DIR))
            raise CommandError(f"{slug}: {len(errors)} problem(s). Cities here: {cities}.")
        self.stdout.write(self.style.SUCCESS(f"{slug}: the city's definition is complete."))
