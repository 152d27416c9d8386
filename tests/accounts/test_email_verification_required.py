"""Votes and points need a confirmed email address: an account whose address is not
confirmed cannot vote (page and API) and earns no points, however it got a session."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.selectors import resident_with_home
from accounts.services import ProfileChanges, profile_update, residency_verify_code
from polls.models import Ballot, Participation
from rewards.models import LedgerEntry
from tests.accounts.factories import UserFactory
from tests.accounts.test_residency import codes_for
from tests.polls.factories import three_question_poll
from tests.polls.test_api import answers
from tests.polls.test_pages import form_data

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-resident-password"
CONFIRM = "Confirm your email address to vote: enter the code we emailed you."


@pytest.fixture
def unconfirmed():
    """A resident whose address is not (or no longer) confirmed, e.g. unconfirmed by staff
    after signing in."""
    user = UserFactory(language="en")
    EmailAddress.objects.filter(user=user).update(verified=False)
    return user


def test_the_poll_page_refuses_an_unconfirmed_address(client, unconfirmed, settings):
    """The page says why before voting, and a posted ballot is a 403 that writes nothing."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(unconfirmed)
    poll = three_question_poll(points=10)
    assert CONFIRM in client.get(reverse("poll_detail", args=[poll.pk])).content.decode()
    response = client.post(reverse("poll_detail", args=[poll.pk]), form_data(poll))
    assert response.status_code == 403
    assert CONFIRM in response.content.decode()
    assert not Participation.objects.exists() and not Ballot.objects.exists()
    assert not LedgerEntry.objects.filter(user=unconfirmed).exists()


def test_the_api_refuses_an_unconfirmed_address(unconfirmed):
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    api.force_authenticate(unconfirmed)
    poll = three_question_poll(points=10)
    response = api.post(f"/api/polls/{poll.pk}/vote/", answers(poll), format="json")
    assert response.status_code == 403
    assert response.json() == {"code": "email_unverified", "detail": CONFIRM}
    assert not Participation.objects.exists() and not Ballot.objects.exists()
    assert not LedgerEntry.objects.filter(user=unconfirmed).exists()


def test_an_unconfirmed_address_earns_no_points_for_the_profile_or_the_address(
    unconfirmed, city_groups
):
    """The profile completed and the address verified by the letter's code: both done,
    neither paid while the email address is unconfirmed."""
    staff = UserFactory(is_staff=True)
    code = codes_for(unconfirmed.home_building, staff)["2"]
    resident = resident_with_home(user_id=unconfirmed.pk)
    changes = ProfileChanges(
        home_building=resident.home_building,
        apartment="2",
        birth_year=1990,
        gender="female",
        language="en",
    )
    profile_update(user=resident, changes=changes)
    residency_verify_code(user=resident, code=code)
    resident.refresh_from_db()
    assert resident.birth_year == 1990 and resident.verified_apartment == "2"
    assert not LedgerEntry.objects.filter(user=unconfirmed).exists()


def test_an_account_without_any_address_record_is_unconfirmed():
    """An account made outside allauth (a script, the shell) has no confirmed address."""
    user = UserFactory()
    EmailAddress.objects.filter(user=user).delete()
    assert resident_with_home(user_id=user.pk).email_verified is False


def test_only_the_accounts_current_address_counts():
    """A confirmed old address does not stand for the account's current, unconfirmed one."""
    user = UserFactory()
    EmailAddress.objects.filter(user=user).update(email="old@example.org")
    assert resident_with_home(user_id=user.pk).email_verified is False
    EmailAddress.objects.filter(user=user).update(email=user.email.upper())
    assert resident_with_home(user_id=user.pk).email_verified is True


def test_reading_the_voter_costs_one_query(django_assert_num_queries):
    """Whether the address is confirmed comes with the resident's row, not after it."""
    user = UserFactory()
    with django_assert_num_queries(1):
        resident = resident_with_home(user_id=user.pk)
        assert resident.email_verified is True and resident.home_building.district.okrug


def code_from(mail) -> str:
    return re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", mail.body, re.MULTILINE).group(1)


def test_a_browser_sign_up_votes_only_after_entering_the_code(mailoutbox, settings):
    """Signed up but not confirmed, the resident is not signed in: a vote is sent to the
    log-in page and writes nothing; after the code, the same vote counts and earns points."""
    poll = three_question_poll(points=10)
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.post(
        reverse("account_signup"),
        {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )
    refused = client.post(reverse("poll_detail", args=[poll.pk]), form_data(poll))
    assert refused.status_code == 302 and refused["Location"].startswith(reverse("account_login"))
    assert not Participation.objects.exists() and not LedgerEntry.objects.exists()
    client.post(reverse("account_email_verification_sent"), {"code": code_from(mailoutbox[0])})
    voted = client.post(reverse("poll_detail", args=[poll.pk]), form_data(poll))
    assert voted.status_code == 201
    assert LedgerEntry.objects.get().amount == 10


def test_an_app_sign_up_votes_only_after_entering_the_code(mailoutbox):
    """The token an app holds before the code is not a signed-in session: the vote is a
    401 that writes nothing."""
    poll = three_question_poll(points=10)
    app = APIClient()
    signup = app.post(
        "/_allauth/app/v1/auth/signup",
        {"email": "app@example.org", "password": PASSWORD},
        format="json",
    )
    token = signup.json()["meta"]["session_token"]
    refused = app.post(
        f"/api/polls/{poll.pk}/vote/", answers(poll), format="json", HTTP_X_SESSION_TOKEN=token
    )
    assert refused.status_code == 401
    assert not Participation.objects.exists() and not LedgerEntry.objects.exists()
    verified = app.post(
        "/_allauth/app/v1/auth/email/verify",
        {"key": code_from(mailoutbox[0])},
        format="json",
        HTTP_X_SESSION_TOKEN=token,
    )
    token = verified.json()["meta"]["session_token"]
    voted = app.post(
        f"/api/polls/{poll.pk}/vote/", answers(poll), format="json", HTTP_X_SESSION_TOKEN=token
    )
    assert voted.status_code == 201
    assert LedgerEntry.objects.get().amount == 10
