"""Who is told what when a report's timeline moves.

`notify_events` turns Events (one, or a routing batch's in one pass) into messages for the
people concerned, in their language, and hands them to the notifications app, which writes
each user's inbox notification and sends it by push, SMS and email. It runs in tasks
(`reports.notify`, `reports.notify_many`), never in a request, and is idempotent: a user
gets at most one notification per event.

Who hears about what:

- the reporter: every status change of their report they can see (a public event), public
  updates and questions, the result (resolved, with a request for a rating; rejected, with
  the reason); never an internal note, never their own action. An SMS only for the result.
- the supporters ("me too"): the result of a public report; the people a merge brought to it
  (the duplicate's reporter and supporters) hear what its reporter hears: its progress and
  outcome.
- the agency's staff and managers: a report that arrives (routed, dispatched to them,
  reopened), and the citizen's messages when no one is assigned.
- the assignee: the assignment, and the citizen's messages.
- the dispatchers: a report an agency handed back to them (transferred).
- the agency's managers and every dispatcher: an escalation (the report is overdue).
- the agency a correction took a report away from: that it left, and for whom.
- a caller a report was filed for (hotline, walk-in...): a text message with the result, when
  they agreed to it; the operator who filed it hears nothing as a reporter.
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from typing import Any, NamedTuple

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from accounts.models import Role, User
from accounts.sms_limits import PhoneNotAllowed
from accounts.texts import text_send_now
from hues.city import current_city
from hues.dates import short_time
from hues.scheduling import enqueue, enqueue_on_commit
from notifications.channels import Message
from notifications.models import Notification
from notifications.selectors import users_told
from notifications.services import notifications_send
from reports.models import Agency, Event, HideReason, Report, Supporter

logger = logging.getLogger(__name__)

K = Event.Kind


class Audience:
    """Why a user is told: it chooses the wording and the channels."""

    REPORTER = "reporter"
    SUPPORTER = "supporter"
    AGENCY = "agency"
    ASSIGNEE = "assignee"
    DISPATCH = "dispatch"
    OVERSIGHT = "oversight"
    FOLLOWER = "follower"
    FORMER_AGENCY = "former_agency"


# The reporter hears of these even when the status stays as it was.
REPORTER_ALWAYS = frozenset(
    {
        K.ROUTED,
        K.PUBLIC_UPDATE,
        K.RESOLVED,
        K.REJECTED,
        K.CORRECTED,
        K.HIDDEN,
        K.SHOWN,
        K.MERGED,
        K.UNMERGED,
        K.SPLIT,
    }
)
REPORTER_NEVER = frozenset({K.INTERNAL_NOTE, K.ESCALATED, K.TRANSFERRED})
OUTCOMES = frozenset({K.RESOLVED, K.REJECTED})
# A report arrives at an agency: routed or dispatched to it, or reopened by the citizen.
ARRIVALS = frozenset({K.ROUTED, K.REOPENED})
# Results are worth a text message to the reporter; everything else goes by push, email and
# the inbox.
TEXTED_KINDS = OUTCOMES
EXCERPT_MAX = 300


# Deciding who is told


# The agency roles told of a report that arrives, and of the citizen's messages.
AGENCY_ROLES = (Role.STAFF, Role.MANAGER)
DISPATCH_KINDS = frozenset({K.TRANSFERRED, K.ESCALATED})


def _events(event_ids: list[int]) -> list[Event]:
    """The events that still exist, in the order asked for."""
    events = (
        Event.objects.select_related(
            "report__reporter", "report__agency", "report__category", "report__assignee"
        )
        .defer("report__search_text")
        .filter(pk__in=event_ids)
    )
    by_pk = {event.pk: event for event in events}
    return [by_pk[pk] for pk in event_ids if pk in by_pk]


def _data(event: Event) -> dict[str, Any]:
    return event.data if isinstance(event.data, dict) else {}


def _reporter_hears(event: Event) -> bool:
    if not event.is_public or event.kind in REPORTER_NEVER or event.report.filed_by_id:
        return False
    return event.kind in REPORTER_ALWAYS or event.from_status != event.to_status


def _agency_hears(event: Event) -> bool:
    """The agency's staff and managers: a report that arrives, a citizen's message that no
    one is assigned to read."""
    kind = event.kind
    return kind in ARRIVALS or (kind == K.COMMENTED and not event.report.assignee_id)


def _supporters_hear(event: Event) -> bool:
    return event.kind in OUTCOMES and event.is_public and event.report.is_public


def _followers_hear(event: Event) -> bool:
    """The people a merge brought hear what the reporter would (filed for a caller or not)."""
    if not event.is_public or event.kind in REPORTER_NEVER:
        return False
    return event.kind in REPORTER_ALWAYS or event.from_status != event.to_status


def _former_agency_code(event: Event) -> str | None:
    """The agency a correction took the report away from (a `reroute`'s ROUTED or
    NEEDS_TRIAGE event)."""
    data = _data(event)
    if data.get("reason") != "correction" or event.kind not in (K.ROUTED, K.NEEDS_TRIAGE):
        return None
    code = data.get("from_agency")
    return str(code) if code else None


def _caller_hears(event: Event) -> bool:
    """A caller who agreed to be texted hears the result of the report filed for them."""
    report = event.report
    return bool(
        event.kind in OUTCOMES
        and event.is_public
        and report.caller_phone
        and report.caller_consent_at
    )


def _other_agency_code(event: Event) -> str | None:
    """The code of the agency the event names when it is not the report's (None if none)."""
    data = _data(event)
    code = data.get("agency") or data.get("from_agency")
    agency = event.report.agency
    if not code or (agency is not None and agency.code == code):
        return None
    return str(code)


