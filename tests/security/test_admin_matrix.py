"""The authorization matrix over every admin page: nine roles against the change list, add,
change, delete and history pages of every registered model, and the report action pages,
with objects of their own agency and of another; protected fields posted through admin forms;
and no page showing agency staff the reporter's phone, email or name.

The policy, one line per model: which roles may view it (change list, change and history
pages) and which may add or delete. A guard fails when a model is registered without a line.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.models import Role, User
from reports import lifecycle
from reports.admin import ACTIONS
from reports.models import Report, ReportStatus
from tests.factories import UserFactory
from tests.reports.helpers import act_url, admin_client, change_url

pytestmark = pytest.mark.django_db

OUTSIDERS = ["anonymous", "unverified", "citizen", "other_citizen"]
STAFF = ["staff_a", "staff_b", "manager", "dispatcher", "administrator"]
EVERY_STAFF = frozenset(STAFF)
CITYWIDE = frozenset({"dispatcher", "administrator"})
ADMINISTRATOR = frozenset({"administrator"})
NOBODY: frozenset[str] = frozenset()

# model: (who views it, who adds, who deletes). Superusers aside.
POLICY: dict[str, tuple[frozenset[str], frozenset[str], frozenset[str]]] = {
    "auth.Group": (ADMINISTRATOR, NOBODY, NOBODY),
    "accounts.User": (frozenset({"manager"}) | CITYWIDE, ADMINISTRATOR, NOBODY),
    "accounts.PhoneCode": (NOBODY, NOBODY, NOBODY),
    "accounts.TextMessage": (ADMINISTRATOR, NOBODY, NOBODY),
    "reports.Area": (EVERY_STAFF, ADMINISTRATOR, ADMINISTRATOR),
    "reports.Agency": (EVERY_STAFF, ADMINISTRATOR, ADMINISTRATOR),
    "reports.Category": (EVERY_STAFF, ADMINISTRATOR, ADMINISTRATOR),
    "reports.RoutingRule": (CITYWIDE, ADMINISTRATOR, ADMINISTRATOR),
    "reports.Report": (EVERY_STAFF, NOBODY, NOBODY),
    "reports.Holiday": (EVERY_STAFF, ADMINISTRATOR, ADMINISTRATOR),
    # The moderation queue: moderators (the operations centre; others only if given
    # reports.moderate_report, for their own agency). Decided by actions, never edited.
    "reports.Flag": (CITYWIDE, NOBODY, NOBODY),
    "reports.Channel": (ADMINISTRATOR, ADMINISTRATOR, NOBODY),
    # A manager: their own agency's templates only (tests/reports/test_reply_templates.py).
    "reports.ReplyTemplate": (
        frozenset({"manager"}) | ADMINISTRATOR,
        frozenset({"manager"}) | ADMINISTRATOR,
        ADMINISTRATOR,
    ),
    "notifications.Notification": (ADMINISTRATOR, NOBODY, NOBODY),
    "notifications.Delivery": (ADMINISTRATOR, NOBODY, NOBODY),
    "open311.ApiKey": (ADMINISTRATOR, ADMINISTRATOR, NOBODY),
    "open311.Submission": (CITYWIDE, NOBODY, NOBODY),
    "alerts.Alert": (CITYWIDE, CITYWIDE, NOBODY),
    "token_blacklist.OutstandingToken": (NOBODY, NOBODY, NOBODY),
    "token_blacklist.BlacklistedToken": (NOBODY, NOBODY, NOBODY),
    "axes.AccessAttempt": (ADMINISTRATOR, NOBODY, ADMINISTRATOR),
    "axes.AccessLog": (NOBODY, NOBODY, NOBODY),
    "axes.AccessFailureLog": (NOBODY, NOBODY, NOBODY),
}


def registered() -> list[str]:
    return sorted(model._meta.label for model in admin.site._registry)


def model_of(label: str):
    return next(model for model in admin.site._registry if model._meta.label == label)


def page(label: str, kind: str, *args: object) -> str:
    model = model_of(label)
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{kind}", args=args)


@pytest.fixture
def people(
    unverified, citizen, other_citizen, staff_a, staff_b, manager, dispatcher, administrator
):
    return {
        "anonymous": None,
        "unverified": unverified,
        "citizen": citizen,
        "other_citizen": other_citizen,
        "staff_a": staff_a,
        "staff_b": staff_b,
        "manager": manager,
        "dispatcher": dispatcher,
        "administrator": administrator,
    }


def client_of(user: User | None) -> Client:
    return admin_client(user) if user is not None else Client()


@pytest.fixture
def hepco_report(make_report, citizen) -> Report:
    """Agency A's (HEPCO's) report: street lighting in Phú Xuân, the reporter's name hidden."""
    return make_report(citizen, hide_name=True, description="Đèn đường hỏng ở Lê Lợi")


