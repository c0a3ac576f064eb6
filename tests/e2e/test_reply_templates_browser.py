"""Reply templates and the report page's context in a real Chromium (Playwright): a staff
member picks a template in the resolve form, edits the text it filled in and resolves; a
dispatcher sees what is around a report. Screenshots go to test-artifacts/."""

from __future__ import annotations

import pytest

from reports.models import ReplyTemplate, Report, ReportStatus
from reports.replies import reply_template_render
from tests.conftest import PHU_XUAN_POINT
from tests.e2e.test_admin_browser import ARTIFACTS, PASSWORD, browser_page, log_in  # noqa: F401
from tests.images import image_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EDIT = " Đã thay 2 bóng LED mới."


def test_a_template_fills_the_resolution_note_which_staff_edit_and_send(
    browser_page,  # noqa: F811
    live_server,
    staff_a,
    citizen,
    file_report,
    tmp_path,
):
    page = browser_page
    reference = file_report(citizen, description="Đèn đường hỏng ở Lê Lợi").json()["reference"]
    lighting = ReplyTemplate.objects.get(code="resolved_street_lighting", language="vi")
    generic = ReplyTemplate.objects.get(code="resolved", language="vi")
    result_photo = tmp_path / "after.jpg"
    result_photo.write_bytes(image_bytes("JPEG", size=(800, 600)))
    log_in(page, live_server, staff_a)

    page.goto(f"{live_server.url}/admin/reports/report/")
    page.click(f"text={reference}")
    page.click(".report-action-accept")
    page.click("input[type=submit]")
    page.wait_for_selector(".messagelist")
    page.click(".report-action-resolve")
    # The picker is the form's first field; the category's own template comes first.
    # Hidden without a script: the script shows it once the page has loaded.
    page.wait_for_selector("#id_reply_template", state="visible")
    picker = page.locator("#id_reply_template")
    labels = picker.locator("option").all_inner_texts()
    assert labels[1:3] == [lighting.name, generic.name]

    picker.select_option(label=lighting.name)
    report = Report.objects.select_related("category", "area", "agency").get(reference=reference)
    filled = reply_template_render(template=lighting, report=report)
    note = page.locator("#id_note")
    assert note.input_value() == filled
    assert reference in filled
    assert "{" not in filled

    # Staff edit the text; picking another template then asks before replacing their words.
    note.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(EDIT)
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    picker.select_option(label=generic.name)
    assert asked == ["Thay nội dung anh/chị đã viết bằng mẫu này?"]
    assert note.input_value() == filled + EDIT
    assert picker.input_value() == str(lighting.pk)  # the picker shows what the text is from
    page.set_input_files("#id_photos", str(result_photo))
    page.screenshot(path=ARTIFACTS / "admin-reply-template-resolve.png", full_page=True)

    page.click("input[type=submit]")
    page.wait_for_selector(".messagelist")
    page.screenshot(path=ARTIFACTS / "admin-reply-template-resolved.png", full_page=True)

    report.refresh_from_db()
    assert report.status == ReportStatus.RESOLVED
    assert report.events.latest("id").message == filled + EDIT
    # The citizen's app shows the edited note.
    detail = page.request.get(f"{live_server.url}/api/v1/reports/{reference}").json()
    assert detail["timeline"][-1]["message"] == filled + EDIT


def test_a_dispatcher_sees_what_is_around_a_report(
    browser_page,  # noqa: F811
    live_server,
    dispatcher,
    citizen,
    other_citizen,
    file_report,
):
    page = browser_page
    lat, lng = PHU_XUAN_POINT
    first = file_report(other_citizen, lat=lat + 0.0004, lng=lng).json()["reference"]
    earlier = file_report(citizen, category="garbage", description="Rác ở góc đường").json()
    reference = file_report(citizen, description="Đèn vẫn chưa sáng").json()["reference"]
    log_in(page, live_server, dispatcher)

    page.goto(f"{live_server.url}/admin/reports/report/")
    page.click(f"text={reference}")
    page.locator("#report-context").scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "admin-report-context-dispatcher.png", full_page=True)

    assert first in page.locator("#report-context-nearby").inner_text()
    assert earlier["reference"] in page.locator("#report-context-same-place").inner_text()
    assert "Người dân này đã gửi 2 phản ánh." in page.locator("#report-context").inner_text()
    assert earlier["reference"] in page.locator("#report-context-reporter").inner_text()

    # "Merge into this" opens the merge form with the original filled in.
    page.click("#report-context-nearby .merge-into")
    page.wait_for_selector("#id_original")
    assert page.locator("#id_original").input_value() == first
    page.click("input[type=submit]")
    page.wait_for_selector(".messagelist")
    page.screenshot(path=ARTIFACTS / "admin-report-context-merged.png", full_page=True)
    merged = Report.objects.get(reference=reference)
    assert merged.duplicate_of is not None
    assert merged.duplicate_of.reference == first


def test_without_scripts_a_templates_link_fills_the_note(
    browser_page,  # noqa: F811
    live_server,
    staff_a,
    citizen,
    file_report,
):
    reference = file_report(citizen).json()["reference"]
    lighting = ReplyTemplate.objects.get(code="resolved_street_lighting", language="vi")
    context = browser_page.context.browser.new_context(
        java_script_enabled=False, viewport={"width": 1400, "height": 900}, locale="vi-VN"
    )
    page = context.new_page()
    log_in(page, live_server, staff_a)
    report = Report.objects.select_related("category", "area", "agency").get(reference=reference)

    page.goto(f"{live_server.url}/admin/reports/report/{report.pk}/act/resolve/")
    assert not page.locator("#id_reply_template").is_visible()
    page.click(f".reply-template-links >> text={lighting.name}")
    page.wait_for_url(f"**/act/resolve/?template={lighting.pk}")
    page.screenshot(path=ARTIFACTS / "admin-reply-template-no-script.png", full_page=True)

    assert page.locator("#id_note").input_value() == reply_template_render(
        template=lighting, report=report
    )
    context.close()
