"""reports.lifecycle: who may move a report from which status to which, and what it records."""

from __future__ import annotations

import ast
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings

from hues.errors import InvalidInput, NotPermitted
from reports import lifecycle
from reports.lifecycle import RejectReason, TransitionNotAllowed
from reports.models import Agency, Event, ReportStatus
from tests.reports.helpers import reload as _reload
from tests.reports.helpers import resolve_with_photo, store_result_photo

S = ReportStatus
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


@pytest.fixture
def resolved_report(in_progress_report, staff_a):
    return resolve_with_photo(report=in_progress_report, actor=staff_a, note="Đã thay bóng.")


@pytest.fixture
def rejected_report(routed_report, staff_a):
    return lifecycle.report_reject(
        report=routed_report, actor=staff_a, reason=RejectReason.INVALID, message="Không đúng."
    )


# Accept


def test_staff_of_the_reports_agency_accepts_a_routed_report(routed_report, staff_a):
    report = lifecycle.report_accept(report=routed_report, actor=staff_a)

    assert _reload(report).status == S.IN_PROGRESS


def test_accepting_records_when_it_happened(routed_report, staff_a):
    with time_machine.travel(NOON, tick=False):
        report = lifecycle.report_accept(report=routed_report, actor=staff_a)

    assert _reload(report).accepted_at == NOON


def test_the_agencys_manager_may_accept_too(routed_report, manager):
    lifecycle.report_accept(report=routed_report, actor=manager)

    assert _reload(routed_report).status == S.IN_PROGRESS


def test_accepting_writes_one_accepted_event_with_actor_and_statuses(routed_report, staff_a):
    events = routed_report.events.count()

    lifecycle.report_accept(report=routed_report, actor=staff_a)

    assert routed_report.events.count() == events + 1
    event = routed_report.events.latest("id")
    assert event.kind == Event.Kind.ACCEPTED
    assert event.actor == staff_a
    assert (event.from_status, event.to_status) == (S.ROUTED, S.IN_PROGRESS)
    assert event.is_public is True


# Public updates and internal notes


def test_a_public_update_keeps_the_status(in_progress_report, staff_a):
    lifecycle.report_post_update(report=in_progress_report, actor=staff_a, message="Đang sửa.")

    assert _reload(in_progress_report).status == S.IN_PROGRESS


def test_a_public_update_writes_one_public_event_with_its_message(in_progress_report, staff_a):
    events = in_progress_report.events.count()

    event = lifecycle.report_post_update(
        report=in_progress_report, actor=staff_a, message="  Đang sửa.  "
    )

    assert in_progress_report.events.count() == events + 1
    assert event.kind == Event.Kind.PUBLIC_UPDATE
    assert event.is_public is True
    assert event.message == "Đang sửa."
    assert (event.from_status, event.to_status) == (S.IN_PROGRESS, S.IN_PROGRESS)
    assert event.actor == staff_a


def test_a_public_update_needs_a_message(in_progress_report, staff_a):
    with pytest.raises(InvalidInput) as error:
        lifecycle.report_post_update(report=in_progress_report, actor=staff_a, message="   ")

    assert error.value.code == "message_required"


def test_an_internal_note_writes_one_private_event(in_progress_report, staff_a):
    events = in_progress_report.events.count()

    event = lifecycle.report_add_note(
        report=in_progress_report, actor=staff_a, message="Gọi lại cho đội điện."
    )

    assert in_progress_report.events.count() == events + 1
    assert event.kind == Event.Kind.INTERNAL_NOTE
    assert event.is_public is False
    assert _reload(in_progress_report).status == S.IN_PROGRESS


def test_an_internal_note_never_appears_in_the_api_timeline(
    in_progress_report, staff_a, api_as, citizen
):
    lifecycle.report_add_note(report=in_progress_report, actor=staff_a, message="BÍ MẬT nội bộ")

    response = api_as(citizen).get(f"/api/v1/reports/{in_progress_report.reference}")

    assert response.status_code == 200
    kinds = [event["kind"] for event in response.json()["timeline"]]
    assert Event.Kind.INTERNAL_NOTE not in kinds
    assert "BÍ MẬT" not in response.content.decode()


