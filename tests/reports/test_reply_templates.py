"""Reply templates: kept in the admin by administrators and, for their own agency, managers;
filled for a report (placeholders only, nothing else); offered in every admin form that writes
to a citizen, those of the report's category and agency first, in the staff member's language;
picked with a script or, without one, with a link that opens the form filled in."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from hues.city import current_city
from hues.dates import short_time
from hues.replies import PURPOSES, fill, placeholders_left, unknown_placeholders
from reports import lifecycle
from reports.cities import city_load
from reports.models import Agency, Category, ReplyPurpose, ReplyTemplate, ReportStatus
from reports.replies import reply_template_render
from reports.selectors import reply_templates_for
from tests.factories import UserFactory
from tests.images import image_bytes
from tests.reports.helpers import act_url, admin_client

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/reports/replytemplate/"
ADD = "/admin/reports/replytemplate/add/"


def change_page(template: ReplyTemplate) -> str:
    return reverse("admin:reports_replytemplate_change", args=[template.pk])


def template(**fields: object) -> ReplyTemplate:
    fields.setdefault("purpose", ReplyPurpose.RESOLUTION)
    fields.setdefault("language", "vi")
    fields.setdefault("name", "Mẫu thử")
    fields.setdefault("text", "Đã xử lý phản ánh {reference}.")
    return ReplyTemplate.objects.create(**fields)


@pytest.fixture
def other_manager(phu_xuan_committee):
    """The Phú Xuân ward committee's manager: another agency than HEPCO."""
    return UserFactory(full_name="Manager Phú Xuân", role=Role.MANAGER, agency=phu_xuan_committee)


@pytest.fixture
def hepco_template(hepco) -> ReplyTemplate:
    return template(name="Mẫu riêng của HEPCO", agency=hepco, text="HEPCO: {reference} xong.")


@pytest.fixture
def ward_template(phu_xuan_committee) -> ReplyTemplate:
    return template(name="Mẫu riêng của phường", agency=phu_xuan_committee, text="Phường: xong.")


# The text: placeholders only


def test_the_purposes_are_one_list():
    assert set(ReplyPurpose.values) == set(PURPOSES)


def test_fill_replaces_the_placeholders_and_leaves_anything_else_visible():
    text = "Phản ánh {reference} ({category}) {unknown} {reference.__class__} {{x}} {0} {}"

    filled = fill(text, {"reference": "HUE-2026-000001", "category": "Rác"})

    assert filled == "Phản ánh HUE-2026-000001 (Rác) {unknown} {reference.__class__} {{x}} {0} {}"


def test_fill_reaches_no_attribute_of_the_report(routed_report):
    text = "{reference.reporter.phone} {reporter} {report.reporter.phone} {ward!r} {ward:>40}"
    hostile = template(text="x")
    hostile.text = text  # as if saved before the check

    filled = reply_template_render(template=hostile, report=routed_report)

    assert filled == text
    assert routed_report.reporter.phone not in filled


def test_unknown_placeholders_are_named_once_each():
    assert unknown_placeholders("{ward} {phone} {Ward} {phone} { ward }") == [
        "phone",
        "Ward",
        " ward ",
    ]
    assert unknown_placeholders("{reference} {category} {agency} {ward} {deadline}") == []
    assert placeholders_left("Xong {ward}, {deadline}, {ward}, {khác}") == ["ward", "deadline"]


def test_a_template_is_filled_with_the_reports_values_in_its_language(routed_report, hepco):
    vietnamese = template(text="{reference}|{category}|{agency}|{ward}|{deadline}")
    english = template(language="en", text="{reference}|{category}|{agency}|{ward}|{deadline}")
    deadline = short_time(routed_report.due_at)

    assert reply_template_render(template=vietnamese, report=routed_report) == (
        f"{routed_report.reference}|Điện chiếu sáng công cộng|{hepco.name}|Phường Phú Xuân|"
        f"{deadline}"
    )
    assert reply_template_render(template=english, report=routed_report) == (
        f"{routed_report.reference}|Street lighting|{hepco.name_en}|"
        f"{routed_report.area.name_en}|{deadline}"
    )


def test_a_value_the_report_lacks_leaves_its_placeholder_for_staff_to_write(triage_report):
    waiting = template(purpose=ReplyPurpose.REJECTION, text="{agency} / {deadline} / {reference}")

    filled = reply_template_render(template=waiting, report=triage_report)

    assert filled == f"{{agency}} / {{deadline}} / {triage_report.reference}"