def _other_assignee_id(event: Event) -> int | None:
    """The colleague an assignment named when the report has since moved to someone else."""
    if event.kind != K.ASSIGNED:
        return None
    assignee_id = _data(event).get("assignee")
    if assignee_id is None or assignee_id == event.report.assignee_id:
        return None
    return assignee_id


@dataclass
class People:
    """Everyone a batch of events may concern, read once for all of them (`_people`)."""

    # Agencies by code: those events name that are not their report's (see `_event_agency`).
    agencies: dict[str, Agency]
    # Users by pk: the assignees events name that no longer hold the report.
    assignees: dict[int, User]
    # Active staff and managers, by agency pk, of the agencies the events concern.
    members: dict[int, list[User]]
    # Every active dispatcher, when an event tells them.
    dispatchers: list[User]
    # Active supporters, by report pk, of the reports whose result is told.
    supporters: dict[int, list[User]]
    # Active supporters a merge brought, by report pk, of the reports whose news is told.
    followers: dict[int, list[User]]


def _people(events: list[Event]) -> People:
    """One read per kind of person (agencies, colleagues, supporters), whatever the number
    of events, and none when no event needs it."""
    codes = {code for event in events if (code := _other_agency_code(event))}
    codes |= {code for event in events if (code := _former_agency_code(event))}
    agencies = (
        {agency.code: agency for agency in Agency.objects.filter(code__in=codes)} if codes else {}
    )
    people = People(
        agencies=agencies, assignees={}, members={}, dispatchers=[], supporters={}, followers={}
    )

    member_agencies: set[int] = set()
    for event in events:
        agency = _event_agency(event, people)
        if _agency_hears(event) and agency is not None:
            member_agencies.add(agency.pk)
        if event.kind == K.ESCALATED and event.report.agency_id is not None:
            member_agencies.add(event.report.agency_id)
        former = _former_agency_code(event)
        if former and former in people.agencies:
            member_agencies.add(people.agencies[former].pk)
    assignee_ids = {pk for event in events if (pk := _other_assignee_id(event)) is not None}
    tells_dispatchers = any(event.kind in DISPATCH_KINDS for event in events)

    wanted: list[Q] = []
    if assignee_ids:
        wanted.append(Q(pk__in=assignee_ids))
    if member_agencies:
        wanted.append(Q(is_active=True, agency__in=member_agencies, role__in=AGENCY_ROLES))
    if tells_dispatchers:
        wanted.append(Q(is_active=True, role=Role.DISPATCHER))
    if wanted:
        for user in User.objects.filter(reduce(operator.or_, wanted)):
            if user.pk in assignee_ids:
                people.assignees[user.pk] = user
            if not user.is_active:
                continue
            if user.role in AGENCY_ROLES and user.agency_id in member_agencies:
                people.members.setdefault(user.agency_id, []).append(user)
            if tells_dispatchers and user.role == Role.DISPATCHER:
                people.dispatchers.append(user)

    supported = {event.report_id for event in events if _supporters_hear(event)}
    # Only a report with supporters can have followers: no read for the others.
    followed = {
        event.report_id
        for event in events
        if _followers_hear(event) and event.report.supporters_count
    }
    if supported or followed:
        for support in Supporter.objects.filter(
            report__in=supported | followed, user__is_active=True
        ).select_related("user"):
            if support.merged_from_id is not None and support.report_id in followed:
                people.followers.setdefault(support.report_id, []).append(support.user)
            elif support.report_id in supported:
                people.supporters.setdefault(support.report_id, []).append(support.user)
    return people