def test_an_internal_note_may_be_added_to_a_closed_out_report(rejected_report, staff_a):
    event = lifecycle.report_add_note(report=rejected_report, actor=staff_a, message="Đã xong.")

    assert event.to_status == S.REJECTED


# Resolve


def test_resolving_moves_the_report_to_resolved_and_records_when(in_progress_report, staff_a):
    with time_machine.travel(NOON, tick=False):
        resolve_with_photo(report=in_progress_report, actor=staff_a, note="Đã thay bóng.")

    report = _reload(in_progress_report)
    assert report.status == S.RESOLVED
    assert report.resolved_at == NOON


def test_a_routed_report_may_be_resolved_directly(routed_report, staff_a):
    resolve_with_photo(report=routed_report, actor=staff_a, note="Đã thay bóng.")

    assert _reload(routed_report).status == S.RESOLVED


def test_resolving_writes_one_public_resolved_event_carrying_the_note(in_progress_report, staff_a):
    events = in_progress_report.events.count()

    resolve_with_photo(report=in_progress_report, actor=staff_a, note=" Đã thay bóng. ")

    assert in_progress_report.events.count() == events + 1
    event = in_progress_report.events.latest("id")
    assert event.kind == Event.Kind.RESOLVED
    assert event.message == "Đã thay bóng."
    assert (event.from_status, event.to_status) == (S.IN_PROGRESS, S.RESOLVED)
    assert event.actor == staff_a
    assert event.is_public is True


@pytest.mark.parametrize("note", ["", "   "])
def test_resolving_requires_a_note(in_progress_report, staff_a, note):
    with pytest.raises(InvalidInput) as error:
        resolve_with_photo(report=in_progress_report, actor=staff_a, note=note)

    assert error.value.code == "note_required"
    assert _reload(in_progress_report).status == S.IN_PROGRESS


def test_resolving_stores_the_result_photos_in_the_same_transaction(in_progress_report, staff_a):
    stored = []

    def store(report):
        stored.append(report.pk)
        store_result_photo(staff_a)(report)

    lifecycle.report_resolve(
        report=in_progress_report, actor=staff_a, note="Xong.", store_photos=store
    )

    assert stored == [in_progress_report.pk]
    assert in_progress_report.photos.filter(kind="result").count() == 1


@pytest.mark.parametrize("store_photos", [None, lambda report: None])
def test_resolving_without_a_result_photo_is_refused_and_changes_nothing(
    in_progress_report, staff_a, store_photos
):
    events = in_progress_report.events.count()

    with pytest.raises(InvalidInput) as error:
        lifecycle.report_resolve(
            report=in_progress_report, actor=staff_a, note="Xong.", store_photos=store_photos
        )

    assert error.value.code == "result_photo_required"
    report = _reload(in_progress_report)
    assert report.status == S.IN_PROGRESS
    assert report.resolved_at is None
    assert report.events.count() == events


# Reject


@pytest.mark.parametrize("reason", [RejectReason.INVALID, RejectReason.OUT_OF_SCOPE])
def test_a_report_is_rejected_with_a_reason_and_a_message(routed_report, staff_a, reason):
    lifecycle.report_reject(report=routed_report, actor=staff_a, reason=reason, message="Lý do.")

    report = _reload(routed_report)
    assert report.status == S.REJECTED
    assert report.closed_at is not None
    event = report.events.latest("id")
    assert event.kind == Event.Kind.REJECTED
    assert event.data == {"reason": reason}
    assert event.message == "Lý do."
    assert (event.from_status, event.to_status) == (S.ROUTED, S.REJECTED)