# Which templates a report is offered


def test_the_templates_that_fit_a_report_come_most_specific_first(
    routed_report, hepco, phu_xuan_committee
):
    lighting = Category.objects.get(code="street_lighting")
    garbage = Category.objects.get(code="garbage")
    ReplyTemplate.objects.all().delete()
    generic = template(name="A chung")
    by_agency = template(name="B của HEPCO", agency=hepco)
    by_category = template(name="C chiếu sáng", category=lighting)
    both = template(name="D chiếu sáng HEPCO", category=lighting, agency=hepco)
    template(name="khác lĩnh vực", category=garbage)
    template(name="đơn vị khác", agency=phu_xuan_committee)
    template(name="tiếng Anh", language="en")
    template(name="mục đích khác", purpose=ReplyPurpose.REJECTION)
    template(name="ngừng dùng", is_active=False)

    offered = reply_templates_for(
        report=routed_report, purposes=[ReplyPurpose.RESOLUTION], language="vi"
    )

    assert offered == [both, by_category, by_agency, generic]


# The admin: who keeps which templates


def test_a_manager_lists_only_their_agencys_templates(
    manager, hepco_template, ward_template, reference_data
):
    generic = template(name="Mẫu chung của thành phố")

    text = admin_client(manager).get(CHANGELIST).content.decode()

    assert hepco_template.name in text
    assert ward_template.name not in text
    assert generic.name not in text


def test_another_agencys_manager_can_neither_see_nor_change_a_template(
    other_manager, hepco_template
):
    client = admin_client(other_manager)
    before = ReplyTemplate.objects.values().get(pk=hepco_template.pk)

    assert hepco_template.name not in client.get(CHANGELIST).content.decode()
    opened = client.get(change_page(hepco_template))
    posted = client.post(
        change_page(hepco_template),
        {
            "name": "Đổi tên",
            "purpose": ReplyPurpose.RESOLUTION,
            "language": "vi",
            "agency": hepco_template.agency_id,
            "text": "Đã đổi",
            "is_active": "on",
        },
    )

    # "No such template": back to the admin's index, never the page itself.
    assert opened.status_code == 302
    assert posted.status_code == 302
    assert hepco_template.name not in client.get(opened["Location"]).content.decode()
    assert ReplyTemplate.objects.values().get(pk=hepco_template.pk) == before


