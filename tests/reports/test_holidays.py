"""Public holidays: loaded for 2026, kept by administrators in the admin, and counted by the
deadlines at once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group

from reports import deadlines
from reports.models import Holiday
from reports.selectors import holidays_changed, work_calendar
from tests.reports.helpers import admin_client

pytestmark = pytest.mark.django_db

HUE = ZoneInfo("Asia/Ho_Chi_Minh")
CHANGELIST = "/admin/reports/holiday/"
ADD = "/admin/reports/holiday/add/"

HOLIDAYS_2026 = {
    date(2026, 1, 1),
    date(2026, 2, 16),
    date(2026, 2, 17),
    date(2026, 2, 18),
    date(2026, 2, 19),
    date(2026, 2, 20),
    date(2026, 4, 26),
    date(2026, 4, 27),
    date(2026, 4, 30),
    date(2026, 5, 1),
    date(2026, 8, 31),
    date(2026, 9, 1),
    date(2026, 9, 2),
}


@pytest.fixture(autouse=True)
def _fresh_calendar() -> Iterator[None]:
    """Each test starts and ends with a calendar read from its own database: a holiday a
    test added is rolled back with it, and must not linger in this process's calendar."""
    holidays_changed()
    yield
    holidays_changed()


def change_url(holiday: Holiday) -> str:
    return f"/admin/reports/holiday/{holiday.pk}/change/"


# The 2026 holidays


def test_the_2026_holidays_of_public_offices_are_loaded():
    loaded = set(Holiday.objects.filter(date__year=2026).values_list("date", flat=True))

    assert loaded == HOLIDAYS_2026


def test_tet_gives_public_offices_monday_16_to_friday_20_february_off():
    tet = Holiday.objects.filter(date__range=(date(2026, 2, 14), date(2026, 2, 22)))

    assert [holiday.date.day for holiday in tet] == [16, 17, 18, 19, 20]
    assert tet.get(date=date(2026, 2, 17)).name_en == "Lunar New Year's Day (Tết)"


def test_the_hung_kings_day_on_a_sunday_is_made_up_on_monday():
    assert Holiday.objects.filter(date=date(2026, 4, 27), name__contains="Hùng Vương").exists()


def test_every_holiday_has_a_vietnamese_and_an_english_name():
    for name, name_en in Holiday.objects.values_list("name", "name_en"):
        assert name
        assert name_en


# The calendar deadlines count in


def test_the_work_calendar_leaves_out_the_holidays_of_the_table():
    calendar = work_calendar()

    assert calendar.holidays >= HOLIDAYS_2026
    assert not calendar.is_working_day(date(2026, 2, 17))
    assert calendar.is_working_day(date(2026, 2, 23))


def test_a_deadline_over_tet_skips_the_holidays_without_being_told_the_calendar():
    friday = datetime(2026, 2, 13, 16, 0, tzinfo=HUE)

    assert deadlines.deadline_after(friday, 8) == datetime(2026, 2, 23, 16, 30, tzinfo=HUE)


def test_the_calendar_is_read_once_until_the_holidays_change(django_assert_num_queries):
    with django_assert_num_queries(1):
        work_calendar()
    with django_assert_num_queries(0):
        work_calendar()

    holidays_changed()

    with django_assert_num_queries(1):
        work_calendar()


def test_the_working_hours_setting_is_followed(settings):
    settings.WORKING_HOURS = "08:00-12:00,13:00-17:00"
    friday = datetime(2026, 3, 13, 16, 0, tzinfo=HUE)

    # Friday 16:00-17:00, Monday 08:00-12:00 and 13:00-16:00.
    assert deadlines.deadline_after(friday, 8) == datetime(2026, 3, 16, 16, 0, tzinfo=HUE)


# The admin


