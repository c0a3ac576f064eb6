"""Roles: six groups with real permissions, and the one service that gives a user a role."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from accounts.models import Role, User
from accounts.services import RoleInvalid, user_set_role

ROLES = ["citizen", "staff", "manager", "dispatcher", "administrator", "hotline"]


def group_permissions(name):
    group = Group.objects.get(name=name)
    return {
        f"{app_label}.{codename}"
        for app_label, codename in group.permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def groups_of(user):
    return sorted(User.objects.get(pk=user.pk).groups.values_list("name", flat=True))


def test_the_migration_creates_the_five_role_groups(db):
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLES)


def test_every_role_value_names_one_of_these_groups(db):
    assert sorted(Role.values) == sorted(ROLES)


def test_citizens_get_no_permissions(db):
    assert group_permissions("citizen") == set()


@pytest.mark.parametrize(
    ("role", "permission"),
    [
        ("staff", "reports.view_report"),
        ("staff", "reports.work_report"),
        ("manager", "reports.work_report"),
        ("manager", "reports.assign_report"),
        ("dispatcher", "reports.triage_report"),
        ("dispatcher", "reports.view_report"),
        ("administrator", "reports.change_category"),
        ("administrator", "reports.change_routingrule"),
        ("administrator", "reports.add_agency"),
        ("administrator", "reports.change_area"),
        ("administrator", "accounts.change_user"),
        ("administrator", "accounts.add_user"),
        ("dispatcher", "reports.moderate_report"),
        ("dispatcher", "reports.file_report"),
        ("administrator", "reports.moderate_report"),
        ("hotline", "reports.file_report"),
        ("hotline", "reports.view_report"),
    ],
)
def test_a_role_has_the_permissions_of_its_job(db, role, permission):
    assert permission in group_permissions(role)


@pytest.mark.parametrize(
    ("role", "permission"),
    [
        ("staff", "reports.change_category"),
        ("staff", "reports.triage_report"),
        ("staff", "reports.assign_report"),
        ("staff", "accounts.view_user"),
        ("manager", "reports.triage_report"),
        ("manager", "accounts.change_user"),
        ("dispatcher", "reports.change_category"),
        ("dispatcher", "reports.change_routingrule"),
        ("dispatcher", "accounts.change_user"),
        ("administrator", "reports.delete_report"),
    ],
)
def test_a_role_lacks_the_permissions_of_other_jobs(db, role, permission):
    assert permission not in group_permissions(role)


def test_staff_hold_their_groups_permissions(staff_a):
    user = User.objects.get(pk=staff_a.pk)

    assert user.has_perm("reports.work_report")
    assert not user.has_perm("reports.change_category")


def test_a_citizen_holds_no_report_permissions(citizen):
    user = User.objects.get(pk=citizen.pk)

    assert not user.has_perm("reports.view_report")


def test_setting_a_role_puts_the_user_in_exactly_that_group(citizen):
    user_set_role(user=citizen, role=Role.DISPATCHER, agency=None)

    assert groups_of(citizen) == ["dispatcher"]


def test_changing_a_role_leaves_the_previous_group(staff_a):
    user_set_role(user=staff_a, role=Role.CITIZEN, agency=None)

    assert groups_of(staff_a) == ["citizen"]


@pytest.mark.parametrize("role", [Role.DISPATCHER, Role.ADMINISTRATOR])
def test_citywide_roles_get_admin_site_access(citizen, role):
    user_set_role(user=citizen, role=role, agency=None)

    assert User.objects.get(pk=citizen.pk).is_staff is True


@pytest.mark.parametrize("role", [Role.STAFF, Role.MANAGER])
def test_agency_roles_get_admin_site_access(citizen, hepco, role):
    user_set_role(user=citizen, role=role, agency=hepco)

    assert User.objects.get(pk=citizen.pk).is_staff is True


def test_a_citizen_loses_admin_site_access(dispatcher):
    user_set_role(user=dispatcher, role=Role.CITIZEN, agency=None)

    assert User.objects.get(pk=dispatcher.pk).is_staff is False


@pytest.mark.parametrize("role", [Role.STAFF, Role.MANAGER])
def test_staff_and_managers_need_an_agency(citizen, role):
    with pytest.raises(RoleInvalid) as caught:
        user_set_role(user=citizen, role=role, agency=None)

    assert caught.value.field == "agency"
    assert caught.value.code == "invalid_role"


def test_a_refused_role_change_changes_nothing(citizen):
    with pytest.raises(RoleInvalid):
        user_set_role(user=citizen, role=Role.STAFF, agency=None)

    stored = User.objects.get(pk=citizen.pk)
    assert stored.role == Role.CITIZEN
    assert stored.is_staff is False
    assert groups_of(citizen) == ["citizen"]


@pytest.mark.parametrize("role", [Role.CITIZEN, Role.DISPATCHER, Role.ADMINISTRATOR])
def test_roles_outside_an_agency_have_their_agency_cleared(staff_a, hepco, role):
    user_set_role(user=staff_a, role=role, agency=hepco)

    assert User.objects.get(pk=staff_a.pk).agency is None


def test_staff_keep_the_agency_they_are_given(citizen, phu_xuan_committee):
    user_set_role(user=citizen, role=Role.STAFF, agency=phu_xuan_committee)

    assert User.objects.get(pk=citizen.pk).agency == phu_xuan_committee


def test_an_unknown_role_is_refused(citizen):
    with pytest.raises(RoleInvalid) as caught:
        user_set_role(user=citizen, role="mayor", agency=None)

    assert caught.value.field == "role"
    assert User.objects.get(pk=citizen.pk).role == Role.CITIZEN


@pytest.mark.parametrize("role", [Role.STAFF, Role.MANAGER])
def test_the_database_forbids_staff_and_managers_without_an_agency(citizen, role):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=citizen.pk).update(role=role, agency=None)


def test_the_database_forbids_removing_a_staff_members_agency(staff_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=staff_a.pk).update(agency=None)
