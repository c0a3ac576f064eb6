"""Photo files: signed URLs, and the answer that serves one.

The web server never serves MEDIA_ROOT by itself. A photo's URL carries a signature of its
file name, made with SECRET_KEY, so it can only come from an answer that showed the photo to
someone allowed to see it (the API, Open311 and the admin take their reports from
reports.selectors). A public report's photos get URLs that never expire, so apps and
Open311 clients can keep them; a private report's photos (and every photo in the admin) get
URLs that expire after one to two PHOTO_URL_MAX_AGE periods, so a leaked link dies soon.
Stored names are random (reports.models.photo_upload_to): nothing can be guessed either.
Only a photo's public rendition (faces and plates obscured, reports.privacy) ever gets a
URL that never expires; its evidence copy is served by expiring URLs alone.

With MEDIA_SERVE set, Django only checks the signature and hands the sending of the file to
the web server (X-Accel-Redirect for nginx, X-Sendfile for Apache or lighttpd). With the
photos in a shared store (PHOTO_STORAGE=s3), it checks the signature and redirects to the
store's presigned URL of the file: the bucket stays private, and our URLs stay as they are.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import time
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.views.decorators.http import require_safe

SALT = "reports.media.photo"
# The names reports.models' upload_to functions give: nothing else is ever served.
STORED_NAME = re.compile(
    r"(?:photos|thumbnails|public|public-thumbnails)/\d{4}/\d{2}/[0-9a-f]{32}\.jpg"
)
# The evidence copy (unobscured, reports.privacy) is served only by URLs that expire, even
# if a URL that never expires was ever signed for it.
EVIDENCE_NAME = re.compile(r"(?:photos|thumbnails)/")
SERVE_MODES = ("django", "x-accel-redirect", "x-sendfile")


def _signature(name: str, expires: int | None) -> str:
    """Signer(salt=SALT).signature of the name and expiry, from a keyed HMAC made once per
    secret (Signer derives its key again for every value: a cold feed page signs a hundred
    URLs; tests/reports/test_photo_urls.py checks both give the same)."""
    mac = _keyed_mac(settings.SECRET_KEY).copy()
    mac.update(f"{name}|{expires or ''}".encode())
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


@functools.lru_cache(maxsize=4)
def _keyed_mac(secret: str) -> hmac.HMAC:
    """What django.core.signing.salted_hmac keys for Signer(salt=SALT) (its sha256)."""
    key = hashlib.sha256(f"{SALT}signer".encode() + secret.encode()).digest()
    return hmac.new(key, digestmod=hashlib.sha256)


@functools.lru_cache(maxsize=65536)
def _signed_url(secret: str, media_url: str, name: str, expires: int | None) -> str:
    """A photo's URL, signed once per process: a feed page shows forty of them, and a
    public photo's URL (or a private one's for the current period) never changes. Keyed on
    the secret and MEDIA_URL too, so a change of settings makes new URLs."""
    # What urlencode gives for these: a whole number and a URL-safe base64 signature.
    signature = _signature(name, expires)
    query = f"s={signature}" if expires is None else f"e={expires}&s={signature}"
    return f"{media_url}{name}?{query}"


def url_epoch(now: float | None = None) -> int:
    """The current period of expiring URLs: every URL made in one period is the same, and
    an answer's ETag changes with the period (reports.api.etags)."""
    moment = time.time() if now is None else now
    return int(moment // settings.PHOTO_URL_MAX_AGE)


def photo_url(name: str, *, expiring: bool) -> str:
    """The signed URL (path and query) of a stored photo file."""
    expires = (url_epoch() + 2) * settings.PHOTO_URL_MAX_AGE if expiring else None
    return _signed_url(settings.SECRET_KEY, settings.MEDIA_URL, name, expires)


def _valid(name: str, request: HttpRequest) -> bool:
    raw_expires = request.GET.get("e")
    expires: int | None = None
    if raw_expires is not None:
        if not raw_expires.isdigit():
            return False
        expires = int(raw_expires)
        if expires <= time.time():
            return False
    signature = request.GET.get("s", "")
    return hmac.compare_digest(signature.encode(), _signature(name, expires).encode())


@require_safe
def photo_file(request: HttpRequest, name: str) -> HttpResponseBase:
    """The photo file, if the URL's signature is right and unexpired; 404 otherwise, never
    saying which (a wrong signature and a missing file look the same)."""
    if not STORED_NAME.fullmatch(name) or not _valid(name, request):
        raise Http404
    expiring = "e" in request.GET
    if not expiring and EVIDENCE_NAME.match(name):
        raise Http404
    storage = storages["default"]
    if not isinstance(storage, FileSystemStorage):
        return _redirect_to_store(storage, name, expiring=expiring)
    path = Path(settings.MEDIA_ROOT, name)
    mode = settings.MEDIA_SERVE
    response: HttpResponseBase
    if mode == "x-accel-redirect":
        response = HttpResponse(content_type="image/jpeg")
        response["X-Accel-Redirect"] = f"{settings.MEDIA_ACCEL_REDIRECT_PREFIX}{name}"
    elif mode == "x-sendfile":
        response = HttpResponse(content_type="image/jpeg")
        response["X-Sendfile"] = str(path.resolve())
    else:
        try:
            handle = path.open("rb")
        except OSError as error:
            raise Http404 from error
        response = FileResponse(handle, content_type="image/jpeg")
    # Private photos stay out of shared caches; public ones never change (new photo, new name).
    response["Cache-Control"] = (
        f"private, max-age={settings.PHOTO_URL_MAX_AGE}"
        if expiring
        else "public, max-age=31536000, immutable"
    )
    return response


def _redirect_to_store(storage: Storage, name: str, *, expiring: bool) -> HttpResponseBase:
    """A photo in a shared store (an S3-compatible bucket, PHOTO_STORAGE=s3): a redirect to
    the store's own URL for it, presigned for PHOTO_STORAGE_URL_SECONDS. The redirect is
    cached for half that, so no cached one outlives its target; a private photo's only by
    the client."""
    response = HttpResponseRedirect(storage.url(name))
    seconds = settings.PHOTO_STORAGE_URL_SECONDS // 2
    response["Cache-Control"] = f"{'private' if expiring else 'public'}, max-age={seconds}"
    return response