def test_a_duplicate_is_linked_to_its_original(make_report, citizen, other_citizen, staff_a):
    original = make_report(citizen)
    duplicate = make_report(other_citizen)

    lifecycle.report_reject(
        report=duplicate,
        actor=staff_a,
        reason=RejectReason.DUPLICATE,
        message="Đã có phản ánh.",
        duplicate_of=original,
    )

    duplicate = _reload(duplicate)
    assert duplicate.status == S.REJECTED
    assert duplicate.duplicate_of == original
    assert duplicate.events.latest("id").data == {
        "reason": RejectReason.DUPLICATE,
        "duplicate_of": original.reference,
    }


def test_rejecting_as_a_duplicate_requires_the_original(routed_report, staff_a):
    with pytest.raises(InvalidInput) as error:
        lifecycle.report_reject(
            report=routed_report, actor=staff_a, reason=RejectReason.DUPLICATE, message="Trùng."
        )

    assert error.value.code == "duplicate_of_required"
    assert _reload(routed_report).status == S.ROUTED


def test_a_report_cannot_be_a_duplicate_of_itself(routed_report, staff_a):
    with pytest.raises(InvalidInput) as error:
        lifecycle.report_reject(
            report=routed_report,
            actor=staff_a,
            reason=RejectReason.DUPLICATE,
            message="Trùng.",
            duplicate_of=routed_report,
        )

    assert error.value.code == "duplicate_of_required"


def test_a_reason_that_is_not_a_duplicate_does_not_link_an_original(make_report, citizen, staff_a):
    other = make_report(citizen)
    report = make_report(citizen)

    lifecycle.report_reject(
        report=report,
        actor=staff_a,
        reason=RejectReason.INVALID,
        message="Sai.",
        duplicate_of=other,
    )

    assert _reload(report).duplicate_of is None


@pytest.mark.parametrize("message", ["", "  "])
def test_rejecting_requires_a_message(routed_report, staff_a, message):
    with pytest.raises(InvalidInput) as error:
        lifecycle.report_reject(
            report=routed_report, actor=staff_a, reason=RejectReason.INVALID, message=message
        )

    assert error.value.code == "message_required"


def test_rejecting_requires_a_known_reason(routed_report, staff_a):
    with pytest.raises(InvalidInput) as error:
        lifecycle.report_reject(
            report=routed_report, actor=staff_a, reason="boring", message="Không thích."
        )

    assert error.value.code == "invalid_reason"


def test_a_report_in_triage_can_be_rejected_by_the_dispatcher(triage_report, dispatcher):
    lifecycle.report_reject(
        report=triage_report, actor=dispatcher, reason=RejectReason.OUT_OF_SCOPE, message="Ngoài."
    )

    assert _reload(triage_report).status == S.REJECTED


# Wrong source status


def _accept(report, actor):
    return lifecycle.report_accept(report=report, actor=actor)


def _update(report, actor):
    return lifecycle.report_post_update(report=report, actor=actor, message="Cập nhật.")


def _resolve(report, actor):
    return resolve_with_photo(report=report, actor=actor, note="Xong.")


def _reject(report, actor):
    return lifecycle.report_reject(
        report=report, actor=actor, reason=RejectReason.INVALID, message="Sai."
    )


def _dispatch(report, actor):
    agency = Agency.objects.get(code="police")
    return lifecycle.report_dispatch(report=report, actor=actor, agency_id=agency.pk)


@pytest.mark.parametrize(
    ("state", "action"),
    [
        ("in_progress_report", _accept),
        ("resolved_report", _accept),
        ("rejected_report", _accept),
        ("resolved_report", _update),
        ("rejected_report", _update),
        ("resolved_report", _resolve),
        ("rejected_report", _resolve),
        ("resolved_report", _reject),
        ("rejected_report", _reject),
        ("resolved_report", _dispatch),
        ("rejected_report", _dispatch),
    ],
)
def test_a_transition_from_a_wrong_status_is_not_allowed(request, dispatcher, state, action):
    report = request.getfixturevalue(state)
    status, events = report.status, report.events.count()

    with pytest.raises(TransitionNotAllowed):
        action(report, dispatcher)

    assert _reload(report).status == status
    assert report.events.count() == events


