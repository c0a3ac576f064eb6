"""A month of Hue's reports with figures worked out by hand, for the statistics tests.

Resolved in November: r1, r2, r4 and r7, in 24, 72, 312 and 6 hours (median 48.0 h, average
103.5 h).

The clock stands at 1 December 2026, 10:00 in Hue; the period is November 2026. Each report
says what it counts for:

| report | agency    | category        | area      | counts for                                   |
|--------|-----------|-----------------|-----------|----------------------------------------------|
| r1     | hepco     | street_lighting | Phú Xuân  | received; resolved in 24 h, on time, rated 5 |
| r2     | hepco     | street_lighting | Phú Xuân  | received; resolved in 72 h, late, rated 2    |
| r3     | hepco     | street_lighting | Phú Xuân  | received; open, overdue                      |
| r4     | hepco     | street_lighting | Phú Xuân  | filed in October; resolved in 312 h, late    |
| r5     | ward      | urban_order     | Phú Xuân  | received; open                               |
| r6     | ward      | urban_order     | Phú Xuân  | received; rejected                           |
| r7     | hepco     | drainage        | Vỹ Dạ     | received; resolved in 6 h, on time, rated 4  |
| r8     | hepco     | street_lighting | Phú Xuân  | September: nothing                           |
| r9     | (none)    | other           | Vỹ Dạ     | received; open, still submitted              |
| r10    | hepco     | street_lighting | Phú Xuân  | received (private); open                     |
| r11    | hepco     | street_lighting | Phú Xuân  | 30 Nov 23:30 Hue time: received              |
| r12    | hepco     | street_lighting | Phú Xuân  | 1 Dec 00:30 Hue time: not received; open     |
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from insights import rollup
from reports.models import Agency, Area, Category, Report, ReportStatus
from tests.factories import ReportFactory

HUE = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=HUE)
FIRST, LAST = date(2026, 11, 1), date(2026, 11, 30)


def at(month: int, day: int, hour: int = 8, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=HUE)


def build() -> dict[str, Report]:
    hepco = Agency.objects.get(code="hepco")
    ward = Agency.objects.get(code="ward-19753")
    phu_xuan = Area.objects.get(code="19753")
    vy_da = Area.objects.get(code="19777")
    lighting = Category.objects.get(code="street_lighting")

    def report(name: str, **fields: object) -> Report:
        values: dict[str, object] = {
            "agency": hepco,
            "category": lighting,
            "area": phu_xuan,
            "status": ReportStatus.ROUTED,
        }
        values.update(fields)
        return ReportFactory(reference=f"HUE-2026-{900100 + int(name[1:]):06d}", **values)

    resolved = ReportStatus.RESOLVED
    reports = {
        "r1": report(
            "r1",
            status=ReportStatus.CLOSED,
            created_at=at(11, 3),
            resolved_at=at(11, 4),
            due_at=at(11, 10),
            rating=5,
        ),
        "r2": report(
            "r2",
            status=resolved,
            created_at=at(11, 5),
            resolved_at=at(11, 8),
            due_at=at(11, 6),
            rating=2,
        ),
        "r3": report(
            "r3", status=ReportStatus.IN_PROGRESS, created_at=at(11, 20), due_at=at(11, 25)
        ),
        "r4": report(
            "r4", status=resolved, created_at=at(10, 20), resolved_at=at(11, 2), due_at=at(10, 30)
        ),
        "r5": report(
            "r5",
            agency=ward,
            category=Category.objects.get(code="urban_order"),
            created_at=at(11, 10),
            due_at=at(12, 20),
        ),
        "r6": report(
            "r6",
            agency=ward,
            category=Category.objects.get(code="urban_order"),
            status=ReportStatus.REJECTED,
            created_at=at(11, 12),
        ),
        "r7": report(
            "r7",
            category=Category.objects.get(code="drainage"),
            area=vy_da,
            status=resolved,
            created_at=at(11, 15),
            resolved_at=at(11, 15, 14),
            due_at=at(11, 16),
            rating=4,
        ),
        "r8": report(
            "r8",
            status=ReportStatus.CLOSED,
            created_at=at(9, 1),
            resolved_at=at(9, 3),
            due_at=at(9, 10),
            rating=1,
        ),
        "r9": report(
            "r9",
            agency=None,
            category=Category.objects.get(code="other"),
            area=vy_da,
            status=ReportStatus.SUBMITTED,
            created_at=at(11, 28),
        ),
        "r10": report("r10", is_public=False, created_at=at(11, 29), due_at=at(12, 10)),
        "r11": report("r11", created_at=at(11, 30, 23, 30), due_at=at(12, 10)),
        "r12": report("r12", created_at=at(12, 1, 0, 30), due_at=at(12, 10)),
    }
    rollup.refresh()  # as the beat does every minute: November comes from the daily figures
    return reports
