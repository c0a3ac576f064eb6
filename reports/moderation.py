"""Moderation: what the public sees of a report. Moderators (dispatchers, administrators,
and others given `reports.moderate_report` for their own agency's reports) hide a report, a
photo or a comment from the public, edit the public text (the citizen's own is kept), and
decide on the citizens' flags; a report reaching FLAG_HIDE_THRESHOLD open flags is hidden
until a moderator decides. Nothing is deleted.

Visibility. `is_public` is what the public sees: the reporter's choice (`reporter_public`),
unless a moderator hid the report or it was merged into another; the reporter and staff
always see it (each transition that changes one of these sets `is_public`). Hidden content
leaves the feed, the detail (404 to others), search, nearby, Open311 and the exports at
once, because they all read public reports only. Every change is a lifecycle transition
(reports.lifecycle), recorded in the timeline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hues.errors import Conflict, InvalidInput, NotPermitted
from reports.lifecycle import _lockable, _locked, _moderates, _perform
from reports.models import (
    Event,
    Flag,
    FlagReason,
    HideReason,
    Photo,
    Report,
    ReportStatus,
)
from reports.selectors import reports_changed
from reports.text import report_search_text

if TYPE_CHECKING:
    from accounts.models import User


def reason_required(reason: str) -> str:
    if not reason.strip():
        raise InvalidInput(_("Give the reason."), code="reason_required", field="reason")
    return reason.strip()


def _hide_reason(reason: str) -> str:
    if reason not in HideReason.values:
        raise InvalidInput(_("Choose a reason."), code="invalid_reason", field="reason")
    return reason


def report_hide(*, report: Report, actor: User | None, reason: str, message: str = "") -> Report:
    """Hide a report from the public: it stays visible to its reporter and to staff, and the
    reporter is told why. `actor` None: the citizens' flags reached FLAG_HIDE_THRESHOLD."""
    _hide_reason(reason)
    with transaction.atomic():
        report = _locked(report)
        if report.hidden_at is not None:
            raise Conflict(_("The report is hidden already."), code="already_hidden")
        _perform(
            report,
            "hide" if actor is not None else "hide_flagged",
            actor=actor,
            message=message.strip(),
            data={"reason": reason},
            # Hidden: never public (see `visibility`).
            changes={"hidden_at": timezone.now(), "hidden_reason": reason, "is_public": False},
        )
    return report


def report_show(*, report: Report, actor: User, message: str = "") -> Report:
    """Show a hidden report to the public again (if its reporter made it public); its open
    flags are dismissed."""
    with transaction.atomic():
        report = _locked(report)
        if report.hidden_at is None:
            raise Conflict(_("The report is not hidden."), code="not_hidden")
        _perform(
            report,
            "show",
            actor=actor,
            message=message.strip(),
            changes={
                "hidden_at": None,
                "hidden_reason": "",
                "is_public": report.reporter_public and report.status != ReportStatus.MERGED,
            },
        )
        _decide_flags(report, event=None, actor=actor, decision=Flag.Decision.DISMISSED)
    return report


def report_edit_text(
    *, report: Report, actor: User, description: str, address: str, reason: str
) -> Report:
    """Edit the public description and address (personal data, insults). The citizen's own
    text is kept (`original_description`, `original_address`) for staff, and the edit is an
    internal timeline entry with who, when and what it was before."""
    reason = reason_required(reason)
    description, address = description.strip(), address.strip()
    if not description:
        raise InvalidInput(
            _("The description cannot be empty."), code="description_required", field="description"
        )
    with transaction.atomic():
        report = _locked(report)
        if (description, address) == (report.description, report.address):
            raise InvalidInput(_("Nothing was changed."), code="nothing_changed")
        changes: dict[str, Any] = {
            "description": description,
            "address": address,
            "search_text": report_search_text(
                reference=report.reference, description=description, address=address
            ),
        }
        if not report.original_description:
            changes["original_description"] = report.description
            changes["original_address"] = report.address
        _perform(
            report,
            "edit_text",
            actor=actor,
            message=reason,
            data={
                "before": {"description": report.description, "address": report.address},
                "after": {"description": description, "address": address},
            },
            changes=changes,
        )
    return report


def photo_set_hidden(*, photo: Photo, actor: User, hidden: bool, reason: str) -> Photo:
    """Hide a photo from the public (or show it again); the reporter and staff see it."""
    reason = reason_required(reason)
    with transaction.atomic():
        report = _locked(photo.report)
        photo = Photo.objects.select_for_update().get(pk=photo.pk, report=report)
        if (photo.hidden_at is not None) == hidden:
            raise Conflict(_("The photo is like that already."), code="nothing_changed")
        _perform(
            report,
            "hide_photo" if hidden else "show_photo",
            actor=actor,
            message=reason,
            data={"photo": photo.pk},
        )
        photo.hidden_at = timezone.now() if hidden else None
        photo.save(update_fields=["hidden_at"])
    return photo


