"""Absolute URLs for an answer's links (photo URLs above all): what the request's
build_absolute_uri gives, with the request's own prefix worked out once per request. A feed
page holds about 90 photo links and an Open311 list up to 1,000; each build_absolute_uri
validates the host again."""

from __future__ import annotations

from typing import Any

_PREFIX = "_hues_absolute_prefix"


def absolute_url(request: Any, url: str) -> str:
    """`url` made absolute against `request` (None: left as it is). A URL that is already
    absolute (a storage's own, e.g. S3) or protocol-relative goes through build_absolute_uri
    as it would have."""
    if request is None:
        return url
    if not url.startswith("/") or url.startswith("//"):
        return str(request.build_absolute_uri(url))
    prefix = getattr(request, _PREFIX, None)
    if prefix is None:
        prefix = str(request.build_absolute_uri("/"))[:-1]
        setattr(request, _PREFIX, prefix)
    return f"{prefix}{url}"
