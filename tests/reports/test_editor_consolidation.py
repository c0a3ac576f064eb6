"""Consolidating reports: merging a duplicate into its original (and undoing it), splitting a
report that mixes problems, and filing reports that came by phone or at the desk."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from hues.errors import Conflict, InvalidInput, NotPermitted
from notifications.models import Notification
from reports import editing, lifecycle
from reports.audience import caller_text, notify_event
from reports.models import Channel, Event, Report, ReportStatus, Supporter
from reports.services import report_support
from tests.conftest import PHU_XUAN, VY_DA_POINT
from tests.factories import UserFactory
from tests.reports.helpers import admin_client, resolve_with_photo

pytestmark = pytest.mark.django_db
S = ReportStatus
K = Event.Kind


def _reload(report: Report) -> Report:
    report.refresh_from_db()
    return report


@pytest.fixture
def pair(make_report, citizen, other_citizen):
    """Two citizens report the same broken light in Phú Xuân."""
    original = make_report(citizen)
    duplicate = make_report(other_citizen, description="Cột đèn tắt từ hôm qua")
    return original, duplicate


# Merge


def test_a_dispatcher_merges_a_duplicate_into_the_original(pair, dispatcher, other_citizen):
    original, duplicate = pair
    supporter = UserFactory()
    report_support(report=duplicate, user=supporter)

    editing.report_merge(duplicate=duplicate, original=original, actor=dispatcher, message="Trùng")

    duplicate, original = _reload(duplicate), _reload(original)
    assert duplicate.status == S.MERGED
    assert duplicate.duplicate_of == original
    assert not duplicate.is_public
    assert set(Supporter.objects.filter(report=original).values_list("user_id", flat=True)) == {
        other_citizen.pk,
        supporter.pk,
    }
    assert original.supporters_count == 2


def test_nobody_is_counted_twice(pair, dispatcher, citizen):
    original, duplicate = pair
    report_support(report=duplicate, user=citizen)  # the original's own reporter
    both = UserFactory()
    report_support(report=duplicate, user=both)
    report_support(report=original, user=both)

    editing.report_merge(duplicate=duplicate, original=original, actor=dispatcher)

    assert _reload(original).supporters_count == 2  # `both` once, and the duplicate's reporter
    assert not Supporter.objects.filter(report=original, user=citizen).exists()


def test_the_duplicates_reporter_sees_the_original_through_the_api(
    pair, dispatcher, other_citizen, api_as
):
    original, duplicate = pair
    editing.report_merge(duplicate=duplicate, original=original, actor=dispatcher)

    body = api_as(other_citizen).get(f"/api/v1/reports/{duplicate.reference}").json()

    assert body["status"] == S.MERGED
    assert body["duplicate_of"] == original.reference
    assert APIClient().get(f"/api/v1/reports/{duplicate.reference}").status_code == 404
    feed = APIClient().get("/api/v1/reports").json()["results"]
    assert duplicate.reference not in {r["reference"] for r in feed}


def test_the_merged_in_people_hear_the_originals_progress_and_outcome(
    pair, dispatcher, staff_a, other_citizen
):
    original, duplicate = pair
    editing.report_merge(duplicate=duplicate, original=original, actor=dispatcher)
    notify_event(duplicate.events.get(kind=K.MERGED).pk)
    merged_notice = Notification.objects.get(user=other_citizen, kind=K.MERGED)
    assert original.reference in merged_notice.title

    accepted = lifecycle.report_accept(report=original, actor=staff_a)
    notify_event(accepted.events.latest("id").pk)
    resolve_with_photo(report=original, actor=staff_a, note="Đã thay bóng đèn")
    notify_event(original.events.get(kind=K.RESOLVED).pk)

    kinds = set(
        Notification.objects.filter(user=other_citizen, report=original).values_list(
            "kind", flat=True
        )
    )
    assert {K.ACCEPTED, K.RESOLVED} <= kinds


def test_the_duplicates_photos_and_text_are_on_the_originals_staff_page(pair, dispatcher):
    original, duplicate = pair
    editing.report_merge(duplicate=duplicate, original=original, actor=dispatcher)

    page = admin_client(dispatcher).get(f"/admin/reports/report/{original.pk}/change/")

    html = page.content.decode()
    assert duplicate.reference in html
    assert "Cột đèn tắt từ hôm qua" in html


def test_a_merge_is_undone_while_the_original_is_open(pair, dispatcher, other_citizen):
    original, duplicate = pair
    status = duplicate.status
    editing.report_merge(duplicate=duplicate, original=original, actor=dispatcher)

    editing.report_unmerge(duplicate=duplicate, actor=dispatcher, reason="Không trùng")

    duplicate, original = _reload(duplicate), _reload(original)
    assert duplicate.status == status
    assert duplicate.duplicate_of is None
    assert duplicate.is_public
    assert not Supporter.objects.filter(report=original, user=other_citizen).exists()
    assert original.supporters_count == 0


def test_a_merge_is_not_undone_once_the_original_is_closed(pair, dispatcher, staff_a):
    original, duplicate = pair
    editing.report_merge(duplicate=duplicate, original=original, actor=dispatcher)
    lifecycle.report_reject(report=original, actor=staff_a, reason="invalid", message="Không")

    with pytest.raises(Conflict) as error:
        editing.report_unmerge(duplicate=duplicate, actor=dispatcher, reason="x")
    assert error.value.code == "original_closed"
    assert _reload(duplicate).status == S.MERGED


def test_the_agency_merges_its_own_reports_but_no_one_elses(
    pair, staff_a, staff_b, make_report, citizen
):
    original, duplicate = pair
    with pytest.raises(NotPermitted):
        editing.report_merge(duplicate=duplicate, original=original, actor=staff_b)
    elsewhere = make_report(citizen, category="urban_order")  # the ward committee's
    with pytest.raises(NotPermitted):
        editing.report_merge(duplicate=duplicate, original=elsewhere, actor=staff_a)
    editing.report_merge(duplicate=duplicate, original=original, actor=staff_a)
    assert _reload(duplicate).status == S.MERGED


def test_a_report_is_not_merged_into_a_closed_one_or_itself(pair, dispatcher, staff_a):
    original, duplicate = pair
    with pytest.raises(editing.MergeNotAllowed):
        editing.report_merge(duplicate=duplicate, original=duplicate, actor=dispatcher)
    lifecycle.report_reject(report=original, actor=staff_a, reason="invalid", message="Không")
    with pytest.raises(editing.MergeNotAllowed):
        editing.report_merge(duplicate=duplicate, original=original, actor=dispatcher)
    assert _reload(duplicate).status == S.ROUTED


def test_merged_reports_are_not_counted_twice_in_the_statistics(pair, dispatcher, settings):
    settings.STATS_MIN_COUNT = 1  # two reports (small counts are withheld by default)
    original, duplicate = pair
    editing.report_merge(duplicate=duplicate, original=original, actor=dispatcher)
    cache.clear()  # the statistics are cached per period

    body = APIClient().get("/api/v1/stats").json()

    assert body["city"]["received"] == 1


def test_the_merge_action_in_the_admin_takes_the_original_from_the_link(pair, dispatcher):
    original, duplicate = pair
    client = admin_client(dispatcher)
    url = f"/admin/reports/report/{duplicate.pk}/act/merge/"

    form = client.get(url, {"original": original.reference}).content.decode()
    assert f'value="{original.reference}"' in form
    response = client.post(url, {"original": original.reference, "message": "Trùng"})

    assert response.status_code == 302
    assert _reload(duplicate).duplicate_of == original


# Split


def test_a_dispatcher_splits_a_mixed_report_into_two_routed_reports(
    make_report, citizen, dispatcher, hepco
):
    mixed = make_report(
        citizen, category="other", description="Rác và đèn hỏng", photos=2
    )  # in the dispatcher queue
    photos = list(mixed.photos.order_by("id"))

    created = editing.report_split(
        report=mixed,
        actor=dispatcher,
        reason="Hai vấn đề khác nhau",
        parts=[
            editing.SplitPart("garbage", mixed.description, []),
            editing.SplitPart("street_lighting", "Đèn đường hỏng", [photos[1].pk]),
        ],
    )

    mixed = _reload(mixed)
    assert mixed.category.code == "garbage"
    assert mixed.status == S.ROUTED
    assert mixed.agency == hepco
    [light] = created
    lifecycle.report_route(report_id=light.pk)  # the routing task, after the commit
    light = _reload(light)
    assert light.category.code == "street_lighting"
    assert light.reporter == citizen
    assert light.split_from == mixed
    assert light.status == S.ROUTED
    assert [p.image.name for p in light.photos.all()] == [photos[1].image.name]
    split = mixed.events.get(kind=K.SPLIT)
    assert split.data == {"into": [light.reference]}
    notify_event(split.pk)
    notice = Notification.objects.get(user=citizen, kind=K.SPLIT)
    assert light.reference in notice.body


def test_only_dispatchers_split(routed_report, staff_a):
    with pytest.raises(NotPermitted):
        editing.report_split(
            report=routed_report,
            actor=staff_a,
            reason="x",
            parts=[
                editing.SplitPart("street_lighting", "a", []),
                editing.SplitPart("garbage", "b", []),
            ],
        )
    assert not Report.objects.filter(split_from=routed_report).exists()


def test_a_split_needs_two_parts_and_the_reports_own_photos(
    routed_report, dispatcher, make_report, citizen
):
    foreign = make_report(citizen).photos.get()
    with pytest.raises(InvalidInput):
        editing.report_split(
            report=routed_report,
            actor=dispatcher,
            reason="x",
            parts=[editing.SplitPart("street_lighting", "a", [])],
        )
    with pytest.raises(InvalidInput):
        editing.report_split(
            report=routed_report,
            actor=dispatcher,
            reason="x",
            parts=[
                editing.SplitPart("street_lighting", "a", []),
                editing.SplitPart("garbage", "b", [foreign.pk]),
            ],
        )
    assert not Report.objects.filter(split_from=routed_report).exists()


# Intake from other channels


@pytest.fixture
def operator(reference_data):
    return UserFactory(role="hotline", full_name="Tổng đài viên")


def test_a_hotline_operator_files_a_phone_report_that_is_routed(operator, hepco, file_for_caller):
    report = file_for_caller(
        operator,
        category_code="street_lighting",
        description="Người gọi báo đèn tắt",
        address="25 Lê Lợi",
        caller_name="Bà Hoa",
        caller_phone="0905111222",
        caller_consents=True,
    )
    lifecycle.report_route(report_id=report.pk)

    report = _reload(report)
    assert report.channel.code == Channel.HOTLINE
    assert report.area.code == PHU_XUAN
    assert report.agency == hepco
    assert report.filed_by == operator
    assert report.caller_phone == "+84905111222"
    assert report.caller_consent_at is not None


def test_the_consenting_caller_gets_a_text_with_the_result(
    operator, staff_a, sms_outbox, file_for_caller
):
    report = file_for_caller(
        operator,
        channel="walk_in",
        category_code="street_lighting",
        description="Đèn tắt",
        address="Chợ Đông Ba",
        caller_phone="0905111222",
        caller_consents=True,
    )
    lifecycle.report_route(report_id=report.pk)
    resolve_with_photo(report=report, actor=staff_a, note="Đã sửa")
    resolved = report.events.get(kind=K.RESOLVED)

    from reports.tasks import text_caller

    notify_event(resolved.pk)
    text_caller.apply(args=[resolved.pk])

    assert [m.phone for m in sms_outbox] == ["+84905111222"]
    assert sms_outbox[0].text == caller_text(resolved)
    assert report.reference in sms_outbox[0].text
    # The operator is no reporter: they are told nothing as one.
    assert not Notification.objects.filter(user=operator, event=resolved).exists()


def test_no_text_without_consent(operator, staff_a, sms_outbox, file_for_caller):
    report = file_for_caller(
        operator,
        channel="press",
        category_code="street_lighting",
        description="Báo chí phản ánh",
        address="Cầu Tràng Tiền",
        caller_phone="0905111222",
        caller_consents=False,
    )
    lifecycle.report_route(report_id=report.pk)
    resolve_with_photo(report=report, actor=staff_a, note="Đã sửa")
    notify_event(report.events.get(kind=K.RESOLVED).pk)
    assert sms_outbox == []


def test_a_point_outside_the_chosen_ward_is_refused(operator, file_for_caller):
    with pytest.raises(InvalidInput) as error:
        file_for_caller(
            operator,
            category_code="garbage",
            description="Rác",
            lat=VY_DA_POINT[0],
            lng=VY_DA_POINT[1],
            address="",
        )
    assert error.value.code == "point_outside_area"
    assert not Report.objects.exists()


def test_a_citizen_cannot_file_for_a_caller(citizen, file_for_caller):
    with pytest.raises(NotPermitted):
        file_for_caller(citizen, category_code="garbage", description="Rác", address="x")


def test_app_and_open311_reports_get_their_channel(routed_report):
    assert routed_report.channel.code == Channel.APP


def test_the_hotline_sees_its_reports_and_the_dispatcher_queue(
    operator, triage_report, routed_report
):
    client = admin_client(operator)
    page = client.get("/admin/reports/report/").content.decode()
    assert triage_report.reference in page
    assert routed_report.reference not in page
    assert client.get("/admin/reports/report/file/").status_code == 200


def test_the_file_form_in_the_admin_files_a_report(operator, hepco):
    client = admin_client(operator)
    response = client.post(
        "/admin/reports/report/file/",
        {
            "channel": "hotline",
            "category": "street_lighting",
            "description": "Người gọi: đèn tắt",
            "area": PHU_XUAN,
            "address": "10 Lê Lợi",
            "priority": "normal",
            "caller_name": "Ông Nam",
            "caller_phone": "0905333444",
            "caller_consents": "on",
        },
    )
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.channel.code == "hotline"
    assert report.caller_name == "Ông Nam"


def test_staff_cannot_open_the_file_form(staff_a):
    assert admin_client(staff_a).get("/admin/reports/report/file/").status_code == 403


def test_the_channel_is_counted_in_the_statistics_and_exported(
    operator, dispatcher, routed_report, file_for_caller, settings
):
    settings.STATS_MIN_COUNT = 1  # two reports (small counts are withheld by default)
    file_for_caller(operator, category_code="garbage", description="Rác", address="Chợ")
    cache.clear()  # the statistics are cached per period
    body = APIClient().get("/api/v1/stats").json()
    channels = {row["code"]: row["received"] for row in body["channels"]}
    assert channels == {"app": 1, "hotline": 1}
    export = admin_client(dispatcher).get("/admin/reports/report/export.csv")
    text = b"".join(export.streaming_content).decode("utf-8-sig")
    assert "Đường dây nóng" in text or "Hotline" in text
    dashboard = admin_client(dispatcher).get("/admin/reports/report/dashboard/").content.decode()
    assert 'data-channel="hotline"' in dashboard
