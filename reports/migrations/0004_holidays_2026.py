"""Vietnam's 2026 public holidays for public offices, as deadlines count them.

Working days off only matter to the deadline clock, but a holiday that falls on a weekend
is listed too, for the record. The schedule follows the Labour Code and the Ministry of Home
Affairs' notice 9441/TB-BNV (16 October 2025) for officials and public employees. When the
government's official schedule differs, or for the following years, administrators edit the
public holidays in the admin (Reports > Public holidays); no migration is needed.

The make-up working Saturday of 22 August 2026 (for the day off on Monday 31 August) is not
represented: the calendar has holidays only, so that Saturday does not count as working time.
"""

from datetime import date

from django.db import migrations

TET = ("Nghỉ Tết Nguyên Đán Bính Ngọ", "Lunar New Year (Tết) holiday")
NATIONAL_DAY = ("Nghỉ lễ Quốc khánh", "National Day holiday")

HOLIDAYS_2026 = [
    (date(2026, 1, 1), "Tết Dương lịch", "New Year's Day"),
    # Tết: 14 to 22 February off; the working days among them are 16 to 20 February
    # (29 of the last month of Ất Tỵ to the 4th day of Bính Ngọ; New Year's Day is the 17th).
    (date(2026, 2, 16), *TET),
    (date(2026, 2, 17), "Mùng 1 Tết Nguyên Đán Bính Ngọ", "Lunar New Year's Day (Tết)"),
    (date(2026, 2, 18), *TET),
    (date(2026, 2, 19), *TET),
    (date(2026, 2, 20), *TET),
    # The 10th day of the 3rd lunar month falls on a Sunday: the Monday after is off.
    (date(2026, 4, 26), "Giỗ Tổ Hùng Vương", "Hùng Kings' Commemoration Day"),
    (
        date(2026, 4, 27),
        "Nghỉ bù Giỗ Tổ Hùng Vương",
        "Hùng Kings' Commemoration Day (day off in lieu)",
    ),
    (
        date(2026, 4, 30),
        "Ngày Giải phóng miền Nam, thống nhất đất nước",
        "Reunification Day",
    ),
    (date(2026, 5, 1), "Ngày Quốc tế Lao động", "International Labour Day"),
    # 29 August to 2 September off: Monday 31 August is swapped with Saturday 22 August.
    (
        date(2026, 8, 31),
        "Nghỉ lễ Quốc khánh (hoán đổi, làm bù thứ Bảy 22/8)",
        "National Day holiday (swapped with Saturday 22 August)",
    ),
    (date(2026, 9, 1), *NATIONAL_DAY),
    (date(2026, 9, 2), "Quốc khánh", "National Day"),
]


def load_holidays(apps, schema_editor):
    Holiday = apps.get_model("reports", "Holiday")
    for day, name, name_en in HOLIDAYS_2026:
        # A day an administrator already entered is left as they wrote it.
        Holiday.objects.get_or_create(date=day, defaults={"name": name, "name_en": name_en})


def unload_holidays(apps, schema_editor):
    Holiday = apps.get_model("reports", "Holiday")
    Holiday.objects.filter(date__in=[day for day, _, _ in HOLIDAYS_2026]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0003_workflow_and_citizen_features"),
    ]

    operations = [migrations.RunPython(load_holidays, unload_holidays)]
