"""The report lifecycle: the only code that changes a report's status.

Each transition names the states it leaves from, the state it leads to, who may make it
and what it records. Admin actions, API endpoints and tasks all come through here.

    submitted --route--> routed --accept--> in_progress --resolve--> resolved --rate--> closed
        |                 ^  |                    |                     |  (or close)
        |                 |  +---transfer---------+--> needs_triage      +--reopen (citizen,
        +--(no rule)--> needs_triage --dispatch--+                         7 days)--> in_progress
    any open state --reject--> rejected      any open state --merge--> merged --unmerge--> back

Staff also edit what the citizen sent without moving the status: corrections (category,
place, address, priority; a correction that makes another agency responsible re-routes the
report), moderation (hide and show a report, a photo or a comment; edit the public text)
and splits. Their use cases are reports.editing; their transitions are here with the others.

Every transition records an Event; after the commit, the task `reports.notify` tells the
people concerned (reports.audience decides who).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Case, Field, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hues import metrics
from hues.errors import Conflict, InvalidInput, NotPermitted
from hues.scheduling import enqueue_on_commit
from reports import deadlines
from reports.models import (
    OPEN_STATUSES,
    RESOLVED_STATUSES,
    WITH_AGENCY_STATUSES,
    Agency,
    Event,
    Photo,
    Priority,
    Report,
    ReportStatus,
)
from reports.routing import decide
from reports.selectors import (
    RoutingSnapshot,
    reports_changed,
    routing_snapshot,
    work_calendar,
)

if TYPE_CHECKING:
    from datetime import datetime

    from accounts.models import User
    from reports.deadlines import WorkCalendar

S = ReportStatus


class TransitionNotAllowed(Conflict):
    code = "transition_not_allowed"
    message = _("This action is not possible in the report's current status.")


class RejectReason:
    DUPLICATE = "duplicate"
    INVALID = "invalid"
    OUT_OF_SCOPE = "out_of_scope"
    CHOICES = (
        (DUPLICATE, _("Duplicate of another report")),
        (INVALID, _("Not a valid report")),
        (OUT_OF_SCOPE, _("Outside the city's responsibility")),
    )


class TransferReason:
    WRONG_AGENCY = "wrong_agency"
    OUTSIDE_AREA = "outside_area"
    NEEDS_OTHER_UNIT = "needs_other_unit"
    CHOICES = (
        (WRONG_AGENCY, _("Not our responsibility: wrong agency")),
        (OUTSIDE_AREA, _("Outside our area")),
        (NEEDS_OTHER_UNIT, _("Another unit is needed too")),
    )


# How long after resolution a citizen may still reopen their report.
REOPEN_WINDOW = timedelta(days=7)


def _is_system(actor: User | None, report: Report) -> bool:
    return actor is None


def _is_reporter(actor: User | None, report: Report) -> bool:
    return actor is not None and actor.is_active and actor.pk == report.reporter_id


def _is_system_or_reporter(actor: User | None, report: Report) -> bool:
    return _is_system(actor, report) or _is_reporter(actor, report)


def _is_dispatcher(actor: User | None, report: Report) -> bool:
    return actor is not None and actor.is_active and actor.has_perm("reports.triage_report")


def _assigns(actor: User | None, report: Report) -> bool:
    """Managers of the report's agency, and dispatchers."""
    if actor is None or not actor.is_active:
        return False
    if _is_dispatcher(actor, report):
        return True
    return (
        actor.has_perm("reports.assign_report")
        and report.agency_id is not None
        and actor.agency_id == report.agency_id
    )


def _moderates(actor: User | None, report: Report) -> bool:
    """Dispatchers and administrators for any report, and anyone else given the permission
    (a manager, say) for their own agency's reports."""
    if actor is None or not actor.is_active or not actor.has_perm("reports.moderate_report"):
        return False
    if actor.is_citywide:
        return True
    return report.agency_id is not None and actor.agency_id == report.agency_id


