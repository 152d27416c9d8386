"""An app's session token signs its resident in with two statements — the session, then the
user with their home and what requests ask of them — deciding exactly as Django does."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.groups import CITY_STAFF
from accounts.mfa import users_with_mfa_state
from accounts.selectors import resident_with_home, visitor_with_home
from accounts.tokens import resident_by_id
from polls.models import Ballot
from tests.accounts.factories import UserFactory
from tests.polls.factories import three_question_poll

pytestmark = pytest.mark.django_db


def token_for(user) -> str:
    """A signed-in session, as allauth's app log-in leaves one; its key is the token."""
    client = APIClient()
    client.force_login(user)
    return client.session.session_key


def app(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_SESSION_TOKEN=token, HTTP_ACCEPT_LANGUAGE="en")
    return client


def home_names(user):
    home = user.home_building
    return home and (home.address, home.district.name, home.district.okrug.name)


def test_the_resident_is_read_with_everything_requests_ask_of_them(city_groups):
    """The one statement gives what the ORM's definitions give: every column, the home
    with district and okrug, the confirmed address and the two-factor facts."""
    staff = UserFactory(is_staff=True, home_building=None)
    staff.groups.add(Group.objects.get(name=CITY_STAFF))
    unconfirmed = UserFactory()
    unconfirmed.emailaddress_set.update(verified=False)
    for user in (UserFactory(), staff, unconfirmed):
        fast = resident_by_id(user_id=user.pk)
        orm = resident_with_home(user_id=user.pk)
        mfa = users_with_mfa_state().get(pk=user.pk)
        fields = [field.attname for field in type(user)._meta.concrete_fields]
        assert [getattr(fast, name) for name in fields] == [getattr(orm, name) for name in fields]
        assert fast.email_verified == orm.email_verified
        assert (fast.in_staff_group, fast.has_authenticator) == (
            mfa.in_staff_group,
            mfa.has_authenticator,
        )
        with CaptureQueriesContext(connection) as queries:
            assert visitor_with_home(user=fast) is fast
            assert home_names(fast) == home_names(orm)
        assert queries.captured_queries == []
    assert resident_by_id(user_id=10**9) is None


def test_a_vote_with_a_token_takes_four_statements(django_assert_num_queries):
    """The session, the resident, the poll and the vote itself."""
    poll = three_question_poll()
    single, multiple, scale = poll.questions.all()
    body = {
        "answers": [
            {"question": single.pk, "options": [single.options.first().pk]},
            {"question": multiple.pk, "options": [multiple.options.first().pk]},
            {"question": scale.pk, "value": 3},
        ]
    }
    client = app(token_for(UserFactory()))
    client.post(f"/api/polls/{poll.pk}/vote/", body, format="json")  # the poll's structure
    client = app(token_for(UserFactory()))
    with django_assert_num_queries(4):
        response = client.post(f"/api/polls/{poll.pk}/vote/", body, format="json")
    assert response.status_code == 201
    assert Ballot.objects.filter(poll=poll).count() == 2


@pytest.mark.parametrize(
    "spoil",
    [
        "unknown_token",
        "expired_session",
        "deactivated",
        "password_changed",
        "unknown_backend",
        "corrupted_session",
    ],
)
def test_a_token_that_signs_nobody_in_is_401(spoil):
    user = UserFactory()
    token = token_for(user)
    session = Session.objects.get(session_key=token)
    if spoil == "unknown_token":
        token = "x" * 32
    elif spoil == "expired_session":
        Session.objects.filter(pk=token).update(expire_date=timezone.now() - timedelta(seconds=1))
    elif spoil == "deactivated":
        type(user).objects.filter(pk=user.pk).update(is_active=False)
    elif spoil == "password_changed":
        user.set_password("another long password")
        user.save(update_fields=["password"])
    elif spoil == "unknown_backend":
        data = session.get_decoded() | {"_auth_user_backend": "some.other.Backend"}
        Session.objects.filter(pk=token).update(session_data=Session.objects.encode(data))
    elif spoil == "corrupted_session":
        Session.objects.filter(pk=token).update(session_data="not signed data")
    response = app(token).get("/api/me/")
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")


def test_staff_without_an_authenticator_are_refused_on_a_token_without_another_query(
    city_groups, django_assert_num_queries
):
    """The two-factor rule reads its facts from the same statement."""
    staff = UserFactory(is_staff=True, authenticator=False)
    client = app(token_for(staff))
    with django_assert_num_queries(2):
        response = client.get("/api/me/")
    assert (response.status_code, response.json()["code"]) == (403, "mfa_required")