@pytest.fixture
def ward_report(make_report, other_citizen) -> Report:
    """Agency B's (the Phú Xuân committee's) report."""
    return make_report(other_citizen, category="urban_order", description="Lấn chiếm vỉa hè")


def in_scope(label: str, user: User):
    """The objects of a model that the admin lists for this user."""
    request = RequestFactory().get("/admin/")
    request.user = user
    return admin.site._registry[model_of(label)].get_queryset(request)


# The report admin's own pages beyond the model's: the dashboard and the CSV exports.
CUSTOM_PAGES = [
    "reports_dashboard",
    "reports_dashboard_reports_csv",
    "reports_dashboard_agencies_csv",
    "reports_report_export",
]


def test_every_registered_model_has_a_policy():
    assert registered() == sorted(POLICY), "give each newly registered model a POLICY line"


def every_page(label: str) -> list[str]:
    model = model_of(label)
    pages = [page(label, "changelist"), page(label, "add")]
    obj = model._default_manager.order_by("pk").first()
    if obj is not None:
        pages += [page(label, kind, obj.pk) for kind in ("change", "delete", "history")]
    return pages


@pytest.mark.parametrize("role", OUTSIDERS)
def test_outsiders_are_sent_to_the_login_page_from_every_admin_page(
    role, people, hepco_report, staff_a
):
    client = client_of(people[role])
    pages = [url for label in registered() for url in every_page(label)]
    pages += [act_url(hepco_report, action) for action in ACTIONS]
    pages += [reverse(f"admin:{name}") for name in CUSTOM_PAGES]
    pages += [redact_url(hepco_report)]

    for url in pages:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url


@pytest.mark.parametrize("role", STAFF)
@pytest.mark.parametrize("label", sorted(POLICY))
def test_staff_reach_exactly_the_pages_their_role_allows(role, label, people, hepco_report):
    viewers, adders, deleters = POLICY[label]
    client = client_of(people[role])

    assert client.get(page(label, "changelist")).status_code == (200 if role in viewers else 403)
    assert client.get(page(label, "add")).status_code == (200 if role in adders else 403)
    obj = in_scope(label, people[role]).order_by("pk").first()
    if obj is None:
        return
    change = client.get(page(label, "change", obj.pk)).status_code
    delete = client.get(page(label, "delete", obj.pk)).status_code
    if role in viewers:
        assert change == 200
        assert delete == (200 if role in deleters else 403)
    else:
        # No permission, or an object outside the user's scope: never the page itself.
        assert change in (302, 403, 404)
        assert delete in (302, 403, 404)


# Objects of another agency

FOREIGN = {"staff_a": "ward_report", "manager": "ward_report", "staff_b": "hepco_report"}


@pytest.mark.parametrize("role", sorted(FOREIGN))
def test_another_agencys_report_is_404_on_every_report_page(role, people, request):
    report = request.getfixturevalue(FOREIGN[role])
    client = client_of(people[role])

    pages = [
        change_url(report),
        page("reports.Report", "history", report.pk),
        *(act_url(report, action) for action in ACTIONS),
        redact_url(report),
    ]
    for url in pages:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"message": "x", "note": "x"}).status_code == 404, url
    assert report.reference not in client.get(page("reports.Report", "changelist")).content.decode()


