"""Staff redaction in a real Chromium (Playwright, issue 15): a staff member opens a photo's
faces-and-plates page from the report, drags a box over the photo on the canvas, and the
public rendition the API serves is obscured there, and only there. Screenshots go to
test-artifacts/."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from reports import detection
from reports.models import Event, PhotoRegion, Report
from tests.e2e.test_admin_browser import ARTIFACTS, PASSWORD, browser_page, log_in  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A part of the check picture with detail and no face or plate, in the photo's pixels.
BOX = (420, 40, 120, 90)


def _public_image(page, live_server, reference: str) -> Image.Image:
    detail = page.request.get(f"{live_server.url}/api/v1/reports/{reference}").json()
    [photo] = detail["photos"]
    assert "/media/public/" in photo["url"]
    return Image.open(io.BytesIO(page.request.get(photo["url"]).body())).convert("L")


def _detail(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    x, y, w, h = box
    gray = np.asarray(image.crop((x, y, x + w, y + h)), dtype=np.float32)
    return float(np.abs(np.diff(gray, axis=0)).mean() + np.abs(np.diff(gray, axis=1)).mean())


def test_staff_draw_a_box_and_the_public_photo_is_obscured_there(
    browser_page,  # noqa: F811
    live_server,
    staff_a,
    citizen,
    file_report,
):
    page = browser_page
    upload = SimpleUploadedFile("street.jpg", detection.CHECK_PICTURE.read_bytes())
    reference = file_report(citizen, photos=[upload]).json()["reference"]
    report = Report.objects.get(reference=reference)
    photo = report.photos.get()
    before = _public_image(page, live_server, reference)

    log_in(page, live_server, staff_a)
    page.goto(f"{live_server.url}/admin/reports/report/{report.pk}/change/")
    page.screenshot(path=ARTIFACTS / "admin-photo-privacy-report.png", full_page=True)
    page.click(".photo-redact-link")
    canvas = page.locator("#redaction-canvas")
    canvas.wait_for()
    page.wait_for_function(
        "() => { const c = document.getElementById('redaction-canvas');"
        " return c.getContext('2d').getImageData(10, 10, 1, 1).data[3] > 0; }"
    )
    page.screenshot(path=ARTIFACTS / "admin-photo-redaction-before.png", full_page=True)

    shown = canvas.bounding_box()
    scale = shown["width"] / photo.width
    x, y, w, h = BOX
    page.select_option("#redaction-kind", "other")
    page.mouse.move(shown["x"] + x * scale, shown["y"] + y * scale)
    page.mouse.down()
    page.mouse.move(shown["x"] + (x + w / 2) * scale, shown["y"] + (y + h / 2) * scale, steps=5)
    page.mouse.move(shown["x"] + (x + w) * scale, shown["y"] + (y + h) * scale, steps=5)
    page.mouse.up()
    page.wait_for_selector(".messagelist")
    page.wait_for_selector("#redaction-public")
    page.screenshot(path=ARTIFACTS / "admin-photo-redaction-after.png", full_page=True)

    region = photo.regions.get(source=PhotoRegion.Source.STAFF)
    # The drawn box, in the photo's pixels, within the rounding of the scaled canvas.
    assert abs(region.x - x) <= 3
    assert abs(region.y - y) <= 3
    assert abs(region.width - w) <= 4
    assert abs(region.height - h) <= 4
    assert report.events.filter(kind=Event.Kind.PHOTO_REDACTED, is_public=False).count() == 1
    after = _public_image(page, live_server, reference)
    assert _detail(after, BOX) < 0.5 * _detail(before, BOX)
    # Elsewhere, away from every obscured area, the public photo did not change.
    far = (20, 300, 120, 400)
    unchanged = np.abs(
        np.asarray(after.crop(far), dtype=np.float32)
        - np.asarray(before.crop(far), dtype=np.float32)
    )
    assert unchanged.mean() < 2.0
    after.save(ARTIFACTS / "photo-redaction-public-after.png")
    before.save(ARTIFACTS / "photo-redaction-public-before.png")
