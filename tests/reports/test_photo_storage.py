"""Photo files in a shared store (PHOTO_STORAGE=s3): settings, not code. The bucket stays
private; a signed URL of ours is checked first, then redirected to the store's presigned
URL. Django's InMemoryStorage stands in for a store that is not this machine's disk (it
runs no network), and a real S3Storage presigns offline."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import InMemoryStorage, storages
from django.test import Client

from accounts.models import User
from reports import privacy
from reports.media import photo_url
from reports.models import Report

pytestmark = pytest.mark.django_db

STORE_URL = "https://photos.example.vn/hues/"


@pytest.fixture
def shared_store(settings: Any) -> InMemoryStorage:
    """A default storage that is not a FileSystemStorage, as the bucket is."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.InMemoryStorage",
            "OPTIONS": {"base_url": STORE_URL},
        },
    }
    store = storages["default"]
    assert isinstance(store, InMemoryStorage)
    return store


def test_a_photo_is_written_to_the_store_once_and_never_read_back(
    shared_store: InMemoryStorage,
    make_report: Callable[..., Report],
    citizen: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[str] = []
    saved: list[str] = []
    real_open, real_save = InMemoryStorage._open, InMemoryStorage._save
    monkeypatch.setattr(
        InMemoryStorage,
        "_open",
        lambda self, name, mode="rb": opened.append(name) or real_open(self, name, mode),
    )
    monkeypatch.setattr(
        InMemoryStorage,
        "_save",
        lambda self, name, content: saved.append(name) or real_save(self, name, content),
    )

    report = make_report(citizen, redact=False)

    photo = report.photos.get()
    assert saved == [photo.image.name, photo.thumbnail.name]
    assert opened == []  # measured from the bytes in hand: the bucket is asked nothing
    assert (photo.width, photo.height) != (0, 0)
    assert shared_store.exists(photo.image.name)

    # The privacy step, in a worker, reads the evidence copy once and writes the rendition.
    privacy.photo_redact(photo_id=photo.pk)

    photo.refresh_from_db()
    assert set(opened) == {photo.image.name}  # nothing but the evidence copy is read
    assert saved[2:] == [photo.public_image.name, photo.public_thumbnail.name]


@pytest.mark.parametrize(("public", "cache"), [(True, "public"), (False, "private")])
def test_a_signed_photo_url_redirects_to_the_store(
    shared_store: InMemoryStorage,
    make_report: Callable[..., Report],
    citizen: User,
    settings: Any,
    public: bool,
    cache: str,
) -> None:
    settings.PHOTO_STORAGE_URL_SECONDS = 300
    photo = make_report(citizen, is_public=public).photos.get()

    response = Client().get(photo_url(photo.public_image.name, expiring=not public))

    assert response.status_code == 302
    assert response["Location"] == f"{STORE_URL}{photo.public_image.name}"
    assert response["Cache-Control"] == f"{cache}, max-age=150"  # half the presigned URL's life


def test_a_bad_signature_is_404_and_says_nothing_of_the_store(
    shared_store: InMemoryStorage, make_report: Callable[..., Report], citizen: User
) -> None:
    photo = make_report(citizen).photos.get()

    response = Client().get(f"/media/{photo.image.name}?s=forged")

    assert response.status_code == 404
    assert "Location" not in response


# Settings


@pytest.fixture
def reload_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    import hues.settings

    names: list[str] = []

    def load(**env: str) -> Any:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
            names.append(name)
        return importlib.reload(hues.settings)

    monkeypatch.setenv("SECRET_KEY", "x" * 50)
    yield load
    for name in names:
        monkeypatch.delenv(name, raising=False)
    importlib.reload(hues.settings)


S3 = {
    "PHOTO_STORAGE": "s3",
    "S3_BUCKET": "hues-photos",
    "S3_ENDPOINT_URL": "https://s3.example.vn",
    "S3_REGION": "hn-1",
    "S3_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "S3_SECRET_ACCESS_KEY": "secret-example",
    "S3_ADDRESSING_STYLE": "path",
}


def test_the_default_keeps_photos_under_media_root(reload_settings: Callable[..., Any]) -> None:
    loaded = reload_settings()

    assert loaded.PHOTO_STORAGE == "filesystem"
    assert not hasattr(loaded, "STORAGES")  # Django's default: FileSystemStorage on MEDIA_ROOT


def test_s3_settings_make_a_private_bucket_the_default_storage(
    reload_settings: Callable[..., Any],
) -> None:
    loaded = reload_settings(**S3)

    default = loaded.STORAGES["default"]
    assert default["BACKEND"] == "storages.backends.s3.S3Storage"
    options = default["OPTIONS"]
    assert options["bucket_name"] == "hues-photos"
    assert options["endpoint_url"] == "https://s3.example.vn"
    assert options["default_acl"] is None
    assert options["querystring_auth"] is True
    assert options["querystring_expire"] == 300
    assert options["file_overwrite"] is False
    assert loaded.STORAGES["staticfiles"]["BACKEND"].endswith("StaticFilesStorage")


def test_the_s3_storage_of_those_settings_presigns_a_photo_url_offline(
    reload_settings: Callable[..., Any],
) -> None:
    from storages.backends.s3 import S3Storage

    options = reload_settings(**S3).STORAGES["default"]["OPTIONS"]
    store = S3Storage(**options)

    url = urlsplit(store.url("photos/2026/12/" + "a" * 32 + ".jpg"))

    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}" == "https://s3.example.vn"
    assert url.path == "/hues-photos/photos/2026/12/" + "a" * 32 + ".jpg"
    assert query["X-Amz-Expires"] == ["300"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Signature"][0]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PHOTO_STORAGE": "s3"}, "S3_BUCKET"),
        ({**S3, "MEDIA_SERVE": "x-accel-redirect"}, "MEDIA_SERVE"),
        ({"PHOTO_STORAGE": "ftp"}, "filesystem or s3"),
    ],
)
def test_incomplete_or_unknown_storage_settings_stop_the_start(
    reload_settings: Callable[..., Any], env: dict[str, str], message: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        reload_settings(**env)