def _event_agency(event: Event, people: People) -> Agency | None:
    """The agency the event is about: the one routing or dispatch sent the report to, the
    one that handed it back (transfer), else the report's. Events record agencies by code;
    the report may have moved on by the time the task runs."""
    code = _other_agency_code(event)
    if code is None:
        return event.report.agency
    return people.agencies.get(code)


def _assignee(event: Event, people: People) -> User | None:
    """The colleague the event assigned the report to (None when it was unassigned)."""
    report = event.report
    assignee_id = _data(event).get("assignee")
    if assignee_id is None:
        return None
    if assignee_id == report.assignee_id:
        return report.assignee
    return people.assignees.get(assignee_id)


def _members(people: People, agency: Agency | None, roles: Iterable[str]) -> list[User]:
    if agency is None:
        return []
    return [user for user in people.members.get(agency.pk, []) if user.role in roles]


def _recipients(event: Event, agency: Agency | None, people: People) -> dict[int, tuple[User, str]]:
    """{user id: (user, audience)}; the first reason to tell a user wins. Nobody is told of
    their own action, and deactivated users are told nothing. `agency` is the one the event
    concerns (see `_event_agency`)."""
    report = event.report
    kind = event.kind
    chosen: dict[int, tuple[User, str]] = {}

    def add(users: Iterable[User | None], audience: str) -> None:
        for user in users:
            if user is None or not user.is_active or user.pk == event.actor_id:
                continue
            chosen.setdefault(user.pk, (user, audience))

    if _reporter_hears(event):
        add([report.reporter], Audience.REPORTER)
    if kind == K.ASSIGNED:
        add([_assignee(event, people)], Audience.ASSIGNEE)
    if kind == K.COMMENTED and report.assignee_id:
        add([report.assignee], Audience.ASSIGNEE)
    if _agency_hears(event):
        add(_members(people, agency, AGENCY_ROLES), Audience.AGENCY)
    if kind == K.TRANSFERRED:
        add(people.dispatchers, Audience.DISPATCH)
    if kind == K.ESCALATED:
        add(_members(people, report.agency, (Role.MANAGER,)), Audience.OVERSIGHT)
        add(people.dispatchers, Audience.OVERSIGHT)
    former = _former_agency_code(event)
    if former:
        add(_members(people, people.agencies.get(former), AGENCY_ROLES), Audience.FORMER_AGENCY)
    if _followers_hear(event):
        add(people.followers.get(report.pk, []), Audience.FOLLOWER)
    if _supporters_hear(event):
        add(people.supporters.get(report.pk, []), Audience.SUPPORTER)
    return chosen


# What they are told


def _language(user: User) -> str:
    return user.language or settings.LANGUAGE_CODE


def _excerpt(text: str) -> str:
    return Truncator(text).chars(EXCERPT_MAX)


def _report_summary(report: Report) -> str:
    parts = [report.category.display_name, _excerpt(report.description)]
    if report.address:
        parts.append(report.address)
    return "\n".join(parts)


