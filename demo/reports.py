"""A living demo: a few hundred reports of the last 30 days in every state, filed and worked
through the lifecycle's own services at the moments they happened (time travel, DEBUG only),
so that a newcomer opens an admin and a dashboard that are working.

Nothing here writes a timeline, a deadline or a count by hand: each step is the service a
citizen, an agency, the hotline or the operations centre would call, run with the clock set
to when it happened. What a report becomes is drawn from a seeded random generator, so the
demo is the same on every machine; the seed is idempotent (a city that has demo reports is
left as it is).
"""

from __future__ import annotations

import io
import random
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max
from django.test import override_settings
from django.utils import timezone
from PIL import Image, ImageDraw
from shapely.geometry import Point

from accounts.models import Role, User
from accounts.services import user_set_role
from hues.city import City
from insights import rollup
from reports import editing, lifecycle, moderation, services, tasks
from reports.lifecycle import RejectReason
from reports.models import (
    OPEN_STATUSES,
    Agency,
    Area,
    Category,
    Channel,
    FlagReason,
    HideReason,
    Report,
    ReportStatus,
)
from reports.selectors import routing_snapshot

# Demo citizens: +84 900 1xx xxx, apart from the city's demo users (+84 900 000 00x).
CITIZEN_PHONE = "+849001{:05d}"
CITIZENS = 60
# Agency staff who work the reports of agencies that have no demo user of their own.
HANDLER_PHONE = "+849002{:05d}"
HOTLINE_PHONE = "+84900000007"
DAYS = 30

DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "garbage": (
        "Rác thải tồn đọng nhiều ngày ở góc đường, bốc mùi hôi.",
        "Thùng rác công cộng bị tràn, rác vương vãi ra vỉa hè.",
        "Có người đổ trộm xà bần và rác sinh hoạt bên bờ sông.",
    ),
    "drainage": (
        "Cống thoát nước bị tắc, mưa xuống là ngập cả đoạn đường.",
        "Nắp cống bị vỡ, rất nguy hiểm cho người đi xe máy.",
        "Nước thải chảy tràn ra mặt đường, bốc mùi.",
    ),
    "street_lighting": (
        "Đèn đường không sáng cả dãy, buổi tối rất tối và nguy hiểm.",
        "Cột đèn bị nghiêng, bóng đèn chập chờn suốt đêm.",
        "Đèn đường sáng cả ban ngày, lãng phí điện.",
    ),
    "water_supply": (
        "Ống nước bị vỡ, nước chảy lênh láng ra đường.",
        "Khu dân cư mất nước sinh hoạt từ sáng đến giờ.",
    ),
    "electricity": (
        "Dây điện bị chùng thấp, chạm vào cành cây.",
        "Tủ điện bên đường bị mở cửa, dây điện lòi ra ngoài.",
    ),
    "trees_parks": (
        "Cây xanh bị gãy cành sau mưa, đổ chắn ngang vỉa hè.",
        "Cây cổ thụ bị nghiêng, có nguy cơ đổ vào nhà dân.",
        "Ghế đá trong công viên bị vỡ, cỏ mọc um tùm.",
    ),
    "road_damage": (
        "Mặt đường bị sụt lún tạo thành ổ gà lớn.",
        "Vỉa hè bị bong tróc gạch, người đi bộ dễ vấp ngã.",
    ),
    "traffic_order": (
        "Xe ô tô đậu chắn lối đi vào hẻm suốt cả ngày.",
        "Đèn tín hiệu giao thông ở ngã tư không hoạt động.",
    ),
    "security_order": (
        "Nhóm thanh niên tụ tập gây ồn ào sau 23 giờ.",
        "Karaoke hát lớn đến khuya, ảnh hưởng khu dân cư.",
    ),
    "urban_order": (
        "Hàng quán lấn chiếm vỉa hè, người đi bộ phải xuống lòng đường.",
        "Biển quảng cáo dựng trái phép trên vỉa hè.",
        "Vật liệu xây dựng tập kết chiếm hết lòng đường.",
    ),
    "beach_sanitation": (
        "Rác thải dạt vào bờ biển, chưa được thu gom.",
        "Bãi tắm nhiều chai nhựa và túi ni lông.",
    ),
}
OTHER = ("Phản ánh của người dân cần cơ quan chức năng xem xét, xử lý.",)
UPDATES = (
    "Đơn vị đã tiếp nhận và cử cán bộ kiểm tra hiện trường.",
    "Đã lên kế hoạch xử lý trong tuần này.",
    "Tổ công tác đã đến hiện trường, đang triển khai xử lý.",
)
QUESTIONS = ("Anh/chị vui lòng cho biết vị trí cụ thể hơn (số nhà gần nhất)?",)
ANSWERS = ("Ngay trước số nhà 25, cạnh cột điện.", "Đối diện cổng trường tiểu học.")
RESOLUTIONS = (
    "Đơn vị đã xử lý xong, hiện trường đã được dọn dẹp.",
    "Đã sửa chữa xong, mời anh/chị kiểm tra lại.",
    "Đã thay thế thiết bị hư hỏng, hoạt động bình thường.",
)
COMMENTS = ("Cảm ơn đơn vị đã xử lý nhanh.", "Chỗ này lặp lại nhiều lần rồi, mong xử lý dứt điểm.")
STREETS = ("Lê Lợi", "Trần Hưng Đạo", "Hùng Vương", "Nguyễn Huệ", "Điện Biên Phủ", "Lý Thường Kiệt")


