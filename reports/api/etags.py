"""Weak ETags for the feed and a report's detail, and If-None-Match (304 Not Modified).

An ETag is derived from what the page shows, without rendering it: each report's reference,
updated_at (every change through reports.lifecycle touches it), supporters count and photos;
for the detail also its citizen-visible timeline; for a feed page also its next and previous
links. The language and the viewer are part of it, since names and the reporter's name
differ by language and by viewer. It is weak: two responses with the same tag mean the same,
not the same bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.utils.http import parse_etags
from django.utils.translation import get_language
from rest_framework.request import Request

from reports.media import url_epoch
from reports.models import Report


def _weak_etag(request: Request, parts: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for part in (get_language() or "", str(request.user.pk or ""), *parts):
        digest.update(part.encode() + b"\x00")
    return f'W/"{digest.hexdigest()[:32]}"'


def _report_version(report: Report, viewer: int | None) -> str:
    # A photo processed (or processed again after staff changed its boxes) has new URLs.
    photos = ",".join(f"{photo.pk}:{photo.public_image.name}" for photo in report.photos.all())
    # A private report's photo URLs expire, and so do those of the unobscured copies its
    # reporter gets (reports.privacy): a new period of them is a new version.
    expiring = not report.is_public or (viewer is not None and viewer == report.reporter_id)
    urls = str(url_epoch()) if expiring else ""
    return (
        f"{report.reference}|{report.updated_at.isoformat()}|{report.supporters_count}|{photos}"
        f"|{urls}"
    )


def feed_etag(request: Request, reports: Iterable[Report], links: Iterable[str | None]) -> str:
    return _weak_etag(
        request,
        [
            *(_report_version(report, request.user.pk) for report in reports),
            *(link or "" for link in links),
        ],
    )


def report_etag(request: Request, report: Report) -> str:
    """For a report from selectors.report_detail (its timeline prefetched)."""
    events = ",".join(str(event.pk) for event in report.public_events)  # type: ignore[attr-defined]
    return _weak_etag(request, [_report_version(report, request.user.pk), events])


def not_modified(request: Request, etag: str) -> bool:
    """Whether If-None-Match names this ETag (weak comparison) or is `*`."""
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    tags = parse_etags(header)
    return "*" in tags or etag.removeprefix("W/") in {tag.removeprefix("W/") for tag in tags}