def _compose(event: Event, agency: Agency | None, audience: str) -> tuple[str, str]:
    """Title and text for one audience, in the active language."""
    report = event.report
    kind = event.kind
    names: dict[str, Any] = {
        "reference": report.reference,
        "agency": agency.display_name if agency else _("the city"),
        "status": report.get_status_display(),
    }
    message = event.message

    if audience == Audience.FOLLOWER:
        if kind == K.RESOLVED:
            return _("A report you follow was resolved: %(reference)s") % names, message
        if kind == K.REJECTED:
            return _(
                "A report you follow was closed without action: %(reference)s"
            ) % names, message
        return _("News on a report you follow: %(reference)s (%(status)s)") % names, message

    if audience == Audience.FORMER_AGENCY:
        moved = _("Report %(reference)s moved to %(agency)s after a correction") % names
        if event.kind == K.NEEDS_TRIAGE:
            moved = _("Report %(reference)s went to the dispatchers after a correction") % names
        return moved, message

    if audience == Audience.SUPPORTER:
        if kind == K.RESOLVED:
            return _("A report you support was resolved: %(reference)s") % names, message
        return _("A report you support was closed without action: %(reference)s") % names, message

    if audience == Audience.REPORTER:
        if kind == K.ROUTED:
            title = _("Your report %(reference)s was sent to %(agency)s") % names
            if report.due_at is None:
                return title, message
            due = _("It is due to be handled by %(due)s.") % {"due": short_time(report.due_at)}
            return title, f"{message}\n\n{due}" if message else due
        if kind == K.ACCEPTED:
            return _("%(agency)s is working on your report %(reference)s") % names, message
        if kind == K.PUBLIC_UPDATE and event.data.get("ask_citizen"):
            return _("%(agency)s has a question about your report %(reference)s") % names, message
        if kind == K.PUBLIC_UPDATE:
            return _("News on your report %(reference)s") % names, message
        if kind == K.RESOLVED:
            ask = _("How did it go? Rate the result in the %(app)s app.") % {
                "app": current_city().app_name
            }
            return (
                _("Your report %(reference)s was resolved") % names,
                f"{message}\n\n{ask}" if message else ask,
            )
        if kind == K.REJECTED:
            return _("Your report %(reference)s was not accepted") % names, message
        if kind == K.REOPENED:
            return _("Your report %(reference)s was reopened") % names, message
        if kind == K.CLOSED:
            return _("Your report %(reference)s was closed") % names, message
        if kind == K.CORRECTED:
            return _("Your report %(reference)s was corrected") % names, _corrections(event)
        if kind == K.HIDDEN:
            reason = HideReason(event.data.get("reason", HideReason.OTHER)).label
            body = f"{reason}\n\n{message}" if message else str(reason)
            return _("Your report %(reference)s was hidden from the public") % names, body
        if kind == K.SHOWN:
            return _("Your report %(reference)s is public again") % names, message
        if kind == K.MERGED:
            original = event.data.get("original", "")
            body = _(
                "The same problem was reported as %(original)s: you will hear of its progress."
            ) % {"original": original}
            title = _("Your report %(reference)s was merged into %(original)s") % {
                **names,
                "original": original,
            }
            return title, f"{body}\n\n{message}" if message else body
        if kind == K.UNMERGED:
            return _("Your report %(reference)s is handled on its own again") % names, message
        if kind == K.SPLIT:
            parts = ", ".join(event.data.get("into", []))
            return (
                _("Your report %(reference)s was split into several reports") % names,
                _("You can follow each of them: %(references)s.") % {"references": parts},
            )
        return _("Your report %(reference)s: %(status)s") % names, message

    if audience == Audience.DISPATCH:
        return _("%(agency)s handed report %(reference)s back for routing") % names, message
    if kind == K.ESCALATED:
        due = short_time(report.due_at) if report.due_at else "—"
        body = _("%(agency)s, due %(due)s.") % {"agency": names["agency"], "due": due}
        return _("Report %(reference)s is overdue") % names, f"{body}\n{_report_summary(report)}"
    if kind == K.ASSIGNED:
        return _("Report %(reference)s was assigned to you") % names, _report_summary(report)
    if kind == K.COMMENTED:
        return _("The citizen wrote about report %(reference)s") % names, message
    if kind == K.REOPENED:
        return _("Report %(reference)s was reopened by the citizen") % names, message
    return _("New report %(reference)s") % names, _report_summary(report)


def _corrections(event: Event) -> str:
    """What a correction changed, as the citizen reads it."""
    after = event.data.get("after", {}) if isinstance(event.data, dict) else {}
    lines = []
    if "category" in after:
        category = event.report.category
        lines.append(_("Category: %(category)s") % {"category": category.display_name})
    if "area" in after or "address" in after:
        place = event.report.address or (
            event.report.area.display_name if event.report.area else ""
        )
        lines.append(_("Place: %(place)s") % {"place": place})
    if "priority" in after:
        lines.append(
            _("Priority: %(priority)s") % {"priority": event.report.get_priority_display()}
        )
    if event.message:
        lines.append(event.message)
    return "\n".join(lines)


def _message(event: Event, agency: Agency | None, user: User, audience: str) -> Message:
    report = event.report
    with translation.override(_language(user)):
        title, body = _compose(event, agency, audience)
    data: dict[str, Any] = {
        "reference": report.reference,
        "status": event.to_status or report.status,
    }
    if audience == Audience.REPORTER and event.kind == K.RESOLVED:
        data["action"] = "rate"
    return Message(
        user=user,
        kind=event.kind,
        title=title,
        body=body,
        data=data,
        report_id=report.pk,
        event_id=event.pk,
        texted=audience == Audience.REPORTER and event.kind in TEXTED_KINDS,
    )


class Plan(NamedTuple):
    """One event, the agency it concerns and whom it tells."""

    event: Event
    agency: Agency | None
    recipients: dict[int, tuple[User, str]]


