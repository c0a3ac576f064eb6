"""Helpers for report tests that go through the lifecycle."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Model
from django.test import Client
from django.urls import reverse
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from reports import lifecycle, privacy, services
from reports.models import Photo, Report
from reports.services import Upload
from tests.images import image_bytes


def store_result_photo(actor: Any) -> Callable[[Report], None]:
    """A `store_photos` callback for lifecycle.report_resolve that attaches one real,
    cleaned result photo, as the admin's resolve form does, and processes it as its
    after-commit task would."""

    def store(report: Report) -> None:
        data = image_bytes("JPEG", size=(320, 240))
        processed = services.photos_process([Upload(stream=io.BytesIO(data), size=len(data))])
        for photo in services.photos_store(
            report=report, photos=processed, kind=Photo.Kind.RESULT, uploaded_by=actor
        ):
            privacy.photo_redact(photo_id=photo.pk)

    return store


def resolve_with_photo(*, report: Report, actor: Any, note: str) -> Report:
    return lifecycle.report_resolve(
        report=report, actor=actor, note=note, store_photos=store_result_photo(actor)
    )


def reload(report: Report) -> Report:
    report.refresh_from_db()
    return report


# The admin, as a signed-in user sees it.

CHANGELIST = "/admin/reports/report/"
_LISTED = re.compile(r'class="field-reference"><a href="[^"]*">([^<]+)</a>')


def admin_client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def listed(response: Any) -> set[str]:
    """The references in the report change list's result rows."""
    return set(_LISTED.findall(response.content.decode()))


def change_url(report: Report) -> str:
    return reverse("admin:reports_report_change", args=[report.pk])


def act_url(report: Report, action: str) -> str:
    return reverse("admin:reports_report_act", args=[report.pk, action])


def field_values(instance: Model | None, skip: Any = frozenset()) -> dict[str, Any] | None:
    """An instance's loaded column values by attname (None for no instance)."""
    if instance is None:
        return None
    return {
        field.attname: getattr(instance, field.attname)
        for field in instance._meta.concrete_fields
        if field.name not in skip
    }


def request_as(user: Any) -> Request:
    """A DRF request to the reports API by `user` (None: anonymous), for serializers."""
    request = Request(APIRequestFactory().get("/api/v1/reports/x", secure=True))
    request.user = user or AnonymousUser()
    return request