@pytest.mark.parametrize("role", ["staff_a", "manager", "dispatcher", "administrator"])
def test_the_action_pages_of_a_report_in_scope_open(role, people, hepco_report):
    response = client_of(people[role]).get(act_url(hepco_report, "accept"))

    assert response.status_code == 200


def redact_url(report: Report) -> str:
    """The page where staff change what is obscured in a report's photo (issue 15)."""
    photo = report.photos.order_by("pk").first()
    assert photo is not None
    return reverse("admin:reports_report_redact_photo", args=[report.pk, photo.pk])


@pytest.mark.parametrize("role", ["staff_a", "manager", "dispatcher", "administrator"])
def test_the_responsible_agency_and_the_operations_centre_obscure_photos(
    role, people, hepco_report
):
    client = client_of(people[role])
    url = redact_url(hepco_report)

    assert client.get(url).status_code == 200
    response = client.post(
        url, {"action": "add", "kind": "face", "x": 10, "y": 10, "width": 40, "height": 40}
    )
    assert response.status_code == 302
    assert hepco_report.photos.get().regions.filter(source="staff").count() == 1


@pytest.mark.parametrize("role", ["staff_a", "staff_b", "manager"])
def test_only_the_dispatchers_route_reports(role, people, hepco_report, make_report, citizen):
    triage = make_report(citizen, category="other", description="Việc khác")

    assert client_of(people[role]).get(act_url(triage, "dispatch")).status_code == 404


def test_a_manager_opens_no_user_of_another_agency(manager, staff_a, staff_b, citizen):
    client = client_of(manager)

    assert client.get(page("accounts.User", "change", staff_a.pk)).status_code == 200
    for outsider in (staff_b, citizen):
        response = client.get(page("accounts.User", "change", outsider.pk))
        assert response.status_code == 302  # "does not exist", back to the index
        assert outsider.phone not in client.get(response["Location"]).content.decode()
    listing = client.get(page("accounts.User", "changelist")).content.decode()
    assert staff_a.phone in listing
    assert staff_b.phone not in listing
    assert citizen.phone not in listing


# Protected fields through admin forms


@pytest.mark.parametrize("role", STAFF)
def test_nobody_sets_a_reports_status_agency_or_reporter_through_its_form(
    role, people, hepco_report, other_citizen, phu_xuan_committee
):
    before = Report.objects.values().get(pk=hepco_report.pk)

    response = client_of(people[role]).post(
        change_url(hepco_report),
        {
            "status": ReportStatus.CLOSED,
            "agency": phu_xuan_committee.pk,
            "reporter": other_citizen.pk,
            "is_public": "",
            "description": "đã sửa",
        },
    )

    assert response.status_code == (404 if role == "staff_b" else 403)
    assert Report.objects.values().get(pk=hepco_report.pk) == before


def user_form(user: User, **fields: object) -> dict[str, object]:
    """The user change form as the admin page posts it, with `fields` on top."""
    return {
        "phone": user.phone,
        "full_name": user.full_name,
        "email": user.email,
        "home_area": "",
        "language": user.language,
        "role": user.role,
        "agency": user.agency_id or "",
        "is_active": "on",
        **fields,
    }


RIGHTS = {
    "is_superuser": "on",
    "is_staff": "on",
    "groups": lambda: [Group.objects.get(name=Role.ADMINISTRATOR).pk],
    "user_permissions": list,
}


def rights(user: User) -> tuple[object, ...]:
    user.refresh_from_db()
    return (
        user.role,
        user.is_staff,
        user.is_superuser,
        user.agency_id,
        sorted(user.groups.values_list("name", flat=True)),
        user.user_permissions.count(),
    )


def posted_rights() -> dict[str, object]:
    return {name: value() if callable(value) else value for name, value in RIGHTS.items()}


@pytest.mark.parametrize("role", ["staff_a", "manager", "dispatcher"])
def test_only_administrators_post_the_user_form(role, people, citizen, staff_a):
    for target in (citizen, staff_a):
        before = rights(target)

        response = client_of(people[role]).post(
            page("accounts.User", "change", target.pk),
            user_form(target, role=Role.ADMINISTRATOR, **posted_rights()),
        )

        assert response.status_code in (302, 403)
        assert rights(target) == before


