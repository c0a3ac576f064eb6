"""Use cases for reports and reference data (status changes live in reports.lifecycle)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import shapely
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from shapely.errors import ShapelyError
from shapely.geometry import MultiPolygon, shape
from shapely.geometry.base import BaseGeometry

from hues import metrics
from hues.city import city_text
from hues.errors import Conflict, InvalidInput, NotPermitted
from hues.scheduling import enqueue_on_commit
from reports.models import (
    OPEN_STATUSES,
    Area,
    Category,
    Channel,
    Event,
    Photo,
    PhotoRegion,
    Priority,
    Redaction,
    ReferenceCounter,
    Report,
    ReportStatus,
    Supporter,
)
from reports.photos import PhotoLimits, ProcessedPhoto, process_photo
from reports.selectors import routing_data_changed, routing_snapshot
from reports.text import report_search_text, without_diacritics

if TYPE_CHECKING:
    from datetime import datetime

    from accounts.models import User

logger = logging.getLogger(__name__)


class PhoneNotVerified(NotPermitted):
    code = "phone_not_verified"
    message = _("Verify your phone number before filing a report.")


class UnknownCategory(InvalidInput):
    code = "unknown_category"
    message = _("Choose one of the categories offered.")


class OutsideServiceArea(InvalidInput):
    code = "outside_service_area"
    message = city_text(
        _("This location is outside %(city)s. Reports can only be filed inside the city.")
    )


class PhotoCountInvalid(InvalidInput):
    code = "photo_count"


@dataclass(frozen=True)
class Upload:
    """An uploaded file as the services see it: a stream and its size."""

    stream: IO[bytes]
    size: int


def photo_limits() -> PhotoLimits:
    return PhotoLimits(
        max_bytes=settings.PHOTO_MAX_BYTES,
        max_pixels=settings.PHOTO_MAX_PIXELS,
        max_side=settings.PHOTO_MAX_SIDE,
        thumbnail_side=settings.PHOTO_THUMBNAIL_SIDE,
        max_decoding_bytes=settings.PHOTO_MAX_DECODING_BYTES,
    )


def photos_process(uploads: Sequence[Upload], *, minimum: int = 1) -> list[ProcessedPhoto]:
    """Check the count and clean every photo; nothing is stored yet."""
    maximum = settings.PHOTO_MAX_PER_REPORT
    if not minimum <= len(uploads) <= maximum:
        raise PhotoCountInvalid(
            _("Attach between %(min)d and %(max)d photos.") % {"min": minimum, "max": maximum},
            field="photos",
        )
    limits = photo_limits()
    return [process_photo(upload.stream, size=upload.size, limits=limits) for upload in uploads]


def photos_store(
    *, report: Report, photos: Iterable[ProcessedPhoto], kind: str, uploaded_by: User | None
) -> list[Photo]:
    stored = []
    for processed in photos:
        photo = Photo(report=report, kind=kind, uploaded_by=uploaded_by)
        photo.image.save("photo.jpg", ContentFile(processed.image), save=False)
        photo.thumbnail.save("thumbnail.jpg", ContentFile(processed.thumbnail), save=False)
        photo.width, photo.height = processed.width, processed.height
        photo.save()
        stored.append(photo)
        # Faces and plates are obscured before anyone but the reporter and staff sees it.
        enqueue_on_commit("reports.redact_photo", photo.pk)
    return stored


def _next_reference(year: int) -> str:
    """PREFIX-2026-000123 (the city's prefix): numbered per year, without gaps, safe under
    concurrency (the counter row stays locked until the report's transaction commits)."""
    table = connection.ops.quote_name(ReferenceCounter._meta.db_table)
    with connection.cursor() as cursor:
        # One statement (PostgreSQL and SQLite 3.35+): the year's row, made at its first
        # report, is counted up and read back under its row lock.
        cursor.execute(
            f'INSERT INTO {table} ("year", "last") VALUES (%s, 1) '  # noqa: S608 - a model's table
            f'ON CONFLICT ("year") DO UPDATE SET "last" = {table}."last" + 1 RETURNING "last"',
            [year],
        )
        (number,) = cursor.fetchone()
    return f"{settings.REPORT_REFERENCE_PREFIX}-{year}-{number:06d}"


def report_create(
    *,
    reporter: User,
    category_code: str,
    description: str,
    lat: float,
    lng: float,
    photos: Sequence[Upload],
    address: str = "",
    is_public: bool = True,
    hide_name: bool = False,
    priority: str = Priority.NORMAL,
    min_photos: int = 1,
    channel: str = Channel.APP,
    require_verified: bool = True,
    on_created: Callable[[Report], None] | None = None,
) -> Report:
    """File a report: only verified citizens, only inside the city, with 1 to 5 photos
    (PHOTO_MAX_PER_REPORT); `min_photos=0` is for Open311, whose requests carry no photo.
    `channel` is the code of the channel it came by (the app's unless said otherwise);
    `require_verified=False` is for staff filing for a caller (their phone is not the point).

    Photos are cleaned before the transaction opens, so the transaction stays short; the
    routing task is enqueued after commit. `on_created` runs inside the report's transaction,
    for what must commit or roll back with it (reports.idempotency ties its key there).
    """
    if require_verified and not reporter.is_verified:
        raise PhoneNotVerified()
    category = Category.objects.filter(code=category_code, is_active=True).first()
    if category is None:
        raise UnknownCategory(field="category")
    snapshot = routing_snapshot()
    area_code = snapshot.index.locate(lng, lat)
    if area_code is None:
        raise OutsideServiceArea(field="location")
    processed = photos_process(photos, minimum=min_photos)
    now = timezone.now()
    description, address = description.strip(), address.strip()
    with transaction.atomic():
        reference = _next_reference(timezone.localtime(now).year)
        report = Report.objects.create(
            reference=reference,
            reporter=reporter,
            category=category,
            description=description,
            lat=lat,
            lng=lng,
            address=address,
            search_text=report_search_text(
                reference=reference, description=description, address=address
            ),
            area_id=snapshot.area_ids[area_code],
            priority=priority,
            is_public=is_public,
            reporter_public=is_public,
            hide_name=hide_name,
            channel=_channel(channel),
            created_at=now,
        )
        photos_store(
            report=report, photos=processed, kind=Photo.Kind.EVIDENCE, uploaded_by=reporter
        )
        Event.objects.create(
            report=report,
            kind=Event.Kind.CREATED,
            actor=reporter,
            to_status=report.status,
            created_at=now,
        )
        if on_created is not None:
            on_created(report)
        enqueue_on_commit("reports.route", report.pk)
        transaction.on_commit(
            lambda: metrics.report_created(channel=channel, category=category.code)
        )
    return report


class UnknownChannel(InvalidInput):
    code = "unknown_channel"
    message = _("Choose one of the channels offered.")


def _channel(code: str) -> Channel:
    channel = Channel.objects.filter(code=code, is_active=True).first()
    if channel is None:
        raise UnknownChannel(field="channel")
    return channel


def report_file_for_caller(
    *,
    actor: User,
    channel: str,
    category_code: str,
    description: str,
    area_code: str,
    lat: float | None,
    lng: float | None,
    address: str,
    photos: Sequence[Upload],
    caller_name: str = "",
    caller_phone: str = "",
    caller_consents: bool = False,
    priority: str = Priority.NORMAL,
) -> Report:
    """A hotline operator or a dispatcher files a report for a caller or visitor: the same
    routing, deadlines, timeline and statistics as the app's. The place is a point in the
    chosen ward or commune, or (no point) the address text within it, at the ward's inside
    point. The caller's name and phone are optional; with their recorded consent they get a
    text message when the report is resolved or rejected. The report is filed under the
    operator's account (`filed_by`); the operations centre sees the caller's details."""
    from accounts.phones import InvalidPhoneNumber, normalize_phone

    if not actor.is_active or not actor.has_perm("reports.file_report"):
        raise NotPermitted()
    if channel in (Channel.APP, Channel.OPEN311):
        raise UnknownChannel(_("The app and Open311 file their own reports."), field="channel")
    snapshot = routing_snapshot()
    if area_code not in snapshot.area_ids:
        raise InvalidInput(_("Choose a ward or commune."), code="unknown_area", field="area")
    if lat is None or lng is None:
        if not address.strip():
            raise InvalidInput(
                _("Give a point on the map, or the address within the ward."),
                code="location_required",
                field="address",
            )
        lat, lng = snapshot.index.inside_point(area_code)
    elif snapshot.index.locate(lng, lat) != area_code:
        raise InvalidInput(
            _("The point is not in the chosen ward or commune."),
            code="point_outside_area",
            field="location",
        )
    phone = ""
    if caller_phone.strip():
        try:
            phone = normalize_phone(caller_phone)
        except InvalidPhoneNumber as error:
            raise InvalidInput(
                _("Enter a valid phone number."), code="invalid_phone", field="caller_phone"
            ) from error
    if caller_consents and not phone:
        raise InvalidInput(
            _("A caller who agreed to be texted needs a phone number."),
            code="phone_required",
            field="caller_phone",
        )

    def caller(report: Report) -> None:
        Report.objects.filter(pk=report.pk).update(
            filed_by=actor,
            caller_name=caller_name.strip(),
            caller_phone=phone,
            caller_consent_at=timezone.now() if caller_consents else None,
        )

    return report_create(
        reporter=actor,
        category_code=category_code,
        description=description,
        lat=lat,
        lng=lng,
        photos=photos,
        address=address,
        priority=priority,
        min_photos=0,
        channel=channel,
        require_verified=False,
        on_created=caller,
    )


def _photo_copy(photo: Photo, *, report: Report) -> Photo:
    """A split part's copy of a photo: the same files, where it is in the privacy step and
    the regions obscured in it (a copy still waiting gets its own step)."""
    copy = Photo.objects.create(
        report=report,
        kind=photo.kind,
        image=photo.image.name,
        thumbnail=photo.thumbnail.name,
        width=photo.width,
        height=photo.height,
        uploaded_by_id=photo.uploaded_by_id,
        created_at=photo.created_at,
        public_image=photo.public_image.name,
        public_thumbnail=photo.public_thumbnail.name,
        redaction=photo.redaction,
        redacted_at=photo.redacted_at,
        detector_version=photo.detector_version,
        original_deleted_at=photo.original_deleted_at,
    )
    regions = list(photo.regions.all())
    for region in regions:
        region.pk = None
        region.photo = copy
    PhotoRegion.objects.bulk_create(regions)
    if copy.redaction != Redaction.DONE:
        enqueue_on_commit("reports.redact_photo", copy.pk)
    return copy


def report_file_split_part(
    *,
    original: Report,
    actor: User,
    category_code: str,
    description: str,
    photos: Iterable[Photo],
) -> Report:
    """One part of a split report (reports.editing.report_split): a new report for the same
    reporter, place and channel, with the chosen photos (the same files: photos are never
    changed once stored), in the caller's transaction. Routing is the caller's to enqueue."""
    category = Category.objects.filter(code=category_code, is_active=True).first()
    if category is None:
        raise UnknownCategory(field="category")
    now = timezone.now()
    reference = _next_reference(timezone.localtime(now).year)
    report = Report.objects.create(
        reference=reference,
        reporter_id=original.reporter_id,
        category=category,
        description=description,
        lat=original.lat,
        lng=original.lng,
        address=original.address,
        search_text=report_search_text(
            reference=reference, description=description, address=original.address
        ),
        area_id=original.area_id,
        priority=original.priority,
        is_public=original.reporter_public and original.hidden_at is None,
        reporter_public=original.reporter_public,
        hide_name=original.hide_name,
        channel_id=original.channel_id,
        filed_by_id=original.filed_by_id,
        caller_name=original.caller_name,
        caller_phone=original.caller_phone,
        caller_consent_at=original.caller_consent_at,
        split_from=original,
        created_at=now,
    )
    for photo in photos:
        _photo_copy(photo, report=report)
    Event.objects.create(
        report=report,
        kind=Event.Kind.CREATED,
        actor=actor,
        to_status=report.status,
        data={"split_from": original.reference},
        created_at=now,
    )
    return report


def _polygonal(geometry: BaseGeometry) -> BaseGeometry | None:
    """The geometry as a valid (Multi)Polygon: simplification can leave self-intersections,
    which are repaired; anything without area is refused."""
    if geometry.geom_type not in ("Polygon", "MultiPolygon"):
        return None
    if not geometry.is_valid:
        repaired = shapely.make_valid(geometry)
        parts = [g for g in getattr(repaired, "geoms", [repaired]) if g.geom_type == "Polygon"]
        parts += [
            p
            for g in getattr(repaired, "geoms", [])
            if g.geom_type == "MultiPolygon"
            for p in g.geoms
        ]
        if not parts:
            return None
        geometry = parts[0] if len(parts) == 1 else MultiPolygon(parts)
    return geometry if geometry.area > 0 else None


# The `type` of a unit in the boundary files, in Vietnamese (with or without diacritics) or
# English; anything else is a ward.
AREA_KINDS = {
    "phường": Area.Kind.WARD,
    "phuong": Area.Kind.WARD,
    "ward": Area.Kind.WARD,
    "xã": Area.Kind.COMMUNE,
    "xa": Area.Kind.COMMUNE,
    "commune": Area.Kind.COMMUNE,
    "đặc khu": Area.Kind.SPECIAL_ZONE,
    "dac khu": Area.Kind.SPECIAL_ZONE,
    "special zone": Area.Kind.SPECIAL_ZONE,
}
AREA_KINDS_EN = {
    Area.Kind.WARD: "Ward",
    Area.Kind.COMMUNE: "Commune",
    Area.Kind.SPECIAL_ZONE: "Special Zone",
}


def areas_import_geojson(path: Path) -> tuple[int, int]:
    """Create or update areas from a GeoJSON FeatureCollection of Polygons/MultiPolygons
    with `code`, `name`, `type` (Phường/Xã/Đặc khu) and `population` properties.

    Returns (created, updated). Invalid geometry or a missing property stops the import
    before anything is written.
    """
    try:
        collection = json.loads(Path(path).read_text(encoding="utf-8"))
        features = collection["features"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InvalidInput(
            _("Not a readable GeoJSON FeatureCollection."), code="invalid_geojson"
        ) from error
    if not isinstance(features, list):
        raise InvalidInput(_("Not a readable GeoJSON FeatureCollection."), code="invalid_geojson")
    rows: list[dict[str, Any]] = []
    for feature in features:
        try:
            props = feature["properties"]
            geometry = feature["geometry"]
            polygon = shape(geometry)
            code = str(props["code"]).strip()
            name = str(props.get("full_name") or props["name"]).strip()
        except (KeyError, TypeError, ValueError, AttributeError, ShapelyError) as error:
            raise InvalidInput(
                _("A feature lacks its code, name or geometry."), code="invalid_geojson"
            ) from error
        polygon = _polygonal(polygon)
        if polygon is None:
            raise InvalidInput(
                _("Area %(code)s has no valid polygon.") % {"code": code}, code="invalid_geojson"
            )
        kind = AREA_KINDS.get(str(props.get("type", "")).strip().lower(), Area.Kind.WARD)
        short = str(props.get("name") or name).strip()
        min_lng, min_lat, max_lng, max_lat = polygon.bounds
        rows.append(
            {
                "code": code,
                "name": name,
                "name_en": f"{without_diacritics(short)} {AREA_KINDS_EN[kind]}",
                "kind": kind,
                "population": props.get("population") or None,
                "boundary": json.loads(shapely.to_geojson(polygon)),
                "min_lng": min_lng,
                "min_lat": min_lat,
                "max_lng": max_lng,
                "max_lat": max_lat,
            }
        )
        # Check lengths and numbers here: a database error halfway would be no clean failure.
        try:
            Area(**rows[-1]).clean_fields()
        except ValidationError as error:
            raise InvalidInput(
                _("Area %(code)s: %(errors)s") % {"code": code, "errors": " ".join(error.messages)},
                code="invalid_geojson",
            ) from error
    codes = [row["code"] for row in rows]
    if len(set(codes)) != len(codes):
        raise InvalidInput(_("An area code appears twice."), code="invalid_geojson")
    created = updated = 0
    with transaction.atomic():
        for row in rows:
            _area, was_created = Area.objects.update_or_create(code=row.pop("code"), defaults=row)
            created += was_created
            updated += not was_created
        transaction.on_commit(routing_data_changed)
    return created, updated


def report_resolve_with_photos(
    *, report: Report, actor: User, note: str, photos: Sequence[Upload]
) -> Report:
    """Resolve a report with the agency's note and result photos (cleaned before the
    transaction, stored inside it)."""
    from reports import lifecycle

    processed = photos_process(photos, minimum=0) if photos else []
    return lifecycle.report_resolve(
        report=report,
        actor=actor,
        note=note,
        store_photos=lambda locked: photos_store(
            report=locked, photos=processed, kind=Photo.Kind.RESULT, uploaded_by=actor
        ),
    )


def report_route_attempt(*, report_id: int, batch_size: int = 1) -> Report | None:
    """Route a submitted report, counting the attempt first in its own transaction, so
    that failures count too; past ROUTING_MAX_ATTEMPTS the report goes to the dispatchers.
    Returns None when there was nothing to do.

    With `batch_size` above 1 the same pass also routes up to `batch_size - 1` other
    submitted reports never attempted yet (oldest first, skipping those another worker holds),
    in one transaction: a burst of filed reports costs one read and one write per batch, not
    per report. Their own messages then find them routed and do nothing. A batch that fails
    is routed report by report, so one bad report only fails itself: its attempt is counted
    and its own message retries it.
    """
    from reports import lifecycle

    with transaction.atomic():
        attempts = dict(
            Report.objects.select_for_update()
            .filter(pk=report_id, status=ReportStatus.SUBMITTED)
            .values_list("pk", "routing_attempts")
        )
        if batch_size > 1:
            attempts.update(
                Report.objects.select_for_update(skip_locked=True)
                .filter(status=ReportStatus.SUBMITTED, routing_attempts=0)
                .exclude(pk=report_id)
                .order_by("pk")
                .values_list("pk", "routing_attempts")[: batch_size - 1]
            )
        if attempts:
            Report.objects.filter(pk__in=list(attempts)).update(
                routing_attempts=F("routing_attempts") + 1
            )
    own_attempts = attempts.pop(report_id, None)
    others = list(attempts)
    gave_up = own_attempts is not None and own_attempts + 1 > settings.ROUTING_MAX_ATTEMPTS
    if own_attempts is None or gave_up:
        if others and _route_together(others) is None:
            _route_each(others)
        if own_attempts is None:
            return None
        return lifecycle.report_routing_gave_up(report_id=report_id, attempts=own_attempts + 1)
    if not others:
        return lifecycle.report_route(report_id=report_id)
    routed = _route_together([report_id, *others])
    if routed is None:
        _route_each(others)
        return lifecycle.report_route(report_id=report_id)  # its failure retries this task
    return next((report for report in routed if report.pk == report_id), None)


def _route_together(report_ids: list[int]) -> list[Report] | None:
    """Route reports in one pass (lifecycle.reports_route); None when that pass failed,
    for the caller to route them one by one."""
    from reports import lifecycle

    try:
        return lifecycle.reports_route(report_ids=report_ids)
    except Exception:
        logger.warning("Routing %d reports together failed; routing each", len(report_ids))
        return None


def _route_each(report_ids: list[int]) -> None:
    """Route other reports one by one: one that fails on its own is left submitted (its
    attempt counted) for its own message to retry."""
    from reports import lifecycle

    for other_id in report_ids:
        try:
            lifecycle.report_route(report_id=other_id)
        except Exception:
            logger.exception("Routing report %s failed; its own task retries it", other_id)


# Citizen actions on a report that leave its status alone (transitions are in lifecycle).


class NotReporter(NotPermitted):
    code = "not_reporter"
    message = _("Only the citizen who filed this report can do this.")


class PhotosClosed(Conflict):
    code = "photos_closed"
    message = _("Photos can be added only until the report is sent to an agency.")


class OwnReportSupport(NotPermitted):
    code = "own_report"
    message = _("This is your own report: other citizens can support it.")


class SupportClosed(Conflict):
    code = "support_closed"
    message = _("Only open reports can be supported.")


class AlreadySupported(Conflict):
    code = "already_supported"
    message = _("You already support this report.")


class NotSupported(Conflict):
    code = "not_supported"
    message = _("You do not support this report.")


def _check_photos_addable(report: Report, adding: int) -> None:
    if report.status != ReportStatus.SUBMITTED:
        raise PhotosClosed()
    maximum = settings.PHOTO_MAX_PER_REPORT
    present = report.photos.filter(kind=Photo.Kind.EVIDENCE).count()
    if present + adding > maximum:
        raise PhotoCountInvalid(
            _("A report has at most %(max)d photos; this one has %(count)d already.")
            % {"max": maximum, "count": present},
            field="photos",
        )


def report_add_photos(*, report: Report, actor: User, photos: Sequence[Upload]) -> list[Photo]:
    """The reporter adds evidence photos while the report is still `submitted` (no agency
    has it yet), up to PHOTO_MAX_PER_REPORT in all. The status stays as it is.

    Photos are cleaned before the transaction opens; the rules are checked again under the
    report's row lock, which routing takes too.
    """
    if not (actor.is_active and actor.pk == report.reporter_id):
        raise NotReporter()
    _check_photos_addable(report, len(photos))
    processed = photos_process(photos)
    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        _check_photos_addable(locked, len(processed))
        stored = photos_store(
            report=locked, photos=processed, kind=Photo.Kind.EVIDENCE, uploaded_by=actor
        )
        Report.objects.filter(pk=locked.pk).update(updated_at=timezone.now())
    return stored


def _supporters_count(report: Report) -> int:
    return Report.objects.values_list("supporters_count", flat=True).get(pk=report.pk)


def report_support(*, report: Report, user: User) -> int:
    """A verified user says "me too" about someone else's open report, once: the Supporter
    row is unique per user and report, and the report's count moves (atomically, in the
    database) in the same transaction. Returns the new count."""
    if not user.is_verified:
        raise PhoneNotVerified(_("Verify your phone number before supporting a report."))
    if user.pk == report.reporter_id:
        raise OwnReportSupport()
    if report.status not in OPEN_STATUSES:
        raise SupportClosed()
    if Supporter.objects.filter(report=report, user=user).exists():
        raise AlreadySupported()
    try:
        with transaction.atomic():
            Supporter.objects.create(report=report, user=user)
            # updated_at moves too, so apps syncing with updated_after see the new count.
            Report.objects.filter(pk=report.pk).update(
                supporters_count=F("supporters_count") + 1, updated_at=timezone.now()
            )
    except IntegrityError as error:
        # The same user's other request, at the same moment, was first.
        raise AlreadySupported() from error
    return _supporters_count(report)


def report_support_withdraw(*, report: Report, user: User) -> int:
    """The user takes their "me too" back; the count drops once, whatever the retries.
    Returns the new count."""
    with transaction.atomic():
        deleted, _by_model = Supporter.objects.filter(report=report, user=user).delete()
        if not deleted:
            raise NotSupported()
        Report.objects.filter(pk=report.pk, supporters_count__gt=0).update(
            supporters_count=F("supporters_count") - 1, updated_at=timezone.now()
        )
    return _supporters_count(report)


# A rating this low suggests the problem is not fixed: the app offers to reopen the report.
ASK_REOPEN_AT_MOST = 2


@dataclass(frozen=True)
class Rating:
    report: Report
    ask_reopen: bool
    reopen_until: datetime | None  # None once the report can no longer be reopened


def report_rating_submit(*, report: Report, actor: User, stars: int, comment: str = "") -> Rating:
    """The citizen rates the result, which closes the report (lifecycle.report_rate). The
    answer says until when the report may still be reopened, and a rating of
    ASK_REOPEN_AT_MOST stars or fewer within that time asks whether to reopen it."""
    from reports import lifecycle

    rated = lifecycle.report_rate(report=report, actor=actor, stars=stars, comment=comment)
    reopen_until = rated.resolved_at + lifecycle.REOPEN_WINDOW if rated.resolved_at else None
    if reopen_until is not None and timezone.now() > reopen_until:
        reopen_until = None
    return Rating(
        report=rated,
        ask_reopen=stars <= ASK_REOPEN_AT_MOST and reopen_until is not None,
        reopen_until=reopen_until,
    )
