"""Property-based checks of the whole mobile API against its own OpenAPI schema.

Schemathesis reads the schema the app serves (/api/schema/), generates requests for every
/api/v1 operation, valid ones and broken ones (wrong types, NUL bytes, huge numbers, surrogates,
garbage multipart), and checks each answer: never a 5xx, a documented status code and
content type, and a body that matches the documented schema. Once anonymously, once as a
verified citizen with a report of their own, so that the reporter's actions are reached too.

Bounded for CI: SCHEMATHESIS_MAX_EXAMPLES examples per operation (default 25), derandomized.
A longer local run: SCHEMATHESIS_MAX_EXAMPLES=200 pytest tests/e2e/test_schemathesis.py.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import User
from hues.wsgi import application
from reports.models import Report

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True)
# The coverage phase's exhaustive boundary cases are not bounded by max_examples.
schema.config.phases.coverage.enabled = False
api_v1 = schema.include(path_regex=r"^/api/v1/")

HYPOTHESIS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def own_report(citizen: User, file_report: Callable[..., object], reference_data: None) -> Report:
    response = file_report(citizen)
    return Report.objects.get(reference=response.data["reference"])  # type: ignore[attr-defined]


def call_and_validate(case: schemathesis.Case, **kwargs: Any) -> None:
    """Call the app as a WSGI server would, but inside the test's transaction: the handler
    closes the database connection after each request, which on PostgreSQL would end the
    transaction; Django's test client keeps the connection the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        case.call_and_validate(checks=CHECKS, **kwargs)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@api_v1.parametrize()
@HYPOTHESIS
def test_anonymous_callers_get_documented_answers(
    case: schemathesis.Case, reference_data: None
) -> None:
    call_and_validate(case)


@api_v1.parametrize()
@HYPOTHESIS
def test_citizens_get_documented_answers(
    case: schemathesis.Case, citizen: User, own_report: Report
) -> None:
    if "reference" in (case.path_parameters or {}):
        case.path_parameters["reference"] = own_report.reference
    token = RefreshToken.for_user(citizen).access_token
    call_and_validate(case, headers={"Authorization": f"Bearer {token}"})