@dataclass
class DemoSummary:
    reports: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    hidden: int = 0
    flagged: int = 0
    hotline: int = 0
    corrected: int = 0
    escalated: int = 0
    in_triage: int = 0
    existing: bool = False


@contextmanager
def _at(moment: datetime) -> Iterator[None]:
    """Run with the clock at `moment` (tests' time travel; a dev dependency, DEBUG only)."""
    import time_machine

    with time_machine.travel(moment, tick=False):
        yield


def _photo(rng: random.Random, shade: tuple[int, int, int]) -> services.Upload:
    """A small street-like picture: sky, a road, a few blocks (JPEG)."""
    image = Image.new("RGB", (640, 480), (150 + rng.randrange(60), 190, 230))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 300, 640, 480), fill=(90 + rng.randrange(40),) * 3)
    for _ in range(5):
        x, y = rng.randrange(600), rng.randrange(120, 300)
        draw.rectangle((x, y, x + rng.randrange(30, 120), 300), fill=shade)
    draw.ellipse((280, 330, 380, 400), fill=(40, 40, 40))
    # Small: every photo goes through the face and plate step, whose time grows with the
    # pixels (400 x 300: about 25 ms; 640 x 480: 80 ms).
    image = image.resize((400, 300), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=75)
    out.seek(0)
    return services.Upload(stream=out, size=out.getbuffer().nbytes)


def _point(rng: random.Random, area: Area, snapshot) -> tuple[float, float]:
    """(lat, lng) of a random point that routing finds in `area`."""
    geometry = snapshot.index.geometries[snapshot.index.codes.index(area.code)]
    min_x, min_y, max_x, max_y = geometry.bounds
    for _ in range(60):
        lng, lat = rng.uniform(min_x, max_x), rng.uniform(min_y, max_y)
        if geometry.contains(Point(lng, lat)) and snapshot.index.locate(lng, lat) == area.code:
            return round(lat, 6), round(lng, 6)
    return snapshot.index.inside_point(area.code)


