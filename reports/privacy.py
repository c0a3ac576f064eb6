"""Photo privacy (issue 15): the use cases that keep faces and licence plates out of public view.

Every stored photo (a citizen's evidence, an agency's result) is `pending` until
`photo_redact` has run the detectors (reports.detection) over its evidence copy and written
its public rendition with each region obscured (reports.redaction). Until then it is shown
to nobody but its reporter and staff; a photo whose step keeps failing stays that way,
`failed`, in the admin's filter for staff. Staff add boxes the detector missed or remove a
false one (`photo_regions_edit`): the rendition is made again and the change is an internal
timeline entry. The evidence copy is deleted PHOTO_ORIGINAL_RETENTION_DAYS after the report
closed (`photo_originals_purge`).

A new rendition always gets new file names, and the old files are deleted: a public URL
that once showed a face a staff member has since obscured stops working.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from PIL import Image

from hues.errors import Conflict, InvalidInput, NotPermitted
from hues.scheduling import enqueue_on_commit
from reports import detection, redaction, selectors
from reports.lifecycle import _locked, _perform, _works_on
from reports.models import Photo, PhotoRegion, Redaction

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

# A box staff draw smaller than this (pixels, either side) is a slip of the mouse.
MIN_BOX_SIDE = 4


@dataclass(frozen=True)
class BoxInput:
    """A box staff drew, in the stored photo's pixels."""

    kind: str
    x: int
    y: int
    width: int
    height: int


def _picture(name: str) -> Image.Image:
    """A stored JPEG (evidence copy or public rendition), read once and decoded, as RGB."""
    with storages["default"].open(name, "rb") as handle:
        data = handle.read()
    with Image.open(io.BytesIO(data)) as picture:
        picture.load()
        return picture.convert("RGB")


def _shared(name: str, *, photo: Photo) -> bool:
    """Whether another photo row names the file (a split report's parts share them)."""
    return (
        Photo.objects.filter(
            Q(image=name) | Q(thumbnail=name) | Q(public_image=name) | Q(public_thumbnail=name)
        )
        .exclude(pk=photo.pk)
        .exists()
    )


def _delete_files_on_commit(names: Sequence[str], *, photo: Photo) -> None:
    storage = storages["default"]
    unshared = [name for name in names if name and not _shared(name, photo=photo)]

    def delete() -> None:
        for name in unshared:
            try:
                storage.delete(name)
            except OSError:
                logger.exception("Could not delete the photo file %s", name)

    transaction.on_commit(delete)


def _publish(photo: Photo, picture: Image.Image) -> None:
    """Write the public rendition of a locked photo from the picture and its active
    regions, under new names; the old rendition's files go after the commit."""
    regions = list(photo.regions.filter(removed_at__isnull=True))
    rendition = redaction.redact(picture, regions, thumbnail_side=settings.PHOTO_THUMBNAIL_SIDE)
    old = [photo.public_image.name or "", photo.public_thumbnail.name or ""]
    photo.public_image.save("public.jpg", ContentFile(rendition.image), save=False)
    photo.public_thumbnail.save("public.jpg", ContentFile(rendition.thumbnail), save=False)
    photo.save(update_fields=["public_image", "public_thumbnail"])
    # Saving the photo drops the report's cached pages (reports.selectors).
    _delete_files_on_commit(old, photo=photo)


def photo_redact(*, photo_id: int) -> Photo | None:
    """The privacy step of one photo: find faces and plates in its evidence copy, keep the
    regions with the detector's version, and write the public rendition with each obscured.
    Idempotent: a photo done already is left alone. Detector errors propagate (the task
    retries); nothing is published unless the whole step succeeded."""
    photo = Photo.objects.filter(pk=photo_id).select_related("report").first()
    if photo is None or photo.redaction == Redaction.DONE:
        return photo
    if not photo.has_original:
        photo_redaction_failed(photo_id=photo_id, error="The evidence copy was deleted.")
        return photo
    Photo.objects.filter(pk=photo_id).update(redaction_attempts=F("redaction_attempts") + 1)
    picture = _picture(str(photo.image.name))
    found = detection.detect(picture)
    with transaction.atomic():
        locked = (
            Photo.objects.select_for_update(of=("self",))
            .select_related("report")
            .filter(pk=photo_id)
            .first()
        )
        if locked is None or locked.redaction == Redaction.DONE:
            return locked
        locked.regions.filter(source=PhotoRegion.Source.DETECTOR).delete()
        PhotoRegion.objects.bulk_create(
            PhotoRegion(
                photo=locked,
                kind=region.kind,
                source=PhotoRegion.Source.DETECTOR,
                x=region.x,
                y=region.y,
                width=region.width,
                height=region.height,
                score=region.score,
                detector_version=found.detector_version,
            )
            for region in found.regions
        )
        _publish(locked, picture)
        locked.redaction = Redaction.DONE
        locked.redacted_at = timezone.now()
        locked.detector_version = found.detector_version
        locked.redaction_error = ""
        locked.save(
            update_fields=["redaction", "redacted_at", "detector_version", "redaction_error"]
        )
        if settings.PHOTO_ORIGINAL_RETENTION_DAYS == 0:
            _original_delete(locked)
    return locked