def test_a_report_in_triage_cannot_be_accepted_before_it_is_dispatched(triage_report, dispatcher):
    with pytest.raises(TransitionNotAllowed):
        lifecycle.report_accept(report=triage_report, actor=dispatcher)


def test_a_routed_report_cannot_be_routed_again_by_the_rules(routed_report):
    with pytest.raises(TransitionNotAllowed):
        lifecycle._perform(routed_report, "route", actor=None)


# Who may


@pytest.mark.parametrize("action", [_accept, _update, _resolve, _reject])
def test_staff_of_another_agency_may_not_work_the_report(routed_report, staff_b, action):
    events = routed_report.events.count()

    with pytest.raises(NotPermitted):
        action(routed_report, staff_b)

    assert _reload(routed_report).status == S.ROUTED
    assert routed_report.events.count() == events


def test_staff_of_another_agency_may_not_add_an_internal_note(routed_report, staff_b):
    with pytest.raises(NotPermitted):
        lifecycle.report_add_note(report=routed_report, actor=staff_b, message="Xem giúp.")


@pytest.mark.parametrize("action", [_accept, _update, _resolve, _reject, _dispatch])
def test_the_reporting_citizen_may_make_no_staff_transition(routed_report, citizen, action):
    with pytest.raises(NotPermitted):
        action(routed_report, citizen)

    assert _reload(routed_report).status == S.ROUTED


def test_a_citizen_may_not_add_an_internal_note(routed_report, citizen):
    with pytest.raises(NotPermitted):
        lifecycle.report_add_note(report=routed_report, actor=citizen, message="Tôi đây.")


def test_a_deactivated_staff_member_may_not_work_the_report(routed_report, staff_a):
    staff_a.is_active = False
    staff_a.save(update_fields=["is_active"])

    with pytest.raises(NotPermitted):
        lifecycle.report_accept(report=routed_report, actor=staff_a)


def test_staff_may_not_work_a_report_in_triage(triage_report, staff_a):
    with pytest.raises(NotPermitted):
        _reject(triage_report, staff_a)


def test_a_person_may_not_route_by_the_rules_only_the_system_does(make_report, citizen, dispatcher):
    report = make_report(citizen, route=False)

    with pytest.raises(NotPermitted):
        lifecycle._perform(report, "route", actor=dispatcher)


# Dispatch


def test_the_dispatcher_dispatches_a_report_in_triage_to_an_agency(triage_report, dispatcher):
    police = Agency.objects.get(code="police")

    lifecycle.report_dispatch(report=triage_report, actor=dispatcher, agency_id=police.pk)

    report = _reload(triage_report)
    assert report.status == S.ROUTED
    assert report.agency == police
    assert report.routed_at is not None


def test_dispatching_from_triage_sets_the_deadline(triage_report, dispatcher):
    police = Agency.objects.get(code="police")

    with time_machine.travel(NOON, tick=False):
        lifecycle.report_dispatch(report=triage_report, actor=dispatcher, agency_id=police.pk)

    # 75 working hours from Tuesday noon (counted from the 13:30 opening).
    assert _reload(triage_report).due_at == datetime(
        2026, 3, 24, 11, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")
    )


def test_dispatching_writes_one_routed_event_by_the_dispatcher(triage_report, dispatcher):
    police = Agency.objects.get(code="police")
    events = triage_report.events.count()

    lifecycle.report_dispatch(
        report=triage_report, actor=dispatcher, agency_id=police.pk, message="Giao công an."
    )

    assert triage_report.events.count() == events + 1
    event = triage_report.events.latest("id")
    assert event.kind == Event.Kind.ROUTED
    assert event.actor == dispatcher
    assert (event.from_status, event.to_status) == (S.NEEDS_TRIAGE, S.ROUTED)
    assert event.message == "Giao công an."


def test_the_new_agencys_staff_may_work_a_dispatched_report(triage_report, dispatcher, staff_a):
    lifecycle.report_dispatch(report=triage_report, actor=dispatcher, agency_id=staff_a.agency_id)

    lifecycle.report_accept(report=triage_report, actor=staff_a)

    assert _reload(triage_report).status == S.IN_PROGRESS


