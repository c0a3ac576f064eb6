from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.backends import DEMO_PASSWORD
from hues.errors import InvalidInput
from reports.demo import DEMO_USERS, seed_demo_users, seed_reference_data


class Command(BaseCommand):
    help = (
        "Load the demo data of PRODUCT.md: the 40 areas, agencies, categories, routing rules "
        "and (only while DEBUG is on) the demo users. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--areas",
            default=str(settings.AREAS_GEOJSON),
            help="GeoJSON file of the wards and communes.",
        )

    def handle(self, *args: Any, areas: str, **options: Any) -> None:
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
            summary = seed_reference_data(path)
        except InvalidInput as error:
            raise CommandError(f"{areas}: {error.message}") from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Areas {summary.areas}, agencies {summary.agencies}, categories "
                f"{summary.categories}, routing rules {summary.rules}."
            )
        )
        if settings.DEMO_USERS_ENABLED:
            users = seed_demo_users(DEMO_PASSWORD)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo users: {users} (password {DEMO_PASSWORD}): "
                    + ", ".join(f"{phone} {role}" for phone, _, role, _ in DEMO_USERS)
                )
            )
            # The Open311 interface builds on reports, not the other way: imported here only.
            from open311.demo import seed_demo_api_key
            from open311.services import DEMO_API_KEY

            if seed_demo_api_key() is not None:
                self.stdout.write(self.style.SUCCESS(f"Open311 demo API key: {DEMO_API_KEY}"))
        else:
            self.stdout.write("DEBUG is off: demo users are not created.")