def test_a_manager_changes_their_agencys_template(manager, hepco_template, hepco):
    response = admin_client(manager).post(
        change_page(hepco_template),
        {
            "name": "Mẫu HEPCO đã sửa",
            "purpose": ReplyPurpose.RESOLUTION,
            "language": "vi",
            "agency": hepco.pk,
            "text": "HEPCO đã xử lý {reference} tại {ward}.",
            "is_active": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    hepco_template.refresh_from_db()
    assert hepco_template.name == "Mẫu HEPCO đã sửa"
    assert hepco_template.text == "HEPCO đã xử lý {reference} tại {ward}."


def test_a_manager_creates_templates_for_their_agency_only(manager, hepco, phu_xuan_committee):
    client = admin_client(manager)
    form = client.get(ADD).content.decode()
    agency_select = re.search(r'<select name="agency".*?</select>', form, re.S)

    foreign = client.post(
        ADD,
        {
            "name": "Mẫu cho phường",
            "purpose": ReplyPurpose.RESOLUTION,
            "language": "vi",
            "agency": phu_xuan_committee.pk,
            "text": "Xong.",
            "is_active": "on",
        },
    )
    city_wide = client.post(
        ADD,
        {
            "name": "Mẫu chung",
            "purpose": ReplyPurpose.RESOLUTION,
            "language": "vi",
            "agency": "",
            "text": "Xong.",
            "is_active": "on",
        },
    )
    own = client.post(
        ADD,
        {
            "name": "Mẫu HEPCO mới",
            "purpose": ReplyPurpose.QUESTION,
            "language": "vi",
            "agency": hepco.pk,
            "text": "Đề nghị cho biết số cột đèn ({reference}).",
            "is_active": "on",
        },
    )

    assert agency_select is not None
    assert re.findall(r'<option value="(\d+)"', agency_select[0]) == [str(hepco.pk)]
    assert foreign.status_code == 200
    assert city_wide.status_code == 200
    assert "errorlist" in foreign.content.decode()
    assert "errorlist" in city_wide.content.decode()
    assert own.status_code == 302
    assert list(
        ReplyTemplate.objects.filter(name__startswith="Mẫu").values_list("name", "agency")
    ) == [("Mẫu HEPCO mới", hepco.pk)]


def test_an_administrator_keeps_every_template(
    administrator, hepco_template, ward_template, reference_data
):
    client = admin_client(administrator)

    listing = client.get(CHANGELIST).content.decode()
    created = client.post(
        ADD,
        {
            "name": "Mẫu chung mới",
            "purpose": ReplyPurpose.PUBLIC_UPDATE,
            "language": "en",
            "category": "",
            "agency": "",
            "text": "We are on it: {reference}.",
            "is_active": "on",
        },
    )

    assert hepco_template.name in listing
    assert ward_template.name in listing
    assert created.status_code == 302
    assert ReplyTemplate.objects.get(name="Mẫu chung mới").agency is None
    assert client.get(change_page(ward_template)).status_code == 200


@pytest.mark.parametrize("role", ["staff_a", "staff_b", "dispatcher"])
def test_other_roles_keep_no_template(role, request, hepco_template):
    client = admin_client(request.getfixturevalue(role))

    assert client.get(CHANGELIST).status_code == 403
    assert client.get(ADD).status_code == 403
    assert client.get(change_page(hepco_template)).status_code in (302, 403)


def test_an_unknown_placeholder_is_refused_with_the_known_ones_named(administrator):
    response = admin_client(administrator).post(
        ADD,
        {
            "name": "Mẫu sai",
            "purpose": ReplyPurpose.RESOLUTION,
            "language": "vi",
            "text": "Xong {reference} cho {phone} ở {ward}.",
            "is_active": "on",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )

    text = unescape(response.content.decode())
    assert response.status_code == 200
    assert (
        "Unknown placeholder(s): {phone}. Use only {reference}, {category}, {agency}, {ward}, "
        "{deadline}." in text
    )
    assert not ReplyTemplate.objects.filter(name="Mẫu sai").exists()


def test_the_template_list_does_not_grow_in_queries_with_its_rows(
    administrator, django_assert_max_num_queries, reference_data
):
    client = admin_client(administrator)
    hepco = Agency.objects.get(code="hepco")
    lighting = Category.objects.get(code="street_lighting")
    for number in range(30):
        template(name=f"Mẫu {number}", agency=hepco, category=lighting)

    with django_assert_max_num_queries(12):
        assert client.get(CHANGELIST).status_code == 200


# The picker in the forms that write to a citizen


def options(html: str) -> list[tuple[str, str, str]]:
    """(value, data-text, label) of the picker's options."""
    select = re.search(r'<select name="reply_template".*?</select>', html, re.S)
    assert select is not None, "no template picker on the page"
    return [
        (value, unescape(text), unescape(label.strip()))
        for value, text, label in re.findall(
            r'<option value="(\d+)"[^>]*?data-text="([^"]*)"[^>]*>([^<]*)</option>', select[0]
        )
    ]


def textarea(html: str, name: str) -> str:
    match = re.search(rf'<textarea name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
    assert match is not None
    return unescape(match[1]).strip()


def test_the_resolve_form_offers_the_reports_templates_filled_in(
    staff_a, routed_report, hepco, phu_xuan_committee
):
    ReplyTemplate.objects.all().delete()
    lighting = Category.objects.get(code="street_lighting")
    generic = template(name="Chung", text="Đã xử lý {reference} tại {ward}.")
    specific = template(name="Chiếu sáng HEPCO", category=lighting, agency=hepco, text="{agency}")
    template(name="Của phường", agency=phu_xuan_committee)
    template(name="Tiếng Anh", language="en")
    template(name="Bác bỏ", purpose=ReplyPurpose.REJECTION)

    html = admin_client(staff_a).get(act_url(routed_report, "resolve")).content.decode()

    assert options(html) == [
        (str(specific.pk), hepco.name, "Chiếu sáng HEPCO"),
        (str(generic.pk), f"Đã xử lý {routed_report.reference} tại Phường Phú Xuân.", "Chung"),
    ]
    assert 'data-target="id_note"' in html


def test_staff_reading_english_are_offered_the_english_templates(staff_a, routed_report):
    client = admin_client(staff_a)

    url = act_url(routed_report, "resolve")
    english = options(client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode())
    vietnamese = options(client.get(url, HTTP_ACCEPT_LANGUAGE="vi").content.decode())

    languages = dict(ReplyTemplate.objects.values_list("pk", "language"))
    assert english
    assert vietnamese
    assert {languages[int(value)] for value, _, _ in english} == {"en"}
    assert {languages[int(value)] for value, _, _ in vietnamese} == {"vi"}
    assert "Light working again" in [label for _, _, label in english]


def test_without_a_script_a_link_opens_the_form_with_the_text_filled_in(staff_a, routed_report):
    resolved = ReplyTemplate.objects.get(code="resolved_street_lighting", language="vi")
    client = admin_client(staff_a)

    page = client.get(act_url(routed_report, "resolve")).content.decode()
    filled = client.get(act_url(routed_report, "resolve"), {"template": resolved.pk})

    assert f'href="?template={resolved.pk}"' in page
    html = filled.content.decode()
    assert textarea(html, "note") == reply_template_render(template=resolved, report=routed_report)
    assert f'<option value="{resolved.pk}" selected' in html


def test_a_link_to_a_template_that_does_not_fit_the_report_fills_nothing(
    staff_a, routed_report, ward_template
):
    english = ReplyTemplate.objects.get(code="resolved_street_lighting", language="en")
    client = admin_client(staff_a)

    for foreign in (ward_template.pk, english.pk, "x", "99999999"):
        response = client.get(act_url(routed_report, "resolve"), {"template": foreign})
        assert response.status_code == 200
        assert textarea(response.content.decode(), "note") == ""


def test_a_question_template_ticks_the_question_box_of_the_public_update(
    staff_a, in_progress_report
):
    question = ReplyTemplate.objects.get(code="hepco_lighting_pole", language="vi")
    update = ReplyTemplate.objects.get(code="update_received", language="vi")
    client = admin_client(staff_a)

    asked = client.get(act_url(in_progress_report, "public_update"), {"template": question.pk})
    told = client.get(act_url(in_progress_report, "public_update"), {"template": update.pk})

    asked_html, told_html = asked.content.decode(), told.content.decode()
    assert re.search(r'<input type="checkbox" name="ask_citizen"[^>]*checked', asked_html)
    assert not re.search(r'<input type="checkbox" name="ask_citizen"[^>]*checked', told_html)
    assert textarea(asked_html, "message") == reply_template_render(
        template=question, report=in_progress_report
    )
    # Both purposes, each in its group, and each question marked for the script.
    assert '<optgroup label="Cập nhật công khai">' in asked_html
    assert '<optgroup label="Câu hỏi cho người dân">' in asked_html
    assert re.search(rf'<option value="{question.pk}"[^>]*data-question="true"', asked_html)
    assert 'data-question="id_ask_citizen"' in asked_html


def test_the_reject_form_offers_the_rejection_templates(dispatcher, triage_report):
    html = admin_client(dispatcher).get(act_url(triage_report, "reject")).content.decode()

    purposes = dict(ReplyTemplate.objects.values_list("pk", "purpose"))
    offered = options(html)
    assert offered
    assert {purposes[int(value)] for value, _, _ in offered} == {ReplyPurpose.REJECTION}
    assert 'data-target="id_message"' in html


def test_the_merge_form_offers_the_rejection_templates_for_the_duplicates_reporter(
    dispatcher, routed_report
):
    html = admin_client(dispatcher).get(act_url(routed_report, "merge")).content.decode()

    purposes = dict(ReplyTemplate.objects.values_list("pk", "purpose"))
    offered = options(html)
    assert offered
    assert {purposes[int(value)] for value, _, _ in offered} == {ReplyPurpose.REJECTION}
    assert any("rejected_duplicate" in code for code in _codes(offered))
    assert 'data-target="id_message"' in html


def _codes(offered) -> list[str]:
    codes = dict(ReplyTemplate.objects.values_list("pk", "code"))
    return [codes[int(value)] for value, _, _ in offered]


def test_a_text_still_holding_a_placeholder_is_not_sent(dispatcher, triage_report):
    response = admin_client(dispatcher).post(
        act_url(triage_report, "reject"),
        {"reason": "invalid", "message": "{agency} đã xem {reference}.", "duplicate_of": ""},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert "Write in {agency}, {reference}: this report has no value for it yet." in unescape(
        response.content.decode()
    )
    triage_report.refresh_from_db()
    assert triage_report.status == ReportStatus.NEEDS_TRIAGE


def test_staff_send_the_template_they_edited(staff_a, routed_report):
    resolved = ReplyTemplate.objects.get(code="resolved_street_lighting", language="vi")
    client = admin_client(staff_a)
    filled = textarea(
        client.get(act_url(routed_report, "resolve"), {"template": resolved.pk}).content.decode(),
        "note",
    )
    photo = image_bytes("JPEG", size=(320, 240))
    response = client.post(
        act_url(routed_report, "resolve"),
        {
            "reply_template": resolved.pk,
            "note": filled + " Đã thay 2 bóng LED.",
            "photos": SimpleUploadedFile("after.jpg", photo),
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    routed_report.refresh_from_db()
    assert routed_report.status == ReportStatus.RESOLVED
    assert routed_report.events.latest("id").message == filled + " Đã thay 2 bóng LED."
    assert routed_report.reference in filled


def test_the_picker_script_comes_from_our_own_static_files(staff_a, routed_report):
    html = admin_client(staff_a).get(act_url(routed_report, "resolve")).content.decode()

    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert "/static/reports/reply_templates.js" in scripts
    assert all(src.startswith("/static/") for src in scripts)
    assert finders.find("reports/reply_templates.js") is not None


def test_a_templates_markup_is_shown_as_text_never_run(manager, hepco, routed_report):
    hostile = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    template(name=f"Mẫu {hostile}", agency=hepco, text=f"{hostile} {{reference}}")

    html = admin_client(manager).get(act_url(routed_report, "resolve")).content.decode()

    assert "<script>alert(1)" not in html
    assert "<img src=x" not in html
    assert f"{hostile} {routed_report.reference}" in [text for _, text, _ in options(html)]


def test_a_form_with_no_template_for_the_report_shows_no_picker(staff_a, routed_report):
    ReplyTemplate.objects.all().delete()

    html = admin_client(staff_a).get(act_url(routed_report, "resolve")).content.decode()

    assert 'name="reply_template"' not in html
    assert 'name="note"' in html


def test_the_forms_query_count_does_not_grow_with_the_templates(
    staff_a, routed_report, hepco, django_assert_max_num_queries
):
    lighting = Category.objects.get(code="street_lighting")
    for number in range(25):
        template(name=f"Mẫu {number}", category=lighting, agency=hepco)
    client = admin_client(staff_a)
    client.get(act_url(routed_report, "resolve"))

    with django_assert_max_num_queries(12):
        client.get(act_url(routed_report, "resolve"))


# The city's templates


def test_the_city_seeds_its_templates_in_both_languages_and_keeps_what_staff_changed(
    reference_data,
):
    city = current_city()
    seeded = ReplyTemplate.objects.exclude(code="")
    changed = seeded.get(code="resolved", language="vi")
    changed.text = "Đã sửa bởi quản trị viên: {reference}."
    changed.save()
    seeded.filter(code="update_received", language="en").delete()

    city_load(city, boundaries=None)

    assert seeded.count() == 2 * len(city.reply_templates)
    assert seeded.get(code="resolved", language="vi").text == changed.text
    assert seeded.filter(code="update_received", language="en").exists()
    definition = next(t for t in city.reply_templates if t.code == "hepco_lighting_pole")
    stored = seeded.get(code="hepco_lighting_pole", language="en")
    assert (stored.purpose, stored.category.code, stored.agency.code) == (
        "question",
        "street_lighting",
        "hepco",
    )
    assert stored.text == definition.text_en


def test_every_category_of_the_city_has_a_resolution_template(reference_data):
    for category in Category.objects.exclude(code="other"):
        report_category = ReplyTemplate.objects.filter(
            purpose=ReplyPurpose.RESOLUTION, category=category, language="vi"
        )
        assert report_category.exists(), category.code


def test_a_seeded_template_fills_a_real_report_without_leftovers(staff_a, routed_report):
    lifecycle.report_accept(report=routed_report, actor=staff_a)
    routed_report.refresh_from_db()
    for seeded in ReplyTemplate.objects.exclude(code=""):
        filled = reply_template_render(template=seeded, report=routed_report)
        assert placeholders_left(filled) == [], (seeded.code, seeded.language)
        assert unknown_placeholders(filled) == []


def test_the_deadline_placeholder_moves_with_the_report(routed_report):
    resolved = template(text="trước {deadline}")
    routed_report.due_at = timezone.now() + timedelta(days=3)

    filled = reply_template_render(template=resolved, report=routed_report)

    assert filled == f"trước {short_time(routed_report.due_at)}"


def test_anonymous_users_reach_no_template_page(hepco_template):
    for url in (CHANGELIST, ADD, change_page(hepco_template)):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
