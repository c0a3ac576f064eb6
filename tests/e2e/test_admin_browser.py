"""A staff member works a report in the admin in a real Chromium (Playwright).

Needs Debian's chromium (.ci/run installs it). Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from reports.models import Report, ReportStatus
from tests.conftest import need

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "correct-horse-42"


@pytest.fixture
def browser_page() -> Iterator[object]:
    need(Path(CHROMIUM).exists(), "Debian's chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test
    # itself stay synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="vi-VN")
        try:
            yield page
        finally:
            browser.close()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def test_staff_log_in_and_resolve_a_report_with_a_photo(
    browser_page, live_server, staff_a, citizen, file_report, tmp_path
):
    page = browser_page
    reference = file_report(citizen, description="Đèn đường hỏng ở Lê Lợi").json()["reference"]
    result_photo = tmp_path / "after.jpg"
    from tests.images import image_bytes

    result_photo.write_bytes(image_bytes("JPEG", size=(800, 600)))

    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "0" + staff_a.phone[3:])  # the national form
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    page.screenshot(path=ARTIFACTS / "admin-index.png", full_page=True)

    page.goto(f"{live_server.url}/admin/reports/report/")
    assert page.locator(f"text={reference}").count() == 1
    page.screenshot(path=ARTIFACTS / "admin-report-list.png", full_page=True)

    page.click(f"text={reference}")
    page.click(".report-action-accept")
    page.click("input[type=submit]")
    page.wait_for_selector(".messagelist")
    page.click(".report-action-resolve")
    page.fill("#id_note", "Đã thay bóng đèn mới, đèn sáng bình thường.")
    page.set_input_files("#id_photos", str(result_photo))
    page.screenshot(path=ARTIFACTS / "admin-resolve-form.png", full_page=True)
    page.click("input[type=submit]")
    page.wait_for_selector(".messagelist")
    page.screenshot(path=ARTIFACTS / "admin-report-resolved.png", full_page=True)

    report = Report.objects.get(reference=reference)
    assert report.status == ReportStatus.RESOLVED
    assert report.photos.filter(kind="result").count() == 1
    assert "Đã thay bóng đèn mới" in page.content()

    # The citizen's app shows the result: the note and the result photo.
    detail = page.request.get(f"{live_server.url}/api/v1/reports/{reference}").json()
    assert detail["status"] == "resolved"
    assert [photo["kind"] for photo in detail["photos"]] == ["evidence", "result"]
    assert detail["timeline"][-1]["message"] == "Đã thay bóng đèn mới, đèn sáng bình thường."
    result_photo_url = detail["photos"][1]["url"]
    assert page.request.get(result_photo_url).status == 200


def log_in(page, live_server, user, *, national: bool = True) -> None:
    """Sign in to the admin as `user`, with the phone as staff type it (0905...) or, with
    national=False, in the international form (+84905...)."""
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "0" + user.phone[3:] if national else user.phone)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


def _log_in(page, live_server, user) -> None:
    log_in(page, live_server, user, national=False)


def test_a_dispatcher_routes_a_report_from_the_queue(
    browser_page, live_server, dispatcher, citizen, file_report, phu_xuan_committee
):
    page = browser_page
    reference = file_report(citizen, category="other", description="Cây đổ chắn lối đi").json()[
        "reference"
    ]
    _log_in(page, live_server, dispatcher)

    page.goto(f"{live_server.url}/admin/reports/report/")
    page.click(".triage-queue")
    page.wait_for_selector(f"text={reference}")
    page.screenshot(path=ARTIFACTS / "admin-dispatcher-queue.png", full_page=True)
    page.click(f"text={reference}")
    page.screenshot(path=ARTIFACTS / "admin-report-page-dispatcher.png", full_page=True)
    page.click(".report-action-dispatch")
    page.select_option("#id_agency", str(phu_xuan_committee.pk))
    page.fill("#id_message", "Thuộc UBND phường Phú Xuân")
    page.click("input[type=submit]")
    page.wait_for_selector(".messagelist")

    report = Report.objects.get(reference=reference)
    assert report.status == ReportStatus.ROUTED
    assert report.agency == phu_xuan_committee