def _works_on(actor: User | None, report: Report) -> bool:
    """Staff and managers of the report's agency, and dispatchers for any report."""
    if actor is None or not actor.is_active:
        return False
    if _is_dispatcher(actor, report):
        return True
    return (
        actor.has_perm("reports.work_report")
        and report.agency_id is not None
        and actor.agency_id == report.agency_id
    )


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    target: str | None  # None: the status stays as it is
    event: str
    may: Callable[[User | None, Report], bool]
    public: bool = True
    timestamp: str | None = None  # the Report field that records when it happened
    # What the report must be like besides its status (hide: not hidden yet); always if None.
    when: Callable[[Report], bool] | None = None
    # False for a step that only follows another one (the re-routing after a correction,
    # the original's side of a merge): never offered on its own.
    offered: bool = True


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition(
            "route",
            frozenset({S.SUBMITTED}),
            S.ROUTED,
            Event.Kind.ROUTED,
            _is_system,
            timestamp="routed_at",
        ),
        Transition(
            "send_to_triage",
            frozenset({S.SUBMITTED}),
            S.NEEDS_TRIAGE,
            Event.Kind.NEEDS_TRIAGE,
            _is_system,
            public=False,
        ),
        Transition(
            "dispatch",
            frozenset(OPEN_STATUSES),
            S.ROUTED,
            Event.Kind.ROUTED,
            _is_dispatcher,
            timestamp="routed_at",
        ),
        Transition(
            "accept",
            frozenset({S.ROUTED}),
            S.IN_PROGRESS,
            Event.Kind.ACCEPTED,
            _works_on,
            timestamp="accepted_at",
        ),
        Transition(
            "public_update",
            frozenset(WITH_AGENCY_STATUSES),
            None,
            Event.Kind.PUBLIC_UPDATE,
            _works_on,
        ),
        Transition(
            "internal_note",
            frozenset(S.values),
            None,
            Event.Kind.INTERNAL_NOTE,
            _works_on,
            public=False,
        ),
        Transition(
            "resolve",
            frozenset(WITH_AGENCY_STATUSES),
            S.RESOLVED,
            Event.Kind.RESOLVED,
            _works_on,
            timestamp="resolved_at",
        ),
        Transition(
            "reject",
            frozenset(OPEN_STATUSES),
            S.REJECTED,
            Event.Kind.REJECTED,
            _works_on,
            timestamp="closed_at",
        ),
        Transition(
            "assign",
            frozenset(WITH_AGENCY_STATUSES),
            None,
            Event.Kind.ASSIGNED,
            _assigns,
            public=False,
        ),
        Transition(
            "transfer",
            frozenset(WITH_AGENCY_STATUSES),
            S.NEEDS_TRIAGE,
            Event.Kind.TRANSFERRED,
            _works_on,
            public=False,
        ),
        Transition(
            "reopen",
            frozenset(RESOLVED_STATUSES),
            S.IN_PROGRESS,
            Event.Kind.REOPENED,
            _is_reporter,
        ),
        Transition(
            "rate",
            frozenset({S.RESOLVED}),
            S.CLOSED,
            Event.Kind.RATED,
            _is_reporter,
            timestamp="closed_at",
        ),
        Transition(
            "close",
            frozenset({S.RESOLVED}),
            S.CLOSED,
            Event.Kind.CLOSED,
            _is_system_or_reporter,
            timestamp="closed_at",
        ),
        Transition(
            "comment",
            frozenset({*OPEN_STATUSES, S.RESOLVED}),
            None,
            Event.Kind.COMMENTED,
            _is_reporter,
        ),
        Transition(
            "escalate",
            frozenset(WITH_AGENCY_STATUSES),
            None,
            Event.Kind.ESCALATED,
            _is_system,
            public=False,
        ),
        # The editor (reports.editing). A correction shows the citizen the new category and
        # place; when it makes another agency responsible, `reroute` (or, with no rule that
        # applies, `reroute_to_triage`) follows it.
        Transition("correct", frozenset(OPEN_STATUSES), None, Event.Kind.CORRECTED, _works_on),
        Transition(
            "reroute",
            frozenset({S.NEEDS_TRIAGE, *WITH_AGENCY_STATUSES}),
            S.ROUTED,
            Event.Kind.ROUTED,
            _works_on,
            timestamp="routed_at",
            offered=False,
        ),
        Transition(
            "reroute_to_triage",
            frozenset(WITH_AGENCY_STATUSES),
            S.NEEDS_TRIAGE,
            Event.Kind.NEEDS_TRIAGE,
            _works_on,
            public=False,
            offered=False,
        ),
        Transition(
            "hide",
            frozenset(S.values),
            None,
            Event.Kind.HIDDEN,
            _moderates,
            when=lambda report: report.hidden_at is None,
        ),
        # The citizens' flags reached FLAG_HIDE_THRESHOLD: hidden until a moderator decides.
        Transition(
            "hide_flagged",
            frozenset(S.values),
            None,
            Event.Kind.HIDDEN,
            _is_system,
            when=lambda report: report.hidden_at is None,
            offered=False,
        ),
        Transition(
            "show",
            frozenset(S.values),
            None,
            Event.Kind.SHOWN,
            _moderates,
            when=lambda report: report.hidden_at is not None,
        ),
        Transition(
            "edit_text", frozenset(S.values), None, Event.Kind.EDITED, _moderates, public=False
        ),
        Transition(
            "hide_photo",
            frozenset(S.values),
            None,
            Event.Kind.PHOTO_HIDDEN,
            _moderates,
            public=False,
            when=lambda report: report.photos.filter(hidden_at__isnull=True).exists(),
        ),
        Transition(
            "show_photo",
            frozenset(S.values),
            None,
            Event.Kind.PHOTO_SHOWN,
            _moderates,
            public=False,
            when=lambda report: report.photos.filter(hidden_at__isnull=False).exists(),
        ),
        # Staff change what is obscured in a photo's public rendition (reports.privacy).
        Transition(
            "redact_photo",
            frozenset(S.values),
            None,
            Event.Kind.PHOTO_REDACTED,
            _works_on,
            public=False,
            offered=False,
        ),
        Transition(
            "hide_comment",
            frozenset(S.values),
            None,
            Event.Kind.COMMENT_HIDDEN,
            _moderates,
            public=False,
            when=lambda report: report.events.filter(
                kind=Event.Kind.COMMENTED, moderated_at__isnull=True
            ).exists(),
        ),
        Transition(
            "merge",
            frozenset(OPEN_STATUSES),
            S.MERGED,
            Event.Kind.MERGED,
            _works_on,
            timestamp="closed_at",
        ),
        Transition(
            "take_duplicate",
            frozenset(OPEN_STATUSES),
            None,
            Event.Kind.DUPLICATE_ADDED,
            _works_on,
            public=False,
            offered=False,
        ),
        # Back to the status the report had when it was merged (the merge's event says),
        # while the original is open.
        Transition(
            "unmerge",
            frozenset({S.MERGED}),
            None,
            Event.Kind.UNMERGED,
            _works_on,
            when=lambda report: (
                report.duplicate_of is not None and report.duplicate_of.status in OPEN_STATUSES
            ),
        ),
        Transition(
            "release_duplicate",
            frozenset(OPEN_STATUSES),
            None,
            Event.Kind.DUPLICATE_REMOVED,
            _works_on,
            public=False,
            offered=False,
        ),
        Transition("split", frozenset(OPEN_STATUSES), None, Event.Kind.SPLIT, _is_dispatcher),
    )
}