def _user(phone: str, name: str, role: str, agency: Agency | None = None) -> User:
    user, created = User.objects.get_or_create(
        phone=phone, defaults={"full_name": name, "phone_verified_at": timezone.now()}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        user_set_role(user=user, role=role, agency=agency)
    return user


class _People:
    """Who does what: demo citizens, the city's demo staff where they exist, and one handler
    per other agency."""

    def __init__(self, city: City) -> None:
        self.citizens = [
            _user(CITIZEN_PHONE.format(n), f"Người dân {n + 1}", Role.CITIZEN)
            for n in range(CITIZENS)
        ]
        by_role = {demo.role: demo.phone for demo in city.demo_users}
        self.dispatcher = User.objects.filter(phone=by_role.get(Role.DISPATCHER)).first() or _user(
            HANDLER_PHONE.format(99999), "Điều phối viên", Role.DISPATCHER
        )
        self.hotline = User.objects.filter(phone=by_role.get(Role.HOTLINE)).first() or _user(
            HOTLINE_PHONE, "Tổng đài viên", Role.HOTLINE
        )
        self._handlers: dict[int, User] = {}
        for user in User.objects.filter(
            phone__in=[demo.phone for demo in city.demo_users],
            role__in=(Role.STAFF, Role.MANAGER),
            agency__isnull=False,
        ).order_by("role"):  # staff last: staff work the reports where both exist
            if user.agency_id is not None:
                self._handlers[user.agency_id] = user

    def handler(self, agency_id: int) -> User:
        if agency_id not in self._handlers:
            agency = Agency.objects.get(pk=agency_id)
            self._handlers[agency_id] = _user(
                HANDLER_PHONE.format(agency_id), f"Cán bộ {agency.name}"[:150], Role.STAFF, agency
            )
        return self._handlers[agency_id]


def demo_reports_exist() -> int:
    return Report.objects.filter(reporter__phone__startswith=CITIZEN_PHONE[:7]).count() + (
        Report.objects.filter(filed_by__phone=HOTLINE_PHONE).count()
    )


def seed_demo_reports(city: City, *, count: int, seed: int = 2026) -> DemoSummary:
    """File `count` reports over the last DAYS days and work each to its fate."""
    summary = DemoSummary()
    if count <= 0:
        return summary
    if existing := demo_reports_exist():
        summary.existing, summary.reports = True, existing
        return summary
    # The demo's people are made up: their texts (resolutions, the callers' results) stay in
    # memory, whatever gateway SMS_BACKEND names.
    with override_settings(SMS_BACKEND="locmem"):
        _seed(city, count, seed, summary)
    return summary


def _seed(city: City, count: int, seed: int, summary: DemoSummary) -> None:
    rng = random.Random(seed)  # noqa: S311 - demo data, nothing secret
    people = _People(city)
    snapshot = routing_snapshot()
    areas = list(Area.objects.filter(code__in=snapshot.area_ids).order_by("code"))
    # Most reports come from the city's denser centre: a few wards get most of them.
    weights = [8 if n < 6 else 1 for n in range(len(areas))]
    rng.shuffle(weights)
    categories = list(Category.objects.filter(is_active=True).order_by("code"))
    hotline_channels = list(
        Channel.objects.filter(is_active=True)
        .exclude(code__in=(Channel.APP, Channel.OPEN311))
        .values_list("code", flat=True)
    )
    now = timezone.now()
    start = now - timedelta(days=DAYS)
    moments = sorted(start + timedelta(seconds=rng.uniform(0, DAYS * 86400)) for _ in range(count))
    filed: list[Report] = []
    for moment in moments:
        # Citizens file in the day: 6:00 to 22:00 local time.
        local = timezone.localtime(moment)
        if not 6 <= local.hour < 22:
            moment += timedelta(hours=(6 - local.hour) % 24 + rng.random() * 4)
        if moment > now - timedelta(minutes=5):
            continue
        category = rng.choice(categories)
        area = rng.choices(areas, weights)[0]
        lat, lng = _point(rng, area, snapshot)
        text = rng.choice(DESCRIPTIONS.get(category.code, OTHER))
        address = f"{rng.randrange(1, 300)} {rng.choice(STREETS)}"
        with _at(moment):
            if hotline_channels and rng.random() < 0.12:
                report = services.report_file_for_caller(
                    actor=people.hotline,
                    # Most of what staff file comes by the hotline.
                    channel=Channel.HOTLINE
                    if Channel.HOTLINE in hotline_channels and rng.random() < 0.6
                    else rng.choice(hotline_channels),
                    category_code=category.code,
                    description=text,
                    area_code=area.code,
                    lat=lat,
                    lng=lng,
                    address=address,
                    photos=[],
                    caller_name=rng.choice(("Bà Lan", "Ông Hùng", "Chị Mai", "")),
                    caller_phone=f"09003{rng.randrange(10**5):05d}",  # the demo's range
                    caller_consents=rng.random() < 0.7,
                )
                summary.hotline += 1
            else:
                reporter = rng.choice(people.citizens)
                report = services.report_create(
                    reporter=reporter,
                    category_code=category.code,
                    description=text,
                    lat=lat,
                    lng=lng,
                    photos=[_photo(rng, (120, 100 + rng.randrange(80), 90))],
                    address=address,
                    is_public=rng.random() > 0.08,
                )
            # The routing task ran at commit, unless an outer transaction holds the commit
            # back (then route now: routing is idempotent).
            lifecycle.report_route(report_id=report.pk)
        filed.append(report)
        _work(report, moment, now, rng, people, filed, summary)
    # What beat would have done by now: overdue reports escalated, by the product's own
    # rule (a report waiting for its citizen is not overdue).
    summary.escalated = tasks.escalate_overdue()
    # What the nightly roll-up would have counted: the dashboard's past days.
    rollup.rebuild()
    mine = Report.objects.filter(pk__in=[report.pk for report in filed])
    summary.reports = mine.count()
    summary.by_status = Counter(mine.values_list("status", flat=True))
    summary.hidden = mine.filter(hidden_at__isnull=False).count()


def _work(
    report: Report,
    filed_at: datetime,
    now: datetime,
    rng: random.Random,
    people: _People,
    filed: list[Report],
    summary: DemoSummary,
) -> None:
    """Walk a report to a fate drawn for it; older reports are further along. A step that
    would lie in the future is not taken."""
    clock = filed_at
    age_days = (now - filed_at).total_seconds() / 86400

    def step(hours: float, action: Callable[[], object]) -> bool:
        nonlocal clock
        at = clock + timedelta(hours=hours)
        if at > now - timedelta(minutes=1):
            return False
        clock = at
        with _at(at):
            action()
        return True

    def fresh() -> Report:
        return Report.objects.get(pk=report.pk)

    draw = rng.random()
    public = report.is_public and report.filed_by_id is None
    # Consolidation and moderation first: they happen early, to the report as filed.
    if public and draw < 0.05:
        original = (
            Report.objects.filter(
                pk__in=[other.pk for other in filed[:-1]],
                status__in=OPEN_STATUSES,
                category_id=report.category_id,
                is_public=True,
                hidden_at__isnull=True,
                duplicate_of__isnull=True,
            )
            # Each report's life is played to the end before the next is filed: only an
            # original with nothing after this moment may take the duplicate, so every
            # timeline stays in order.
            .annotate(last_event=Max("events__created_at"))
            .filter(last_event__lt=filed_at)
            .order_by("-created_at")
            .first()
        )
        if original is not None and step(
            rng.uniform(1, 5),
            lambda: editing.report_merge(
                duplicate=fresh(),
                original=original,
                actor=people.dispatcher,
                message="Trùng với phản ánh đã tiếp nhận.",
            ),
        ):
            return
    if public and draw < 0.08:
        step(
            rng.uniform(1, 8),
            lambda: moderation.report_hide(
                report=fresh(),
                actor=people.dispatcher,
                reason=HideReason.PERSONAL_DATA,
                message="Ảnh có biển số xe và khuôn mặt người đi đường.",
            ),
        )
        return
    if public and draw < 0.12:
        # The first flagged report reaches the threshold (hidden, waiting for a moderator);
        # then one in three does.
        enough = summary.flagged == 0 or draw < 0.093
        flaggers = rng.sample(
            [c for c in people.citizens if c.pk != report.reporter_id],
            settings.FLAG_HIDE_THRESHOLD if enough else 1,
        )
        for flagger in flaggers:

            def flag(flagger: User = flagger) -> None:
                moderation.flag_create(
                    report=fresh(), user=flagger, reason=rng.choice(FlagReason.values)
                )

            step(rng.uniform(1, 12), flag)
        summary.flagged += 1
    if fresh().status == ReportStatus.NEEDS_TRIAGE:
        # The operations centre sends it to an agency (or leaves a few in the queue).
        if age_days < 1 or rng.random() < 0.25 or not summary.in_triage:
            summary.in_triage += 1
            return
        agency = rng.choice(list(Agency.objects.filter(is_active=True).order_by("pk")[:12]))
        if not step(
            rng.uniform(0.5, 4),
            lambda: lifecycle.report_dispatch(
                report=fresh(), actor=people.dispatcher, agency_id=agency.pk
            ),
        ):
            return
    current = fresh()
    if current.status != ReportStatus.ROUTED or current.agency_id is None:
        return
    if draw > 0.93 and current.category.code != "urban_order":
        # A dispatcher corrects the category: another agency becomes responsible.
        if step(
            rng.uniform(0.5, 3),
            lambda: editing.report_correct(
                report=fresh(),
                actor=people.dispatcher,
                reason="Người dân chọn sai lĩnh vực.",
                category_code="urban_order",
            ),
        ):
            summary.corrected += 1
        current = fresh()
        if current.status != ReportStatus.ROUTED or current.agency_id is None:
            return
    handler = people.handler(current.agency_id)  # type: ignore[arg-type] # checked above
    fate = rng.random() * min(1.0, age_days / 6)  # young reports have not got far
    if fate < 0.12:
        return  # routed, not yet accepted
    if fate < 0.17:
        step(
            rng.uniform(2, 30),
            lambda: lifecycle.report_reject(
                report=fresh(),
                actor=handler,
                reason=rng.choice((RejectReason.INVALID, RejectReason.OUT_OF_SCOPE)),
                message="Nội dung phản ánh không thuộc thẩm quyền xử lý của đơn vị.",
            ),
        )
        return
    if not step(
        rng.uniform(0.5, 8), lambda: lifecycle.report_accept(report=fresh(), actor=handler)
    ):
        return
    if rng.random() < 0.5:
        step(
            rng.uniform(2, 24),
            lambda: lifecycle.report_post_update(
                report=fresh(), actor=handler, message=rng.choice(UPDATES)
            ),
        )
    if fate < 0.32:
        return  # in progress
    if fate < 0.38:
        if (
            step(
                rng.uniform(1, 12),
                lambda: lifecycle.report_post_update(
                    report=fresh(), actor=handler, message=QUESTIONS[0], ask_citizen=True
                ),
            )
            and rng.random() < 0.5
            and fresh().filed_by_id is None
        ):
            step(
                rng.uniform(1, 24),
                lambda: lifecycle.report_comment(
                    report=fresh(), actor=fresh().reporter, message=rng.choice(ANSWERS)
                ),
            )
        return
    if not step(
        rng.uniform(4, 72),
        lambda: services.report_resolve_with_photos(
            report=fresh(),
            actor=handler,
            note=rng.choice(RESOLUTIONS),
            photos=[_photo(rng, (90, 150, 90))],
        ),
    ):
        return
    resolved = fresh()
    if resolved.filed_by_id is None and rng.random() < 0.6:
        stars = rng.choices((5, 4, 3, 2, 1), (45, 30, 12, 8, 5))[0]
        step(
            rng.uniform(2, 48),
            lambda: services.report_rating_submit(
                report=fresh(),
                actor=resolved.reporter,
                stars=stars,
                comment=rng.choice(COMMENTS) if stars >= 4 else "",
            ),
        )
