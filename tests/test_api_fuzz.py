"""Property-based API fuzzing: schemathesis generates requests from the OpenAPI schema and
sends them to the live server; no response may be a 5xx or contradict the schema.
Bounded: a few dozen examples per operation."""

import pytest
import schemathesis
from django.conf import settings
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.accounts.factories import UserFactory  # noqa: I001
from tests.polls.factories import three_question_poll

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))


@pytest.fixture
def session_cookie(db) -> dict[str, str]:
    """Something to find (a poll), and a signed-in resident's session for the requests."""
    three_question_poll()
    client = Client()
    client.force_login(UserFactory())
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@hypothesis_settings(
    max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
def test_no_server_errors_and_no_schema_violations(case, live_server, session_cookie):
    case.call_and_validate(
        base_url=live_server.url,
        headers={"Accept-Language": "en"},
        cookies=session_cookie,
        checks=[not_a_server_error, response_schema_conformance],
    )
