"""The back office as an editor: staff correct, merge and split reports (moderation is
reports.moderation).

Each use case is one or more lifecycle transitions (reports.lifecycle.TRANSITIONS), with an
actor and a reason, recorded in the timeline (public or internal by kind); reports.audience
tells whom it concerns after the commit, and the cached pages of the report drop at once
(its row, photos, timeline and supporters are saved through the ORM).

Deadlines after a correction. The working time the report has already spent with an agency
counts: what is left of the old deadline grows or shrinks by the difference between the new
deadline (category and priority) and the old one, from now (or from when the clock stopped,
while the agency waits for the citizen). Nobody gets a deadline in the past from a
correction: at least one working day is left (or the new category's whole deadline, when
that is shorter). A report that moves to another agency keeps the same rule: the citizen's
wait does not start over, as with a transfer.

"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hues.errors import Conflict, InvalidInput
from hues.scheduling import enqueue_on_commit
from reports import deadlines
from reports.lifecycle import (
    TransitionNotAllowed,
    _check_allowed,
    _deadline_hours,
    _lockable,
    _locked,
    _perform,
    _routing,
)
from reports.models import (
    OPEN_STATUSES,
    WITH_AGENCY_STATUSES,
    Category,
    Event,
    Photo,
    Priority,
    Report,
    ReportStatus,
    Supporter,
)
from reports.moderation import reason_required
from reports.selectors import routing_snapshot, work_calendar
from reports.services import OutsideServiceArea, UnknownCategory, report_file_split_part
from reports.text import report_search_text

if TYPE_CHECKING:
    from datetime import datetime

    from accounts.models import User

S = ReportStatus
# A correction leaves at least this much working time (or the whole new deadline if shorter).
CORRECTION_MIN_HOURS = 7.5


# Corrections


def _corrected_deadline(
    report: Report, old_hours: int, new_hours: int, now: datetime
) -> datetime | None:
    if report.due_at is None:
        return None
    calendar = work_calendar()
    base = report.waiting_since or now
    left = deadlines.working_time_between(base, report.due_at, calendar)
    left += timedelta(hours=new_hours - old_hours)
    floor = timedelta(hours=min(new_hours, CORRECTION_MIN_HOURS))
    return deadlines.add_working_time(base, max(left, floor), calendar)


def report_correct(
    *,
    report: Report,
    actor: User,
    reason: str,
    category_code: str | None = None,
    location: tuple[float, float] | None = None,
    address: str | None = None,
    priority: str | None = None,
) -> Report:
    """Correct what the citizen sent: the category, the place (lat, lng: the area is found
    again), the address text, the priority (an urgent report made normal too). Dispatchers
    correct any open report, an agency's staff and managers their agency's.

    When the correction makes another agency responsible, the report is routed again by the
    rules (`reroute`; to the dispatchers' queue where none applies), the old agency is told
    it left and the new one that it arrived. The deadline follows (module docstring)."""
    reason = reason_required(reason)
    if priority is not None and priority not in Priority.values:
        raise InvalidInput(_("Choose a priority."), code="invalid_priority", field="priority")
    with transaction.atomic():
        report = _locked(report)
        _check_allowed(report, "correct", actor)
        changes: dict[str, Any] = {}
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        old_hours = _deadline_hours(report)
        if category_code is not None and category_code != report.category.code:
            category = Category.objects.filter(code=category_code, is_active=True).first()
            if category is None:
                raise UnknownCategory(field="category")
            before["category"], after["category"] = report.category.code, category.code
            changes["category"] = category
        if location is not None and (location[0], location[1]) != (report.lat, report.lng):
            lat, lng = location
            snapshot = routing_snapshot()
            area_code = snapshot.index.locate(lng, lat)
            if area_code is None:
                raise OutsideServiceArea(field="location")
            before["location"], after["location"] = [report.lat, report.lng], [lat, lng]
            before["area"] = report.area.code if report.area else None
            after["area"] = area_code
            changes.update(lat=lat, lng=lng, area_id=snapshot.area_ids[area_code])
        if address is not None and address.strip() != report.address:
            before["address"], after["address"] = report.address, address.strip()
            changes["address"] = address.strip()
        if priority is not None and priority != report.priority:
            before["priority"], after["priority"] = report.priority, priority
            changes["priority"] = priority
        if not changes:
            raise InvalidInput(_("Nothing was changed."), code="nothing_changed")
        if "address" in changes:
            changes["search_text"] = report_search_text(
                reference=report.reference,
                description=report.description,
                address=changes["address"],
            )
        for field, value in changes.items():
            setattr(report, field, value)
        now = timezone.now()
        new_hours = _deadline_hours(report)
        if new_hours != old_hours and report.due_at is not None:
            due = _corrected_deadline(report, old_hours, new_hours, now)
            before["due_at"] = report.due_at.isoformat()
            after["due_at"] = due.isoformat() if due else None
            changes["due_at"] = due
            if due is not None and due > now:
                changes["escalated_at"] = None
        _perform(
            report,
            "correct",
            actor=actor,
            message=reason,
            data={"before": before, "after": after},
            changes=changes,
        )
        _reroute_if_needed(report, actor, old_hours, now)
    return report


def _reroute_if_needed(report: Report, actor: User, old_hours: int, now: datetime) -> None:
    """After a correction: route the report again when the rules now name another agency
    (or none). A submitted report is left to the routing task; one in the dispatchers'
    queue is routed when a rule now applies."""
    if report.status not in (S.NEEDS_TRIAGE, *WITH_AGENCY_STATUSES):
        return
    name, data, changes = _routing(report, routing_snapshot(), work_calendar(), now)
    from_agency = report.agency.code if report.agency else None
    if name == "route" and changes["agency_id"] == report.agency_id:
        return
    if name == "send_to_triage" and report.status == S.NEEDS_TRIAGE:
        return
    data = {**data, "from_agency": from_agency, "reason": "correction"}
    if name == "route":
        if report.due_at is not None:
            changes["due_at"] = report.due_at  # corrected already: the wait does not restart
        _perform(
            report,
            "reroute",
            actor=actor,
            data=data,
            changes={**changes, "assignee": None, "accepted_at": None},
        )
    else:
        _perform(
            report,
            "reroute_to_triage",
            actor=actor,
            data=data,
            changes={"agency": None, "assignee": None},
        )


# Merging


class MergeNotAllowed(Conflict):
    code = "merge_not_allowed"
    message = _("A report can be merged only into another open report.")


def _locked_pair(first: Report, second: Report) -> tuple[Report, Report]:
    """Both rows locked, in id order (two merges crossing cannot deadlock)."""
    rows = {r.pk: r for r in _lockable().filter(pk__in=[first.pk, second.pk]).order_by("pk")}
    return rows[first.pk], rows[second.pk]


def report_merge(*, duplicate: Report, original: Report, actor: User, message: str = "") -> Report:
    """Mark `duplicate` as a duplicate of the open report `original`: it closes as merged
    (no longer public; its API detail names the original), and its reporter and supporters
    become supporters of the original (each person once: no double counting), who hear its
    progress and outcome. Dispatchers merge any reports, an agency its own."""
    if duplicate.pk == original.pk:
        raise MergeNotAllowed()
    with transaction.atomic():
        duplicate, original = _locked_pair(duplicate, original)
        if original.status not in OPEN_STATUSES or original.duplicate_of_id is not None:
            raise MergeNotAllowed()
        _check_allowed(duplicate, "merge", actor)
        _check_allowed(original, "take_duplicate", actor)
        people = {duplicate.reporter_id} | set(
            Supporter.objects.filter(report=duplicate).values_list("user_id", flat=True)
        )
        people -= {original.reporter_id}
        people -= set(
            Supporter.objects.filter(report=original, user__in=people).values_list(
                "user_id", flat=True
            )
        )
        Supporter.objects.bulk_create(
            Supporter(report=original, user_id=user_id, merged_from=duplicate)
            for user_id in sorted(people)
        )
        _perform(
            duplicate,
            "merge",
            actor=actor,
            message=message.strip(),
            data={"original": original.reference, "from_status": duplicate.status},
            # A merged report is never public (reports.moderation).
            changes={"duplicate_of": original, "is_public": False},
        )
        _perform(
            original,
            "take_duplicate",
            actor=actor,
            message=message.strip(),
            data={"duplicate": duplicate.reference, "followers": len(people)},
            changes={"supporters_count": Supporter.objects.filter(report=original).count()},
        )
    return duplicate


def report_unmerge(*, duplicate: Report, actor: User, reason: str) -> Report:
    """Undo a merge while the original is still open: the duplicate goes back to the status
    it had, the supporters the merge brought to the original leave it."""
    reason = reason_required(reason)
    with transaction.atomic():
        duplicate = _locked(duplicate)
        original = duplicate.duplicate_of
        if duplicate.status != S.MERGED or original is None:
            raise TransitionNotAllowed()
        duplicate, original = _locked_pair(duplicate, original)
        if original.status not in OPEN_STATUSES:
            raise Conflict(
                _("The original report is closed: the merge can no longer be undone."),
                code="original_closed",
            )
        _check_allowed(duplicate, "unmerge", actor)
        _check_allowed(original, "release_duplicate", actor)
        merged = (
            duplicate.events.filter(kind=Event.Kind.MERGED).order_by("-created_at", "-id").first()
        )
        previous = (merged.data or {}).get("from_status") if merged else None
        if previous not in OPEN_STATUSES:
            previous = S.ROUTED if duplicate.agency_id else S.NEEDS_TRIAGE
        Supporter.objects.filter(report=original, merged_from=duplicate).delete()
        _perform(
            duplicate,
            "unmerge",
            actor=actor,
            message=reason,
            data={"original": original.reference},
            changes={
                "status": previous,
                "duplicate_of": None,
                "closed_at": None,
                "is_public": duplicate.reporter_public and duplicate.hidden_at is None,
            },
        )
        _perform(
            original,
            "release_duplicate",
            actor=actor,
            message=reason,
            data={"duplicate": duplicate.reference},
            changes={"supporters_count": Supporter.objects.filter(report=original).count()},
        )
    return duplicate


# Splitting


@dataclass(frozen=True)
class SplitPart:
    category_code: str
    description: str
    photo_ids: Sequence[int]


def report_split(
    *, report: Report, actor: User, parts: Sequence[SplitPart], reason: str
) -> list[Report]:
    """A dispatcher splits a report that mixes problems (garbage and a broken light) into
    two or more: the report keeps the first part (corrected to its category, re-routed if
    that changes its agency) and a new report is filed for each other part, with its chosen
    photos, for the same reporter and place, and routed by the rules. The reporter is told
    and follows each. Returns the new reports."""
    reason = reason_required(reason)
    if len(parts) < 2:
        raise InvalidInput(_("Split into at least two reports."), code="too_few_parts")
    with transaction.atomic():
        report = _locked(report)
        _check_allowed(report, "split", actor)
        evidence = set(report.photos.filter(kind=Photo.Kind.EVIDENCE).values_list("pk", flat=True))
        for part in parts:
            if not part.description.strip():
                raise InvalidInput(
                    _("Describe each part."), code="description_required", field="description"
                )
            if not set(part.photo_ids) <= evidence:
                raise InvalidInput(
                    _("Choose the report's own photos."), code="unknown_photo", field="photos"
                )
        created = [
            report_file_split_part(
                original=report,
                actor=actor,
                category_code=part.category_code,
                description=part.description.strip(),
                photos=Photo.objects.filter(pk__in=part.photo_ids).order_by("pk"),
            )
            for part in parts[1:]
        ]
        _perform(
            report,
            "split",
            actor=actor,
            message=reason,
            data={"into": [new.reference for new in created]},
        )
        first = parts[0]
        if first.category_code != report.category.code:
            report_correct(
                report=report, actor=actor, reason=reason, category_code=first.category_code
            )
        for new in created:
            enqueue_on_commit("reports.route", new.pk)
    return created
