"""Moderation: hiding a report, a photo or a comment from the public, editing the public text,
and the citizens' flags. Hidden content never leaks through any public surface."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from hues.errors import Conflict, NotPermitted
from notifications.models import Notification
from reports import lifecycle, moderation
from reports.audience import notify_event
from reports.models import Event, Flag, HideReason, Report
from tests.conftest import PHU_XUAN_POINT
from tests.factories import UserFactory
from tests.reports.helpers import admin_client

pytestmark = pytest.mark.django_db
K = Event.Kind


def _reload(report: Report) -> Report:
    report.refresh_from_db()
    return report


def public_references(client: APIClient, someone: APIClient) -> dict[str, set[str]]:
    """The references every public surface shows (`someone`: another citizen, signed in,
    for "likely duplicates nearby")."""
    lat, lng = PHU_XUAN_POINT
    feed = client.get("/api/v1/reports").json()["results"]
    near = client.get("/api/v1/reports", {"near": f"{lat},{lng}", "radius": 2000}).json()
    search = client.get("/api/v1/reports", {"q": "đèn"}).json()["results"]
    nearby = someone.get(
        "/api/v1/reports/nearby", {"lat": lat, "lng": lng, "category": "street_lighting"}
    ).json()
    open311 = client.get("/open311/v2/requests.json").json()
    return {
        "feed": {r["reference"] for r in feed},
        "near": {r["reference"] for r in near["results"]},
        "search": {r["reference"] for r in search},
        "nearby": {
            r["reference"]
            for r in (nearby if isinstance(nearby, list) else nearby.get("results", []))
        },
        "open311": {r["service_request_id"] for r in open311},
    }


def exported(client: Client) -> str:
    response = client.get("/admin/reports/report/export.csv")
    return b"".join(response.streaming_content).decode("utf-8-sig")


def test_a_hidden_report_leaves_every_public_surface_at_once(
    routed_report, dispatcher, citizen, api_as, settings, django_capture_on_commit_callbacks
):
    settings.FEED_CACHE_SECONDS = 15
    anonymous = APIClient()
    someone = api_as(UserFactory())
    before = public_references(anonymous, someone)
    assert all(routed_report.reference in refs for refs in before.values())
    assert routed_report.reference in exported(admin_client(dispatcher))

    # The cached pages drop when the change commits.
    with django_capture_on_commit_callbacks(execute=True):
        moderation.report_hide(
            report=routed_report,
            actor=dispatcher,
            reason=HideReason.PERSONAL_DATA,
            message="Biển số",
        )

    after = public_references(anonymous, someone)
    assert all(routed_report.reference not in refs for refs in after.values()), after
    assert anonymous.get(f"/api/v1/reports/{routed_report.reference}").status_code == 404
    assert (
        api_as(UserFactory()).get(f"/api/v1/reports/{routed_report.reference}").status_code == 404
    )
    assert routed_report.reference not in exported(admin_client(dispatcher))
    # The reporter and staff still see it.
    assert api_as(citizen).get(f"/api/v1/reports/{routed_report.reference}").status_code == 200
    assert (
        admin_client(dispatcher)
        .get(f"/admin/reports/report/{routed_report.pk}/change/")
        .status_code
        == 200
    )


def test_the_reporter_is_told_why_their_report_was_hidden(routed_report, dispatcher, citizen):
    moderation.report_hide(
        report=routed_report, actor=dispatcher, reason=HideReason.OFFENSIVE, message="Lời lẽ"
    )
    event = routed_report.events.get(kind=K.HIDDEN)

    notify_event(event.pk)

    notification = Notification.objects.get(user=citizen, event=event)
    assert str(HideReason.OFFENSIVE.label) in notification.body or "Lời lẽ" in notification.body


def test_showing_it_again_brings_it_back_for_the_public(routed_report, dispatcher):
    moderation.report_hide(report=routed_report, actor=dispatcher, reason=HideReason.OTHER)
    moderation.report_show(report=routed_report, actor=dispatcher)

    assert _reload(routed_report).is_public
    assert APIClient().get(f"/api/v1/reports/{routed_report.reference}").status_code == 200


def test_a_report_the_reporter_made_private_stays_private_when_shown(
    make_report, citizen, dispatcher
):
    report = make_report(citizen, is_public=False)
    moderation.report_hide(report=report, actor=dispatcher, reason=HideReason.OTHER)
    moderation.report_show(report=report, actor=dispatcher)
    assert not _reload(report).is_public


def test_agency_staff_cannot_moderate(routed_report, staff_a, staff_b, manager):
    for actor in (staff_a, staff_b, manager):
        with pytest.raises(NotPermitted):
            moderation.report_hide(report=routed_report, actor=actor, reason=HideReason.OTHER)
    assert _reload(routed_report).is_public


def test_a_manager_given_the_permission_moderates_their_own_agency_only(
    routed_report, manager, make_report, citizen
):
    from django.contrib.auth.models import Permission

    manager.user_permissions.add(Permission.objects.get(codename="moderate_report"))
    manager = type(manager).objects.get(pk=manager.pk)  # drop the permission cache
    moderation.report_hide(report=routed_report, actor=manager, reason=HideReason.OTHER)
    assert not _reload(routed_report).is_public

    other = make_report(citizen, category="urban_order")  # the ward committee's
    with pytest.raises(NotPermitted):
        moderation.report_hide(report=other, actor=manager, reason=HideReason.OTHER)


def test_editing_the_public_text_keeps_the_original_for_staff(routed_report, dispatcher, api_as):
    original = routed_report.description
    moderation.report_edit_text(
        report=routed_report,
        actor=dispatcher,
        description="Đèn đường không sáng",
        address="Đường Lê Lợi",
        reason="Bỏ số điện thoại cá nhân",
    )

    report = _reload(routed_report)
    assert report.description == "Đèn đường không sáng"
    assert report.original_description == original
    edit = report.events.get(kind=K.EDITED)
    assert edit.actor == dispatcher
    assert not edit.is_public
    assert edit.data["before"]["description"] == original
    body = APIClient().get(f"/api/v1/reports/{report.reference}").json()
    assert body["description"] == "Đèn đường không sáng"
    assert all(entry["kind"] != K.EDITED for entry in body["timeline"])
    # Search finds the public text, not the old one.
    found = APIClient().get("/api/v1/reports", {"q": "Lê Lợi"}).json()["results"]
    assert [r["reference"] for r in found] == [report.reference]
    page = admin_client(dispatcher).get(f"/admin/reports/report/{report.pk}/change/")
    assert original in page.content.decode()


def test_a_hidden_photo_leaves_the_public_api_and_open311_but_not_the_reporters(
    routed_report, dispatcher, citizen, api_as
):
    photo = routed_report.photos.get()
    moderation.photo_set_hidden(photo=photo, actor=dispatcher, hidden=True, reason="Mặt người")

    public = APIClient().get(f"/api/v1/reports/{routed_report.reference}").json()
    assert public["photos"] == []
    feed = APIClient().get("/api/v1/reports").json()["results"]
    assert next(r for r in feed if r["reference"] == routed_report.reference)["photos"] == []
    open311 = APIClient().get(f"/open311/v2/requests/{routed_report.reference}.json").json()
    assert not open311[0].get("media_url")
    own = api_as(citizen).get(f"/api/v1/reports/{routed_report.reference}").json()
    assert len(own["photos"]) == 1
    assert routed_report.events.get(kind=K.PHOTO_HIDDEN).data == {"photo": photo.pk}


def test_a_hidden_comment_shows_a_placeholder_and_nothing_is_deleted(
    routed_report, citizen, dispatcher
):
    comment = lifecycle.report_comment(report=routed_report, actor=citizen, message="Số tôi 0905")
    moderation.comment_hide(event=comment, actor=dispatcher, reason="Số điện thoại")

    body = APIClient().get(f"/api/v1/reports/{routed_report.reference}").json()
    entry = next(e for e in body["timeline"] if e["id"] == comment.pk)
    assert entry["hidden"] is True
    assert "0905" not in entry["message"]
    comment.refresh_from_db()
    assert comment.message == "Số tôi 0905"


# Flags


def test_a_citizen_flags_a_public_report_once_with_a_reason(routed_report, other_citizen, api_as):
    client = api_as(other_citizen)
    url = f"/api/v1/reports/{routed_report.reference}/flags"

    first = client.post(url, {"reason": "spam"}, format="json")
    again = client.post(url, {"reason": "offensive"}, format="json")

    assert first.status_code == 201
    assert again.status_code == 409
    assert again.json()["code"] == "already_flagged"
    assert Flag.objects.filter(report=routed_report).count() == 1
    assert _reload(routed_report).flags_open == 1


def test_bad_flags_are_refused_and_change_nothing(routed_report, citizen, other_citizen, api_as):
    url = f"/api/v1/reports/{routed_report.reference}/flags"
    assert api_as(other_citizen).post(url, {"reason": "nope"}, format="json").status_code == 400
    own = api_as(citizen).post(url, {"reason": "spam"}, format="json")
    assert own.status_code == 403
    assert own.json()["code"] == "cannot_flag"
    assert APIClient().post(url, {"reason": "spam"}, format="json").status_code == 401
    unknown = api_as(other_citizen).post(url, {"reason": "spam", "comment": 999999}, format="json")
    assert unknown.status_code == 400
    assert not Flag.objects.exists()


def test_one_flag_never_hides_a_report_below_the_threshold(
    routed_report, other_citizen, api_as, settings
):
    settings.FLAG_HIDE_THRESHOLD = 3
    api_as(other_citizen).post(
        f"/api/v1/reports/{routed_report.reference}/flags", {"reason": "spam"}, format="json"
    )
    assert _reload(routed_report).is_public


def test_reaching_the_threshold_hides_the_report_until_a_moderator_decides(
    routed_report, api_as, settings, dispatcher
):
    settings.FLAG_HIDE_THRESHOLD = 3
    for _ in range(3):
        api_as(UserFactory()).post(
            f"/api/v1/reports/{routed_report.reference}/flags", {"reason": "spam"}, format="json"
        )
    report = _reload(routed_report)
    assert not report.is_public
    assert report.hidden_reason == HideReason.FLAGGED
    assert report.events.get(kind=K.HIDDEN).actor is None

    moderation.flags_decide(report=report, actor=dispatcher, keep=True)

    report = _reload(report)
    assert report.is_public
    assert report.flags_open == 0
    assert set(Flag.objects.values_list("decision", flat=True)) == {Flag.Decision.DISMISSED}


def test_a_moderator_upholds_the_flags_and_the_report_stays_hidden(
    routed_report, other_citizen, dispatcher
):
    moderation.flag_create(report=routed_report, user=other_citizen, reason="offensive")
    moderation.flags_decide(report=routed_report, actor=dispatcher, keep=False, reason="Xúc phạm")

    report = _reload(routed_report)
    assert not report.is_public
    assert Flag.objects.get().decision == Flag.Decision.UPHELD


def test_a_citizen_flags_a_comment(routed_report, citizen, other_citizen, api_as):
    comment = lifecycle.report_comment(report=routed_report, actor=citizen, message="Spam")
    response = api_as(other_citizen).post(
        f"/api/v1/reports/{routed_report.reference}/flags",
        {"reason": "spam", "comment": comment.pk},
        format="json",
    )
    assert response.status_code == 201
    assert Flag.objects.get().event == comment
    assert _reload(routed_report).flags_open == 0  # the report itself is not flagged


def test_the_moderation_queue_lists_flags_for_moderators_only(
    routed_report, other_citizen, dispatcher, staff_a
):
    moderation.flag_create(report=routed_report, user=other_citizen, reason="spam")
    queue = admin_client(dispatcher).get("/admin/reports/flag/")
    assert queue.status_code == 200
    assert routed_report.reference in queue.content.decode()
    assert other_citizen.full_name not in queue.content.decode()  # content, not people
    assert admin_client(staff_a).get("/admin/reports/flag/").status_code == 403


def test_the_queue_action_hides_the_flagged_report(routed_report, other_citizen, dispatcher):
    flag = moderation.flag_create(report=routed_report, user=other_citizen, reason="spam")
    response = admin_client(dispatcher).post(
        "/admin/reports/flag/",
        {"action": "hide_selected", "_selected_action": [flag.pk]},
    )
    assert response.status_code == 302
    assert not _reload(routed_report).is_public


def test_a_hidden_report_cannot_be_flagged_by_others(
    routed_report, dispatcher, other_citizen, api_as
):
    moderation.report_hide(report=routed_report, actor=dispatcher, reason=HideReason.OTHER)
    response = api_as(other_citizen).post(
        f"/api/v1/reports/{routed_report.reference}/flags", {"reason": "spam"}, format="json"
    )
    assert response.status_code == 404


def test_hiding_twice_is_a_conflict(routed_report, dispatcher):
    moderation.report_hide(report=routed_report, actor=dispatcher, reason=HideReason.OTHER)
    with pytest.raises(Conflict):
        moderation.report_hide(report=routed_report, actor=dispatcher, reason=HideReason.OTHER)


def test_the_hide_action_in_the_admin(routed_report, dispatcher):
    client = admin_client(dispatcher)
    url = f"/admin/reports/report/{routed_report.pk}/act/hide/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"reason": HideReason.PERSONAL_DATA, "message": "Biển số xe"})
    assert response.status_code == 302
    assert _reload(routed_report).hidden_reason == HideReason.PERSONAL_DATA


def test_another_agencys_staff_cannot_open_the_moderation_actions(routed_report, staff_b):
    client = admin_client(staff_b)
    for action in ("hide", "edit_text", "hide_photo", "correct", "merge"):
        assert (
            client.get(f"/admin/reports/report/{routed_report.pk}/act/{action}/").status_code == 404
        )


def test_the_admin_list_filters_flagged_and_hidden_reports(
    routed_report, make_report, citizen, other_citizen, dispatcher
):
    other = make_report(citizen)
    moderation.flag_create(report=routed_report, user=other_citizen, reason="spam")
    moderation.report_hide(report=other, actor=dispatcher, reason=HideReason.OTHER)
    client = admin_client(dispatcher)
    flagged = client.get("/admin/reports/report/", {"moderation": "flagged"}).content.decode()
    hidden = client.get("/admin/reports/report/", {"moderation": "hidden"}).content.decode()
    assert routed_report.reference in flagged
    assert other.reference not in flagged
    assert other.reference in hidden


def test_hide_reason_labels_have_no_flagged_choice_for_staff(routed_report, dispatcher):
    page = admin_client(dispatcher).get(f"/admin/reports/report/{routed_report.pk}/act/hide/")
    assert 'value="flagged"' not in page.content.decode()
