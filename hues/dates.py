"""How the product writes a moment for people: dd/mm/yyyy hh:mm in the city's time."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def short_time(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M")