def test_an_administrator_gives_roles_but_never_superuser_rights_or_stray_groups(
    administrator, citizen
):
    response = client_of(administrator).post(
        page("accounts.User", "change", citizen.pk),
        user_form(citizen, role=Role.DISPATCHER, **posted_rights()),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert rights(citizen) == (Role.DISPATCHER, True, False, None, [Role.DISPATCHER], 0)


def test_an_administrator_cannot_make_themselves_superuser(administrator):
    client_of(administrator).post(
        page("accounts.User", "change", administrator.pk),
        user_form(administrator, **posted_rights()),
    )

    assert rights(administrator)[2] is False
    assert rights(administrator)[4] == [Role.ADMINISTRATOR]


def test_a_user_added_by_an_administrator_gets_only_their_role(administrator, reference_data):
    response = client_of(administrator).post(
        page("accounts.User", "add"),
        {
            "phone": "0905777888",
            "full_name": "Người Mới",
            "email": "",
            "role": Role.CITIZEN,
            "agency": "",
            "usable_password": "true",
            "password1": "một-mật-khẩu-dài-7",
            "password2": "một-mật-khẩu-dài-7",
            **posted_rights(),
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    created = User.objects.get(phone="+84905777888")
    assert rights(created) == (Role.CITIZEN, False, False, None, [Role.CITIZEN], 0)


# Nothing of the reporter's on agency staff's pages


@pytest.mark.parametrize("role", ["staff_a", "manager"])
def test_agency_staff_never_see_who_reported(role, people, citizen, hepco_report, staff_a):
    lifecycle.report_accept(report=hepco_report, actor=staff_a)
    client = client_of(people[role])
    pages = [
        page("reports.Report", "changelist"),
        change_url(hepco_report),
        page("reports.Report", "history", hepco_report.pk),
        *(act_url(hepco_report, action) for action in ("public_update", "resolve", "reject")),
    ]

    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        for secret in (citizen.phone, "0" + citizen.phone[3:], citizen.email, citizen.full_name):
            assert secret not in text, (url, secret)


def test_the_operations_centre_sees_who_reported(dispatcher, citizen, hepco_report):
    text = client_of(dispatcher).get(change_url(hepco_report)).content.decode()

    assert citizen.full_name in text
    assert citizen.phone in text


def test_a_staff_member_without_an_agency_sees_no_report(hepco_report, reference_data):
    orphan = UserFactory(role=Role.CITIZEN, is_staff=True)

    response = client_of(orphan).get(page("reports.Report", "changelist"))

    assert hepco_report.reference not in response.content.decode()


def content_of(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.mark.parametrize(
    ("role", "name"),
    [
        ("staff_a", "reports_report_export"),
        ("manager", "reports_report_export"),
        ("manager", "reports_dashboard_reports_csv"),
    ],
)
def test_the_exports_hold_only_the_agencys_reports_and_no_reporter(
    role, name, people, citizen, other_citizen, hepco_report, ward_report
):
    response = client_of(people[role]).get(reverse(f"admin:{name}"))

    assert response.status_code == 200
    text = content_of(response)
    assert hepco_report.reference in text
    assert ward_report.reference not in text
    for user in (citizen, other_citizen):
        for secret in (user.phone, "0" + user.phone[3:], user.email, user.full_name):
            assert secret not in text, secret


# The dashboard is for managers (their agency) and the city; the change list's export for
# everyone who has the change list.
CUSTOM_PAGE_ROLES = {
    "reports_dashboard": {"manager", "dispatcher", "administrator"},
    "reports_dashboard_reports_csv": {"manager", "dispatcher", "administrator"},
    "reports_dashboard_agencies_csv": {"manager", "dispatcher", "administrator"},
    "reports_report_export": set(STAFF),
}


@pytest.mark.parametrize("name", CUSTOM_PAGES)
def test_the_dashboard_and_exports_open_to_exactly_their_roles(name, people, hepco_report):
    for role in STAFF:
        expected = 200 if role in CUSTOM_PAGE_ROLES[name] else 403
        assert client_of(people[role]).get(reverse(f"admin:{name}")).status_code == expected, role
