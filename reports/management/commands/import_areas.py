from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from hues.errors import InvalidInput
from reports.services import areas_import_geojson


class Command(BaseCommand):
    help = "Create or update areas (wards and communes) from a GeoJSON FeatureCollection."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", default=str(settings.AREAS_GEOJSON))

    def handle(self, *args: Any, path: str, **options: Any) -> None:
        try:
            created, updated = areas_import_geojson(Path(path))
        except InvalidInput as error:
            raise CommandError(f"{path}: {error.message}") from error
        self.stdout.write(self.style.SUCCESS(f"Areas: {created} created, {updated} updated."))