def comment_hide(*, event: Event, actor: User, reason: str) -> Event:
    """Hide a citizen's comment: the public sees a placeholder, nothing is deleted; its open
    flags are upheld."""
    reason = reason_required(reason)
    with transaction.atomic():
        report = _locked(event.report)
        comment = Event.objects.select_for_update().get(pk=event.pk, report=report)
        if comment.kind != Event.Kind.COMMENTED:
            raise InvalidInput(_("Only comments can be hidden."), code="not_a_comment")
        if comment.moderated_at is not None:
            raise Conflict(_("The comment is hidden already."), code="already_hidden")
        _perform(report, "hide_comment", actor=actor, message=reason, data={"comment": comment.pk})
        comment.moderated_at = timezone.now()
        comment.save(update_fields=["moderated_at"])
        _decide_flags(report, event=comment, actor=actor, decision=Flag.Decision.UPHELD)
    return comment


# Citizens' flags and the moderation queue


class CannotFlag(NotPermitted):
    code = "cannot_flag"
    message = _("You cannot flag your own report.")


class AlreadyFlagged(Conflict):
    code = "already_flagged"
    message = _("You have flagged this already.")


def flag_create(*, report: Report, user: User, reason: str, comment_id: int | None = None) -> Flag:
    """A citizen flags a public report, or a public comment on it, once, with a reason.
    Flags wait in the moderation queue; a report reaching FLAG_HIDE_THRESHOLD open flags is
    hidden until a moderator decides (one citizen's flag never hides a report on its own
    while the threshold is above one)."""
    if reason not in FlagReason.values:
        raise InvalidInput(_("Choose a reason."), code="invalid_reason", field="reason")
    if user.pk == report.reporter_id:
        raise CannotFlag()
    with transaction.atomic():
        report = _lockable().get(pk=report.pk)
        event = None
        if comment_id is not None:
            event = report.events.filter(
                pk=comment_id, kind=Event.Kind.COMMENTED, is_public=True
            ).first()
            if event is None:
                raise InvalidInput(
                    _("No such comment on this report."), code="unknown_comment", field="comment"
                )
        if Flag.objects.filter(user=user, report=report, event=event).exists():
            raise AlreadyFlagged()
        try:
            with transaction.atomic():
                flag = Flag.objects.create(report=report, event=event, user=user, reason=reason)
        except IntegrityError as error:
            raise AlreadyFlagged() from error
        if event is None:
            Report.objects.filter(pk=report.pk).update(flags_open=F("flags_open") + 1)
            report.refresh_from_db(fields=["flags_open"])
            if report.flags_open >= settings.FLAG_HIDE_THRESHOLD and report.hidden_at is None:
                report_hide(report=report, actor=None, reason=HideReason.FLAGGED)
    return flag


def _decide_flags(report: Report, *, event: Event | None, actor: User | None, decision: str) -> int:
    """Close the open flags of the report (or of one comment): decided by `actor`."""
    decided = Flag.objects.filter(report=report, event=event, decided_at__isnull=True).update(
        decided_at=timezone.now(), decided_by=actor, decision=decision
    )
    if event is None and decided:
        Report.objects.filter(pk=report.pk).update(flags_open=0)
    return decided


def flags_decide(*, report: Report, actor: User, keep: bool, reason: str = "") -> Report:
    """A moderator decides on a report's open flags: keep it visible (the flags are
    dismissed; a report hidden by the flags is shown again) or hide it (upheld)."""
    if not _moderates(actor, report):
        raise NotPermitted()
    if keep:
        if report.hidden_at is not None and report.hidden_reason == HideReason.FLAGGED:
            return report_show(report=report, actor=actor, message=reason)
        with transaction.atomic():
            _decide_flags(report, event=None, actor=actor, decision=Flag.Decision.DISMISSED)
        reports_changed([report.reference])
        return report
    with transaction.atomic():
        if report.hidden_at is None:
            report = report_hide(
                report=report, actor=actor, reason=HideReason.OTHER, message=reason
            )
        elif report.hidden_reason == HideReason.FLAGGED:
            Report.objects.filter(pk=report.pk).update(hidden_reason=HideReason.OTHER)
        _decide_flags(report, event=None, actor=actor, decision=Flag.Decision.UPHELD)
    return report


def comment_flags_decide(*, event: Event, actor: User, keep: bool, reason: str = "") -> Event:
    """A moderator decides on a comment's open flags: keep it (dismissed) or hide it
    (upheld: the public sees a placeholder)."""
    if not _moderates(actor, event.report):
        raise NotPermitted()
    if not keep:
        return comment_hide(event=event, actor=actor, reason=reason or str(_("Flagged")))
    with transaction.atomic():
        _decide_flags(event.report, event=event, actor=actor, decision=Flag.Decision.DISMISSED)
    return event