@pytest.mark.parametrize("actor", ["staff_a", "staff_b", "manager", "citizen"])
def test_only_a_dispatcher_may_dispatch_a_report_in_triage(request, triage_report, actor):
    police = Agency.objects.get(code="police")

    with pytest.raises(NotPermitted):
        lifecycle.report_dispatch(
            report=triage_report, actor=request.getfixturevalue(actor), agency_id=police.pk
        )

    assert _reload(triage_report).status == S.NEEDS_TRIAGE


def test_staff_of_another_agency_may_not_pull_a_report_to_their_own(routed_report, staff_b):
    with pytest.raises(NotPermitted):
        lifecycle.report_dispatch(report=routed_report, actor=staff_b, agency_id=staff_b.agency_id)

    assert _reload(routed_report).agency.code == "hepco"


def test_the_dispatcher_may_not_dispatch_to_an_inactive_agency(triage_report, dispatcher):
    police = Agency.objects.get(code="police")
    police.is_active = False
    police.save(update_fields=["is_active"])

    with pytest.raises(InvalidInput) as error:
        lifecycle.report_dispatch(report=triage_report, actor=dispatcher, agency_id=police.pk)

    assert error.value.code == "unknown_agency"
    assert _reload(triage_report).status == S.NEEDS_TRIAGE


def test_the_dispatcher_may_not_dispatch_to_an_agency_that_does_not_exist(
    triage_report, dispatcher
):
    with pytest.raises(InvalidInput):
        lifecycle.report_dispatch(report=triage_report, actor=dispatcher, agency_id=987654)

    assert _reload(triage_report).status == S.NEEDS_TRIAGE


def test_the_dispatcher_transfers_a_report_in_progress_to_another_agency(
    in_progress_report, dispatcher, staff_b
):
    lifecycle.report_dispatch(
        report=in_progress_report, actor=dispatcher, agency_id=staff_b.agency_id
    )

    report = _reload(in_progress_report)
    assert report.status == S.ROUTED
    assert report.agency_id == staff_b.agency_id
    assert report.assignee is None


# allowed_transitions


def test_staff_of_the_agency_may_accept_update_note_resolve_reject_or_transfer_a_routed_report(
    routed_report, staff_a
):
    assert set(lifecycle.allowed_transitions(routed_report, staff_a)) == {
        "accept",
        "public_update",
        "internal_note",
        "resolve",
        "reject",
        "transfer",
        "correct",
        "merge",
    }


def test_staff_of_the_agency_may_no_longer_accept_a_report_in_progress(in_progress_report, staff_a):
    assert set(lifecycle.allowed_transitions(in_progress_report, staff_a)) == {
        "public_update",
        "internal_note",
        "resolve",
        "reject",
        "transfer",
        "correct",
        "merge",
    }


def test_staff_of_another_agency_may_do_nothing_with_the_report(routed_report, staff_b):
    assert lifecycle.allowed_transitions(routed_report, staff_b) == []


def test_the_reporter_may_only_comment_on_their_open_report(routed_report, citizen):
    assert routed_report.reporter == citizen
    assert lifecycle.allowed_transitions(routed_report, citizen) == ["comment"]


def test_another_citizen_may_do_nothing_with_a_report(routed_report, other_citizen):
    assert lifecycle.allowed_transitions(routed_report, other_citizen) == []


def test_the_dispatcher_may_dispatch_note_or_reject_a_report_in_triage(triage_report, dispatcher):
    assert set(lifecycle.allowed_transitions(triage_report, dispatcher)) == {
        "dispatch",
        "internal_note",
        "reject",
        # The editor: a dispatcher corrects, moderates, merges and splits any open report.
        "correct",
        "merge",
        "split",
        "hide",
        "edit_text",
        "hide_photo",
    }


def test_only_a_note_is_left_on_a_resolved_report(resolved_report, staff_a):
    assert lifecycle.allowed_transitions(resolved_report, staff_a) == ["internal_note"]