def notify_events(event_ids: Iterable[int]) -> list[Notification]:
    """Tell everyone concerned about timeline events: an inbox notification each, and a
    delivery per channel that reaches them, sent by the notifications app after the commit.
    Each event tells exactly whom and what it would alone; a batch costs the same few
    queries however many events it holds (a routing batch's `reports.notify_many`).

    Idempotent: users already told about an event are not told again, so a re-run (a
    retried, duplicated or swept task) creates nothing. Runs of one event are serialised on
    its row (the batch's rows are locked in one statement, in pk order); the events are
    marked `notified_at` in the same transaction as their notifications, so the sweeper
    re-drives exactly the events whose task was lost. Events that no longer exist are
    ignored. Returns the notifications it created.
    """
    events = _events(list(dict.fromkeys(event_ids)))
    if not events:
        return []
    people = _people(events)
    plans = []
    for event in events:
        agency = _event_agency(event, people)
        plans.append(Plan(event, agency, _recipients(event, agency, people)))
    if not any(plan.recipients for plan in plans) and not any(map(_caller_hears, events)):
        _mark_notified([event.pk for event in events])
        return []
    try:
        return _notify(plans)
    except IntegrityError:
        # A concurrent run of the same task told some of them first: tell the others.
        return _notify(plans)


def notify_event(event_id: int) -> list[Notification]:
    """`notify_events` for one event (the `reports.notify` task)."""
    return notify_events([event_id])


def _mark_notified(event_ids: list[int]) -> None:
    """The sweeper's marker; inside _notify's transaction, it commits with the
    notifications."""
    Event.objects.filter(pk__in=event_ids, notified_at__isnull=True).update(
        notified_at=timezone.now()
    )


def _notify(plans: list[Plan]) -> list[Notification]:
    event_ids = [plan.event.pk for plan in plans]
    with transaction.atomic():
        # A concurrent run of the same events (a swept copy of a task still queued) waits
        # here for this one's commit, then finds everyone told. Locked in pk order, so two
        # overlapping batches cannot deadlock.
        list(
            Event.objects.select_for_update()
            .filter(pk__in=event_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        told = users_told(event_ids)
        # A caller is texted once per event: by the run that first marks it notified.
        callers = [plan.event.pk for plan in plans if _caller_hears(plan.event)]
        if callers:
            unmarked = Event.objects.filter(pk__in=callers, notified_at__isnull=True)
            for event_id in unmarked.values_list("pk", flat=True):
                enqueue_on_commit("reports.text_caller", event_id)
        _mark_notified(event_ids)
        untold = [
            (plan, user, audience)
            for plan in plans
            for pk, (user, audience) in plan.recipients.items()
            if (plan.event.pk, pk) not in told
        ]
        if not untold:
            return []
        return notifications_send(
            [_message(plan.event, plan.agency, user, audience) for plan, user, audience in untold]
        )


def events_renotify_lost() -> int:
    """Re-enqueue `reports.notify` for events that were never marked notified (the task
    was lost: the broker was down at commit time, a worker died). Only events of the last
    NOTIFY_SWEEP_WINDOW: one that keeps failing is given up after that, never looped on
    forever. Returns how many."""
    now = timezone.now()
    ids = list(
        Event.objects.filter(
            notified_at__isnull=True,
            created_at__lt=now - settings.NOTIFY_SWEEP_AFTER,
            created_at__gte=now - settings.NOTIFY_SWEEP_WINDOW,
        )
        .order_by("created_at", "id")
        .values_list("id", flat=True)[:1000]
    )
    for event_id in ids:
        enqueue("reports.notify", event_id)
    return len(ids)


def caller_text(event: Event) -> str:
    """The text message a caller gets with the result of the report filed for them, in the
    city's first language (a caller's is not known)."""
    report = event.report
    with translation.override(settings.LANGUAGE_CODE):
        names = {"app": current_city().app_name, "reference": report.reference}
        if event.kind == K.RESOLVED:
            text = _("%(app)s: the report %(reference)s you gave us was resolved.") % names
        else:
            text = _("%(app)s: the report %(reference)s you gave us was closed.") % names
        return f"{text} {_excerpt(event.message)}".strip()


def caller_text_send(*, event_id: int) -> bool:
    """Text the caller the result of the report filed for them (the `reports.text_caller`
    task), through the accounts outbox: the SMS budget and allowed countries count it, and a
    retried task sends it once (its key). False when there is no one to text any more, or
    the number may not be texted."""
    event = Event.objects.select_related("report").filter(pk=event_id).first()
    if event is None or not _caller_hears(event):
        return False
    try:
        text_send_now(
            phone=event.report.caller_phone, body=caller_text(event), key=f"caller:{event.pk}"
        )
    except PhoneNotAllowed:
        return False
    return True
