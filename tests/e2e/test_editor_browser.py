"""The back office as an editor, in a real Chromium (Playwright): a dispatcher recategorises a
HEPCO report to urban order and it moves to the ward committee with a new deadline; a
dispatcher merges two reports and the duplicate's reporter sees the original through the
API; a hotline operator files a phone report that is routed. Screenshots go to
test-artifacts/."""

from __future__ import annotations

import pytest

from accounts.models import Role
from reports.models import Agency, Report, ReportStatus
from tests.conftest import PHU_XUAN_POINT
from tests.e2e.test_admin_browser import ARTIFACTS, PASSWORD, browser_page, log_in  # noqa: F401
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _open(page, live_server, reference: str) -> None:
    page.goto(f"{live_server.url}/admin/reports/report/")
    page.click(f"text={reference}")
    page.wait_for_selector(".report-actions, .submit-row, #content-main")


def test_recategorising_a_hepco_report_to_urban_order_moves_it_to_the_ward_committee(
    browser_page,  # noqa: F811
    live_server,
    dispatcher,
    citizen,
    file_report,
):
    page = browser_page
    # Drainage has a short deadline (3 working days), urban order a long one (10).
    reference = file_report(
        citizen, category="drainage", description="Quán lấn chiếm vỉa hè, đổ nước thải ra cống"
    ).json()["reference"]
    before = Report.objects.select_related("agency").get(reference=reference)
    assert before.agency.code == "hepco"
    log_in(page, live_server, dispatcher)

    _open(page, live_server, reference)
    page.click(".report-action-correct")
    page.wait_for_selector("#id_category")
    page.select_option("#id_category", value="urban_order")
    page.fill("#id_reason", "Người dân chọn nhầm lĩnh vực: quán lấn chiếm vỉa hè.")
    page.screenshot(path=ARTIFACTS / "admin-correct-category-form.png", full_page=True)
    page.click("input[type=submit]")
    page.wait_for_selector(".messagelist")
    page.screenshot(path=ARTIFACTS / "admin-correct-category-done.png", full_page=True)

    after = Report.objects.select_related("agency", "category").get(reference=reference)
    committee = Agency.objects.get(area=after.area, code__startswith="ward-")
    assert after.category.code == "urban_order"
    assert after.agency == committee
    assert after.status == ReportStatus.ROUTED
    assert after.due_at > before.due_at
    # The page shows it: the report now names the ward committee.
    assert str(committee) in page.locator("#content").inner_text()
    # The citizen's app shows the corrected category.
    detail = page.request.get(f"{live_server.url}/api/v1/reports/{reference}").json()
    assert detail["category"]["code"] == "urban_order"


def test_a_dispatcher_merges_two_reports_and_the_duplicates_reporter_sees_the_original(
    browser_page,  # noqa: F811
    live_server,
    dispatcher,
    citizen,
    other_citizen,
    file_report,
):
    page = browser_page
    lat, lng = PHU_XUAN_POINT
    original = file_report(citizen, description="Đèn đường tắt cả dãy").json()["reference"]
    duplicate = file_report(
        other_citizen, lat=lat + 0.0003, lng=lng, description="Đèn đường không sáng"
    ).json()["reference"]
    log_in(page, live_server, dispatcher)

    _open(page, live_server, duplicate)
    page.click(".report-action-merge")
    page.wait_for_selector("#id_original")
    page.fill("#id_original", original)
    page.fill("#id_message", "Cùng một dãy đèn với phản ánh đã tiếp nhận.")
    page.screenshot(path=ARTIFACTS / "admin-merge-form.png", full_page=True)
    page.click("input[type=submit]")
    page.wait_for_selector(".messagelist")
    page.screenshot(path=ARTIFACTS / "admin-merge-done.png", full_page=True)

    merged = Report.objects.get(reference=duplicate)
    assert merged.status == ReportStatus.MERGED
    assert merged.duplicate_of.reference == original
    # The duplicate's reporter, in the app: their report names the original, which they
    # now follow.
    token = page.request.post(
        f"{live_server.url}/api/v1/auth/token",
        data={"phone": other_citizen.phone, "password": PASSWORD},
    )
    assert token.ok, token.text()
    bearer = {"Authorization": f"Bearer {token.json()['access']}"}
    mine = page.request.get(f"{live_server.url}/api/v1/reports/{duplicate}", headers=bearer)
    assert mine.ok
    assert mine.json()["duplicate_of"] == original
    followed = page.request.get(f"{live_server.url}/api/v1/reports/{original}", headers=bearer)
    assert followed.ok
    assert followed.json()["supporters"] == 1
    # The public no longer sees the duplicate.
    assert page.request.get(f"{live_server.url}/api/v1/reports/{duplicate}").status == 404


def test_a_hotline_operator_files_a_phone_report_that_is_routed(
    browser_page,  # noqa: F811
    live_server,
    reference_data,
):
    page = browser_page
    operator = UserFactory(full_name="Tổng đài viên", role=Role.HOTLINE)
    log_in(page, live_server, operator)

    page.goto(f"{live_server.url}/admin/reports/report/")
    page.click("a[href$='/admin/reports/report/file/']")
    page.wait_for_selector("#id_channel")
    page.select_option("#id_channel", value="hotline")
    page.select_option("#id_category", value="garbage")
    page.fill("#id_description", "Người gọi báo rác tồn đọng trước chợ Đông Ba")
    page.select_option("#id_area", value="19753")
    page.fill("#id_address", "Chợ Đông Ba, đường Trần Hưng Đạo")
    page.fill("#id_caller_name", "Bà Lan")
    page.fill("#id_caller_phone", "0905 123 999")
    page.check("#id_caller_consents")
    page.screenshot(path=ARTIFACTS / "admin-hotline-file-form.png", full_page=True)
    page.click("input[type=submit]")
    page.wait_for_selector(".messagelist")
    page.screenshot(path=ARTIFACTS / "admin-hotline-filed.png", full_page=True)

    report = Report.objects.select_related("agency", "channel", "area").get(
        description="Người gọi báo rác tồn đọng trước chợ Đông Ba"
    )
    assert report.channel.code == "hotline"
    assert report.filed_by == operator
    assert report.caller_phone == "+84905123999"
    assert report.caller_consent_at is not None
    assert report.area.code == "19753"
    assert report.status == ReportStatus.ROUTED
    assert report.agency.code == "hepco"
    assert report.due_at is not None
    assert report.reference in page.locator(".messagelist").inner_text()