def test_a_holiday_added_in_the_admin_counts_at_once(
    administrator, django_capture_on_commit_callbacks
):
    christmas_eve = date(2026, 12, 24)
    assert work_calendar().is_working_day(christmas_eve)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client(administrator).post(
            ADD, {"date": "2026-12-24", "name": "Nghỉ thử", "name_en": "Test day off"}
        )

    assert response.status_code == 302, response.content.decode()
    assert not work_calendar().is_working_day(christmas_eve)


def test_a_holiday_moved_in_the_admin_counts_on_its_new_date(
    administrator, django_capture_on_commit_callbacks
):
    labour_day = Holiday.objects.get(date=date(2026, 5, 1))
    work_calendar()

    with django_capture_on_commit_callbacks(execute=True):
        admin_client(administrator).post(
            change_url(labour_day),
            {"date": "2026-05-04", "name": labour_day.name, "name_en": labour_day.name_en},
        )

    calendar = work_calendar()
    assert calendar.is_working_day(date(2026, 5, 1))
    assert not calendar.is_working_day(date(2026, 5, 4))


def test_a_holiday_deleted_in_the_admin_no_longer_counts(
    administrator, django_capture_on_commit_callbacks
):
    new_year = Holiday.objects.get(date=date(2026, 1, 1))
    assert not work_calendar().is_working_day(new_year.date)

    with django_capture_on_commit_callbacks(execute=True):
        admin_client(administrator).post(
            f"/admin/reports/holiday/{new_year.pk}/delete/", {"post": "yes"}
        )

    assert work_calendar().is_working_day(date(2026, 1, 1))


def test_holidays_deleted_in_bulk_no_longer_count(
    administrator, django_capture_on_commit_callbacks
):
    tet = Holiday.objects.filter(date__month=2)
    work_calendar()

    with django_capture_on_commit_callbacks(execute=True):
        admin_client(administrator).post(
            CHANGELIST,
            {
                "action": "delete_selected",
                "_selected_action": [holiday.pk for holiday in tet],
                "post": "yes",
            },
        )

    assert work_calendar().is_working_day(date(2026, 2, 17))


def test_staff_managers_and_dispatchers_see_the_holidays_but_cannot_change_them(
    staff_a, manager, dispatcher
):
    tet = Holiday.objects.get(date=date(2026, 2, 17))
    for user in (staff_a, manager, dispatcher):
        client = admin_client(user)

        assert client.get(CHANGELIST).status_code == 200
        assert client.get(ADD).status_code == 403
        moved = client.post(change_url(tet), {"date": "2026-03-18", "name": "x", "name_en": "x"})
        assert moved.status_code == 403
        assert Holiday.objects.filter(date=date(2026, 2, 17)).exists()


def test_the_role_groups_carry_the_holiday_permissions():
    def holiday_permissions(role: str) -> set[str]:
        return set(
            Group.objects.get(name=role)
            .permissions.filter(codename__endswith="_holiday")
            .values_list("codename", flat=True)
        )

    assert holiday_permissions("administrator") == {
        "add_holiday",
        "change_holiday",
        "delete_holiday",
        "view_holiday",
    }
    for role in ("staff", "manager", "dispatcher"):
        assert holiday_permissions(role) == {"view_holiday"}
    assert holiday_permissions("citizen") == set()


def test_citizens_cannot_open_the_holidays(citizen):
    response = admin_client(citizen).get(CHANGELIST)

    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_holiday_list_searches_by_name_and_shows_the_weekday(administrator):
    response = admin_client(administrator).get(CHANGELIST, {"q": "Quốc khánh"})

    content = response.content.decode()
    assert "Nghỉ lễ Quốc khánh" in content
    assert "Giỗ Tổ" not in content
    assert "Thứ 4" in content  # Wednesday 2 September, as the Vietnamese admin writes it


def test_the_holiday_list_runs_a_fixed_number_of_queries(
    administrator, django_assert_max_num_queries
):
    client = admin_client(administrator)
    client.get(CHANGELIST)

    with django_assert_max_num_queries(8):
        response = client.get(CHANGELIST, {"date__year": "2026"})

    assert response.status_code == 200