def photo_redaction_failed(*, photo_id: int, error: str, final: bool = True) -> None:
    """Record a failed privacy step; when `final` (retries spent), the photo stays private
    for good and is listed for staff (the admin's "Photos" filter) until they retry it."""
    changes: dict[str, object] = {"redaction_error": error[:500]}
    if final:
        changes["redaction"] = Redaction.FAILED
        logger.error("Photo %s kept private: its privacy step failed: %s", photo_id, error)
    Photo.objects.filter(pk=photo_id).exclude(redaction=Redaction.DONE).update(**changes)


class PhotoNotFailed(Conflict):
    code = "photo_not_failed"
    message = _("Only a photo whose processing failed can be processed again.")


def photo_redaction_retry(*, photo: Photo, actor: User) -> Photo:
    """Staff send a failed photo through the privacy step again (after fixing the worker)."""
    with transaction.atomic():
        report = _locked(photo.report)
        if not _works_on(actor, report):
            raise NotPermitted()
        locked = Photo.objects.select_for_update().get(pk=photo.pk, report=report)
        if locked.redaction != Redaction.FAILED:
            raise PhotoNotFailed()
        locked.redaction = Redaction.PENDING
        locked.redaction_attempts = 0
        locked.save(update_fields=["redaction", "redaction_attempts"])
        enqueue_on_commit("reports.redact_photo", locked.pk)
    return locked


def _clean_box(box: BoxInput, photo: Photo) -> BoxInput:
    if box.kind not in PhotoRegion.Kind.values:
        raise InvalidInput(_("Choose face, licence plate or other."), code="invalid_box")
    left, top = max(0, box.x), max(0, box.y)
    right = min(photo.width, box.x + box.width)
    bottom = min(photo.height, box.y + box.height)
    if right - left < MIN_BOX_SIDE or bottom - top < MIN_BOX_SIDE:
        raise InvalidInput(
            _("Draw the box over the photo, at least a few pixels wide and high."),
            code="invalid_box",
        )
    return BoxInput(box.kind, left, top, right - left, bottom - top)


def photo_regions_edit(
    *,
    photo: Photo,
    actor: User,
    add: Sequence[BoxInput] = (),
    remove: Sequence[int] = (),
) -> Photo:
    """Staff obscure what the detector missed, or uncover what it obscured by mistake; the
    public rendition is made again at once (for a photo processed already; otherwise the
    privacy step uses the boxes when it runs). Only staff and managers of the responsible
    agency and dispatchers (lifecycle's `redact_photo`); each change is an internal
    timeline entry. Once the evidence copy is deleted, boxes can still be added (drawn over
    the public rendition) but no longer removed."""
    if not add and not remove:
        raise InvalidInput(_("Draw a box or choose one to remove."), code="nothing_changed")
    boxes = [_clean_box(box, photo) for box in add]
    with transaction.atomic():
        report = _locked(photo.report)
        locked = (
            Photo.objects.select_for_update(of=("self",))
            .select_related("report")
            .get(pk=photo.pk, report=report)
        )
        if remove and not locked.has_original:
            raise Conflict(
                _("The unobscured photo was deleted: a box can no longer be removed."),
                code="original_deleted",
            )
        removing = list(locked.regions.filter(pk__in=remove, removed_at__isnull=True))
        if len(removing) != len(set(remove)):
            raise InvalidInput(_("Choose a box of this photo."), code="unknown_region")
        now = timezone.now()
        _perform(
            report,
            "redact_photo",
            actor=actor,
            message=gettext("Photo %(photo)s: boxes added %(added)d, removed %(removed)d.")
            % {"photo": locked.pk, "added": len(boxes), "removed": len(removing)},
            data={
                "photo": locked.pk,
                "added": [[b.kind, b.x, b.y, b.width, b.height] for b in boxes],
                "removed": [region.pk for region in removing],
            },
        )
        PhotoRegion.objects.bulk_create(
            PhotoRegion(
                photo=locked,
                kind=box.kind,
                source=PhotoRegion.Source.STAFF,
                x=box.x,
                y=box.y,
                width=box.width,
                height=box.height,
                created_by=actor,
                created_at=now,
            )
            for box in boxes
        )
        PhotoRegion.objects.filter(pk__in=[region.pk for region in removing]).update(
            removed_at=now, removed_by=actor
        )
        if locked.is_published:
            base = locked.image if locked.has_original else locked.public_image
            _publish(locked, _picture(str(base.name)))
    return locked


def _original_delete(photo: Photo) -> None:
    """Delete a locked photo's evidence copy (files after the commit, unless a split
    report's photo still keeps them)."""
    names = [photo.image.name or "", photo.thumbnail.name or ""]
    Photo.objects.filter(pk=photo.pk).update(
        image="", thumbnail="", original_deleted_at=timezone.now()
    )
    _delete_files_on_commit(names, photo=photo)


def photo_originals_purge(*, limit: int = 500) -> int:
    """Delete the evidence copies kept past PHOTO_ORIGINAL_RETENTION_DAYS after their
    report closed (with 0, every one the public rendition replaced and every closed
    report's); returns how many. Their public renditions stay."""
    days = settings.PHOTO_ORIGINAL_RETENTION_DAYS
    due = selectors.photo_originals_due(
        closed_before=timezone.now() - timedelta(days=days),
        every_published=days == 0,
        limit=limit,
    )
    purged = 0
    for photo_id in due:
        with transaction.atomic():
            photo = Photo.objects.select_for_update().filter(pk=photo_id).first()
            if photo is not None and photo.has_original:
                _original_delete(photo)
                purged += 1
    return purged
