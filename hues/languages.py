"""The active language, as the project names its languages (settings.LANGUAGES)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import get_language


def active_language() -> str:
    """The active language without its region ("vi" or "en": LocaleMiddleware activates no
    other), the default one outside a request."""
    return (get_language() or settings.LANGUAGE_CODE).split("-")[0]