def test_the_system_alone_may_route_a_submitted_report(make_report, citizen):
    report = make_report(citizen, route=False)

    assert set(lifecycle.allowed_transitions(report, None)) == {"route", "send_to_triage"}


# One writer of status

WRITE_METHODS = {
    "create",
    "update",
    "update_or_create",
    "get_or_create",
    "bulk_create",
    "bulk_update",
    "acreate",
    "aupdate",
    "aupdate_or_create",
    "aget_or_create",
}


def _mentions_status(node: ast.AST | None) -> bool:
    """A "status" string literal anywhere in the expression (a field list, a dict key)."""
    return node is not None and any(
        isinstance(part, ast.Constant) and part.value == "status" for part in ast.walk(node)
    )


def _writes_status(node: ast.AST) -> bool:
    """`x.status = ...`, `setattr(x, "status", ...)`, `status=` given to a create/update
    call or a model constructor, `defaults={"status": ...}`, or "status" among the fields
    that `save(update_fields=...)` or `bulk_update` write."""
    if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return any(
            isinstance(part, ast.Attribute) and part.attr == "status"
            for target in targets
            for part in ast.walk(target)
        )
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    keywords = {keyword.arg: keyword.value for keyword in node.keywords}
    if name == "setattr":
        return len(node.args) > 1 and _mentions_status(node.args[1])
    if _mentions_status(keywords.get("update_fields")):
        return True
    if name == "bulk_update":
        return _mentions_status(keywords.get("fields")) or any(map(_mentions_status, node.args[1:]))
    if name in WRITE_METHODS or name == "Report":
        defaults = [keywords.get("defaults"), keywords.get("create_defaults")]
        return "status" in keywords or any(
            isinstance(value, ast.Dict) and any(map(_mentions_status, value.keys))
            for value in defaults
        )
    return False


def _status_writes(source: str) -> list[int]:
    """The lines of `source` that write a `status` field."""
    return sorted({node.lineno for node in ast.walk(ast.parse(source)) if _writes_status(node)})


def _application_sources() -> list[Path]:
    root = Path(settings.BASE_DIR)
    sources = []
    for package in ("accounts", "reports", "hues"):
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts or path == root / "reports" / "lifecycle.py":
                continue
            sources.append(path)
    return sources


@pytest.mark.parametrize(
    "source",
    [
        "report.status = ReportStatus.CLOSED",
        "report.status, x = 'closed', 1",
        "setattr(report, 'status', 'closed')",
        "Report.objects.filter(pk=1).update(status=ReportStatus.CLOSED)",
        "Report.objects.create(reference='x', status='closed')",
        "Report.objects.update_or_create(pk=1, defaults={'status': 'closed'})",
        "Report(reference='x', status=ReportStatus.CLOSED)",
        "report.save(update_fields=['status'])",
        "Report.objects.bulk_update(reports, ['status'])",
    ],
)
def test_the_status_write_detector_recognises_a_write(source):
    assert _status_writes(source) == [1]


@pytest.mark.parametrize(
    "source",
    [
        "Report.objects.filter(status=ReportStatus.SUBMITTED)",
        "Response(body, status=status.HTTP_201_CREATED)",
        "Event.objects.create(report=report, from_status='a', to_status='b')",
        "if report.status == ReportStatus.CLOSED: pass",
        "models.Index(fields=['status', '-id'], name='report_status_id')",
    ],
)
def test_the_status_write_detector_ignores_reads(source):
    assert _status_writes(source) == []


def test_the_status_write_detector_finds_the_lifecycles_own_write():
    source = (Path(settings.BASE_DIR) / "reports" / "lifecycle.py").read_text(encoding="utf-8")

    assert _status_writes(source)


def test_no_module_but_the_lifecycle_writes_a_reports_status():
    sources = _application_sources()
    writes = {
        str(path.relative_to(settings.BASE_DIR)): lines
        for path in sources
        if (lines := _status_writes(path.read_text(encoding="utf-8")))
    }

    assert len(sources) > 10  # the scan really looked at the code
    assert writes == {}
