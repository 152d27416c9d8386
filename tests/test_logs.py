"""Logs never hold a password, a one-time code, a session token or a full email address,
whatever a resident does (sign up, mistype a code, fail to log in, verify an address)."""

import json
import logging

import pytest
from django.urls import reverse

from accounts.services import residency_codes_generate
from tests.accounts.factories import UserFactory
from tests.accounts.test_signup import code_from
from tests.civic.factories import BuildingFactory

PASSWORD = "a-long-resident-password"


def everything_logged(caplog) -> str:
    """Messages, arguments and structured extras of every record, as one text."""
    parts = []
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.append(json.dumps(record.__dict__, default=str, ensure_ascii=False))
    return "\n".join(parts)


@pytest.mark.django_db
def test_secrets_stay_out_of_the_logs(client, caplog, mailoutbox):
    caplog.set_level(logging.DEBUG)
    email = "secret.resident@example.org"
    client.post(
        reverse("account_signup"), {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    )
    code = code_from(mailoutbox[0])
    client.post(reverse("account_email_verification_sent"), {"code": "WRONG-CODE"})
    client.post(reverse("account_email_verification_sent"), {"code": code})
    client.post(reverse("account_logout"))
    client.post(reverse("account_login"), {"login": email, "password": "not-the-password"})

    building = BuildingFactory(apartments=2)
    staff = UserFactory(is_staff=True)
    residency = residency_codes_generate(buildings=[building], label="x", created_by=staff)
    resident = UserFactory(home_building=building)
    client.force_login(resident)
    client.post(reverse("residency_verify"), {"code": "ZZZZZZZZZZ"})
    letter_code = residency.codes.first().code
    client.post(reverse("residency_verify"), {"code": letter_code})
    token = client.session.session_key
    client.get(reverse("api_me"), HTTP_X_SESSION_TOKEN=token)

    logged = everything_logged(caplog)
    loggers = {record.name for record in caplog.records}
    assert {"accounts.services", "django.request"} <= loggers  # else this proves nothing
    for secret in (PASSWORD, "not-the-password", code, letter_code, token, email):
        assert secret not in logged, secret