def allowed_transitions(report: Report, actor: User | None) -> list[str]:
    """Names of the transitions this actor may make on the report now (for the admin)."""
    return [
        t.name
        for t in TRANSITIONS.values()
        if t.offered
        and report.status in t.sources
        and t.may(actor, report)
        and (t.when is None or t.when(report))
    ]


def _check_allowed(report: Report, name: str, actor: User | None) -> Transition:
    """The transition, if it may happen now; raises otherwise (status first, then who)."""
    transition = TRANSITIONS[name]
    if report.status not in transition.sources or not (
        transition.when is None or transition.when(report)
    ):
        raise TransitionNotAllowed()
    if not transition.may(actor, report):
        raise NotPermitted()
    return transition


def _observe_routing(report: Report, name: str) -> None:
    """The time from filing to the first routing to an agency (hues_routing_lag_seconds),
    once the routing commits."""
    if name == "route" and report.routed_at is not None:
        lag = (report.routed_at - report.created_at).total_seconds()
        transaction.on_commit(lambda: metrics.report_routed(lag_seconds=lag))


def _perform(
    report: Report,
    name: str,
    *,
    actor: User | None,
    message: str = "",
    data: dict[str, Any] | None = None,
    changes: dict[str, Any] | None = None,
) -> Event:
    """Check and apply one transition to a row locked by the caller; record its Event."""
    event, fields = _apply(report, name, actor=actor, message=message, data=data, changes=changes)
    report.save(update_fields=sorted(fields))
    _observe_routing(report, name)
    event.save()
    enqueue_on_commit("reports.notify", event.pk)
    return event


def _apply(
    report: Report,
    name: str,
    *,
    actor: User | None,
    message: str = "",
    data: dict[str, Any] | None = None,
    changes: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> tuple[Event, set[str]]:
    """Check one transition and apply it to the report in memory: the Event to record
    (unsaved) and the report's fields that changed. The caller writes both."""
    transition = _check_allowed(report, name, actor)
    now = now or timezone.now()
    from_status = report.status
    fields = {"updated_at"}
    report.updated_at = now
    for field, value in (changes or {}).items():
        setattr(report, field, value)
        fields.add(field)
    if transition.target is not None:
        report.status = transition.target
        fields.add("status")
    if transition.timestamp:
        setattr(report, transition.timestamp, now)
        fields.add(transition.timestamp)
    event = Event(
        report=report,
        kind=transition.event,
        actor=actor,
        from_status=from_status,
        to_status=report.status,
        message=message,
        is_public=transition.public,
        data=data or {},
        created_at=now,
    )
    return event, fields


def _lockable() -> Any:
    # Lock only the report row: PostgreSQL cannot lock the nullable side of a join.
    return Report.objects.select_for_update(of=("self",)).select_related("category", "area")


def _locked(report: Report) -> Report:
    """The report re-read under a row lock, so concurrent transitions serialise."""
    return _lockable().get(pk=report.pk)


def _deadline_hours(report: Report) -> int:
    category = report.category
    if report.priority == Priority.URGENT:
        return min(category.urgent_deadline_hours, category.deadline_hours)
    return category.deadline_hours


def _routing(
    report: Report, snapshot: RoutingSnapshot, calendar: WorkCalendar | None, now: datetime
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The routing transition the rules choose for a submitted report: its name, the Event's
    data and the report's changes (agency and deadline)."""
    area_code = report.area.code if report.area else None
    decision = decide(
        category=report.category.code,
        area=area_code,
        rules=snapshot.rules,
        ward_committees=snapshot.ward_committees,
        default_agency=snapshot.default_agencies.get(report.category.code),
    )
    if decision.agency is None or decision.agency not in snapshot.agency_ids:
        return "send_to_triage", {"reason": decision.reason}, {}
    return (
        "route",
        {"agency": decision.agency, "reason": decision.reason},
        {
            "agency_id": snapshot.agency_ids[decision.agency],
            "due_at": deadlines.deadline_after(now, _deadline_hours(report), calendar),
        },
    )


def report_route(*, report_id: int) -> Report | None:
    """Route a submitted report by the rules: to its agency, or to the dispatchers' triage.

    Idempotent: a report that is no longer `submitted` is left as it is. Returns None when
    the report does not exist.
    """
    with transaction.atomic():
        report = _lockable().filter(pk=report_id).defer("area__boundary").first()
        if report is None or report.status != S.SUBMITTED:
            return report
        name, data, changes = _routing(report, routing_snapshot(), None, timezone.now())
        _perform(report, name, actor=None, data=data, changes=changes)
    return report


# Every field the routing transitions may write.
_ROUTING_FIELDS = ["agency_id", "due_at", "routed_at", "status", "updated_at"]


def _update_each(reports: list[Report], fields: list[str]) -> None:
    """Write each report's `fields` in one UPDATE. A batch shares few distinct values (one
    moment, a few agencies and deadlines), so each field is a CASE over the values, not over
    the rows as QuerySet.bulk_update builds it: its cost grows with the agencies, not the
    reports."""
    changes: dict[str, Any] = {}
    for name in fields:
        model_field = Report._meta.get_field(name)
        assert isinstance(model_field, Field)  # noqa: S101 - the routing fields are concrete
        by_value: dict[Any, list[int]] = {}
        for report in reports:
            by_value.setdefault(getattr(report, model_field.attname), []).append(report.pk)
        values = [Value(value, output_field=model_field) for value in by_value]
        if len(values) == 1:
            changes[model_field.attname] = values[0]
            continue
        changes[model_field.attname] = Case(
            *(
                When(pk__in=pks, then=value)
                for value, pks in zip(values, by_value.values(), strict=True)
            ),
            output_field=model_field,
        )
    Report.objects.filter(pk__in=[report.pk for report in reports]).update(**changes)


def reports_route(*, report_ids: Iterable[int]) -> list[Report]:
    """Route many submitted reports in one transaction, each exactly as `report_route` does
    (the same transition, Event, deadline and notification), with one read, one update and
    one insert for all of them. Reports no longer `submitted`, or gone, are left as they are.
    Returns the reports it routed or sent to triage.
    """
    with transaction.atomic():
        reports = list(
            _lockable()
            .filter(pk__in=list(report_ids), status=S.SUBMITTED)
            .defer("area__boundary")  # routing needs the area's code, not its polygon
            .order_by("pk")
        )
        if not reports:
            return []
        snapshot, calendar, now = routing_snapshot(), work_calendar(), timezone.now()
        events = []
        for report in reports:
            name, data, changes = _routing(report, snapshot, calendar, now)
            event, _fields = _apply(report, name, actor=None, data=data, changes=changes, now=now)
            events.append(event)
            _observe_routing(report, name)
        _update_each(reports, _ROUTING_FIELDS)
        Event.objects.bulk_create(events)
        # One UPDATE and one INSERT send no post_save: the cached pages are dropped here.
        references = [report.reference for report in reports]
        transaction.on_commit(lambda: reports_changed(references))
        # One message for the batch's notifications, not one per event (reports.tasks).
        enqueue_on_commit("reports.notify_many", [event.pk for event in events])
    return reports


def report_dispatch(*, report: Report, actor: User, agency_id: int, message: str = "") -> Report:
    """A dispatcher routes a report by hand (from triage, or re-routes it), only to an
    active agency."""
    with transaction.atomic():
        report = _locked(report)
        _check_allowed(report, "dispatch", actor)
        agency_code = (
            Agency.objects.filter(pk=agency_id, is_active=True)
            .values_list("code", flat=True)
            .first()
        )
        if agency_code is None:
            raise InvalidInput(_("Choose an active agency."), code="unknown_agency", field="agency")
        changes: dict[str, Any] = {"agency_id": agency_id, "assignee": None}
        if report.due_at is None:
            changes["due_at"] = deadlines.deadline_after(timezone.now(), _deadline_hours(report))
        _perform(
            report,
            "dispatch",
            actor=actor,
            message=message,
            data={"agency": agency_code, "reason": "dispatcher"},
            changes=changes,
        )
    return report


def report_accept(*, report: Report, actor: User) -> Report:
    with transaction.atomic():
        report = _locked(report)
        _perform(report, "accept", actor=actor)
    return report


def report_post_update(
    *, report: Report, actor: User, message: str, ask_citizen: bool = False
) -> Event:
    """A public update to the citizen; the status stays as it is. With `ask_citizen`, the
    agency waits for the citizen's answer and the deadline clock stops until they reply."""
    if not message.strip():
        raise InvalidInput(_("Write the update."), code="message_required", field="message")
    with transaction.atomic():
        report = _locked(report)
        changes: dict[str, Any] = {}
        if ask_citizen and report.waiting_since is None:
            changes["waiting_since"] = timezone.now()
        return _perform(
            report,
            "public_update",
            actor=actor,
            message=message.strip(),
            data={"ask_citizen": True} if ask_citizen else {},
            changes=changes,
        )


def report_add_note(*, report: Report, actor: User, message: str) -> Event:
    """An internal note for the agency; the citizen never sees it."""
    if not message.strip():
        raise InvalidInput(_("Write the note."), code="message_required", field="message")
    with transaction.atomic():
        report = _locked(report)
        return _perform(report, "internal_note", actor=actor, message=message.strip())


def report_resolve(
    *, report: Report, actor: User, note: str, store_photos: Callable[[Report], Any] | None = None
) -> Report:
    """Resolve with a note and at least one result photo, both shown to the citizen: an
    answer without evidence is not a resolution. `store_photos` attaches the result photos
    in the same transaction."""
    if not note.strip():
        raise InvalidInput(_("Tell the citizen what was done."), code="note_required", field="note")
    with transaction.atomic():
        report = _locked(report)
        _perform(
            report, "resolve", actor=actor, message=note.strip(), changes=_resume_clock(report)
        )
        if store_photos is not None:
            store_photos(report)
        if not report.photos.filter(kind=Photo.Kind.RESULT).exists():
            raise InvalidInput(
                _("Attach at least one photo of the result."),
                code="result_photo_required",
                field="photos",
            )
    return report


def report_reject(
    *,
    report: Report,
    actor: User,
    reason: str,
    message: str,
    duplicate_of: Report | None = None,
) -> Report:
    """Reject with a reason and a message to the citizen; a duplicate names its original."""
    if reason not in dict(RejectReason.CHOICES):
        raise InvalidInput(_("Choose a reason."), code="invalid_reason", field="reason")
    if not message.strip():
        raise InvalidInput(_("Tell the citizen why."), code="message_required", field="message")
    if reason == RejectReason.DUPLICATE and (duplicate_of is None or duplicate_of.pk == report.pk):
        raise InvalidInput(
            _("Name the original report."), code="duplicate_of_required", field="duplicate_of"
        )
    with transaction.atomic():
        report = _locked(report)
        changes: dict[str, Any] = {}
        data: dict[str, Any] = {"reason": reason}
        if duplicate_of is not None and reason == RejectReason.DUPLICATE:
            changes["duplicate_of"] = duplicate_of
            data["duplicate_of"] = duplicate_of.reference
        _perform(report, "reject", actor=actor, message=message.strip(), data=data, changes=changes)
    return report


def _resume_clock(report: Report) -> dict[str, Any]:
    """Changes that restart a stopped deadline clock: the deadline moves by the working time
    the agency spent waiting for the citizen."""
    if report.waiting_since is None:
        return {}
    changes: dict[str, Any] = {"waiting_since": None}
    if report.due_at is not None:
        changes["due_at"] = deadlines.extend_for_pause(
            report.due_at, report.waiting_since, timezone.now()
        )
    return changes


def report_assign(*, report: Report, actor: User, assignee: User | None) -> Report:
    """A manager (or a dispatcher) gives the report to a colleague of its agency, or takes
    the assignment away (assignee None)."""
    with transaction.atomic():
        report = _locked(report)
        _check_allowed(report, "assign", actor)
        if assignee is not None and (
            not assignee.is_active
            or assignee.agency_id is None
            or assignee.agency_id != report.agency_id
        ):
            raise InvalidInput(
                _("Choose a colleague of the agency that handles this report."),
                code="invalid_assignee",
                field="assignee",
            )
        _perform(
            report,
            "assign",
            actor=actor,
            data={"assignee": assignee.pk if assignee else None},
            changes={"assignee": assignee},
        )
    return report


def report_transfer(
    *,
    report: Report,
    actor: User,
    reason: str,
    message: str,
    suggested_agency: Agency | None = None,
) -> Report:
    """Hand a report back to the dispatchers, with a reason code and (optionally) the agency
    that should have it; the dispatchers route it on. The deadline keeps running: the
    citizen's wait does not start over."""
    if reason not in dict(TransferReason.CHOICES):
        raise InvalidInput(_("Choose a reason."), code="invalid_reason", field="reason")
    if not message.strip():
        raise InvalidInput(
            _("Explain the transfer for the dispatchers."), code="message_required", field="message"
        )
    with transaction.atomic():
        report = _locked(report)
        _check_allowed(report, "transfer", actor)
        if suggested_agency is not None and (
            not suggested_agency.is_active or suggested_agency.pk == report.agency_id
        ):
            raise InvalidInput(
                _("Suggest another, active agency."), code="invalid_agency", field="agency"
            )
        from_agency = report.agency.code if report.agency else None
        _perform(
            report,
            "transfer",
            actor=actor,
            message=message.strip(),
            data={
                "reason": reason,
                "from_agency": from_agency,
                "suggested_agency": suggested_agency.code if suggested_agency else None,
            },
            changes={"agency": None, "assignee": None},
        )
    return report


class ReopenWindowPassed(Conflict):
    code = "reopen_window_passed"
    message = _("A report can be reopened only within 7 days of its resolution.")


def report_reopen(*, report: Report, actor: User, reason: str) -> Report:
    """The citizen says the problem is not fixed, within 7 days of the resolution: the same
    agency works on it again, with a new deadline."""
    if not reason.strip():
        raise InvalidInput(
            _("Tell the agency what is still wrong."), code="reason_required", field="reason"
        )
    with transaction.atomic():
        report = _locked(report)
        _check_allowed(report, "reopen", actor)
        if report.resolved_at is None or timezone.now() - report.resolved_at > REOPEN_WINDOW:
            raise ReopenWindowPassed()
        _perform(
            report,
            "reopen",
            actor=actor,
            message=reason.strip(),
            changes={
                "reopen_count": report.reopen_count + 1,
                "closed_at": None,
                "rating": None,
                "rating_comment": "",
                "escalated_at": None,
                "due_at": deadlines.deadline_after(timezone.now(), _deadline_hours(report)),
            },
        )
    return report


def report_rate(*, report: Report, actor: User, stars: int, comment: str = "") -> Report:
    """The citizen rates the result (1 to 5 stars), which closes the report."""
    if not 1 <= stars <= 5:
        raise InvalidInput(_("Give 1 to 5 stars."), code="invalid_rating", field="stars")
    with transaction.atomic():
        report = _locked(report)
        _perform(
            report,
            "rate",
            actor=actor,
            message=comment.strip(),
            data={"stars": stars},
            changes={"rating": stars, "rating_comment": comment.strip()},
        )
    return report


def report_close(*, report: Report, actor: User | None = None) -> Report:
    """Close a resolved report: the citizen confirms, or (actor None) the citizen did not
    answer in time."""
    with transaction.atomic():
        report = _locked(report)
        _perform(report, "close", actor=actor, data={"auto": actor is None})
    return report


def report_comment(*, report: Report, actor: User, message: str) -> Event:
    """The citizen writes to the agency. An answer to the agency's question restarts the
    deadline clock."""
    if not message.strip():
        raise InvalidInput(_("Write your message."), code="message_required", field="message")
    with transaction.atomic():
        report = _locked(report)
        return _perform(
            report, "comment", actor=actor, message=message.strip(), changes=_resume_clock(report)
        )


def report_escalate(*, report_id: int) -> Report | None:
    """Escalate an overdue report once: the agency's managers and the dispatchers are told.

    Idempotent: a report already escalated, no longer open, not overdue or gone is left as
    it is (returns None when nothing was done).
    """
    with transaction.atomic():
        report = _lockable().filter(pk=report_id).first()
        if (
            report is None
            or report.escalated_at is not None
            or report.status not in TRANSITIONS["escalate"].sources
            or report.waiting_since is not None
            or report.due_at is None
            or report.due_at >= timezone.now()
        ):
            return None
        _perform(
            report,
            "escalate",
            actor=None,
            data={"due_at": report.due_at.isoformat()},
            changes={"escalated_at": timezone.now()},
        )
    return report


def report_close_unanswered(*, report_id: int, after: timedelta) -> Report | None:
    """Close a report resolved more than `after` ago that its citizen neither rated nor
    reopened. Idempotent (returns None when nothing was done)."""
    with transaction.atomic():
        report = _lockable().filter(pk=report_id).first()
        if (
            report is None
            or report.status != S.RESOLVED
            or report.resolved_at is None
            or timezone.now() - report.resolved_at < after
        ):
            return None
        _perform(report, "close", actor=None, data={"auto": True})
    return report


def report_routing_gave_up(*, report_id: int, attempts: int) -> Report | None:
    """Routing failed again and again: hand the report to the dispatchers instead of
    retrying forever. Idempotent (None when the report is no longer submitted)."""
    with transaction.atomic():
        report = _lockable().filter(pk=report_id).first()
        if report is None or report.status != S.SUBMITTED:
            return None
        _perform(
            report,
            "send_to_triage",
            actor=None,
            data={"reason": "routing_failed", "attempts": attempts},
        )
    return report
