"""Two-factor authentication: city staff and admins must have an authenticator; residents may."""

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.groups import CITY_ADMINS, CITY_STAFF
from accounts.mfa import mfa_setup_required
from tests.accounts.factories import UserFactory, totp_code
from tests.polls.factories import PollFactory

PASSWORD = "correct horse battery"
pytestmark = pytest.mark.django_db


@pytest.fixture
def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def staff_member(group=CITY_STAFF, **fields):
    user = UserFactory(is_staff=True, **fields)
    user.groups.add(Group.objects.get(name=group))
    return user


def sign_in(client, user, code=None):
    """Log in through allauth's form, and its second step when ``code`` is given."""
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    if code is not None:
        assert response.url == reverse("mfa_authenticate")
        response = client.post(reverse("mfa_authenticate"), {"code": code})
    return response


def reauthenticate(client):
    """allauth asks for the password again before any change of authenticators."""
    response = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert response.status_code == 302


@pytest.mark.parametrize("url_name", ["admin:index", "staff_overview", "home", "profile"])
def test_staff_without_an_authenticator_are_sent_to_set_one_up(english, city_groups, url_name):
    """Every page sends a staff account without an authenticator to the setup, saying why."""
    english.force_login(staff_member(authenticator=False))
    response = english.get(reverse(url_name))
    assert response.status_code == 302
    assert response.url == reverse("mfa_index")
    page = english.get(response.url)
    assert page.status_code == 200
    assert "must use two-factor authentication" in page.content.decode()


@pytest.mark.parametrize("kind", ["is_staff", "is_superuser", CITY_STAFF, CITY_ADMINS])
def test_every_kind_of_staff_account_must_set_it_up(client, city_groups, kind):
    """is_staff, superusers and members of either staff group (even without is_staff)."""
    if kind in (CITY_STAFF, CITY_ADMINS):
        user = UserFactory()
        user.groups.add(Group.objects.get(name=kind))
    else:
        user = UserFactory(authenticator=False, **{kind: True})
    client.force_login(user)
    assert client.get(reverse("home")).url == reverse("mfa_index")


def test_the_setup_pages_log_out_and_language_stay_open(client, city_groups):
    client.force_login(staff_member(authenticator=False))
    assert client.get(reverse("mfa_index")).status_code == 200
    # Adding an authenticator asks for the password first (allauth's reauthentication).
    activate = client.get(reverse("mfa_activate_totp"))
    assert activate.url.startswith(reverse("account_reauthenticate"))
    assert client.get(activate.url).status_code == 200
    assert client.post(reverse("set_language"), {"language": "en"}).status_code == 302
    assert client.post(reverse("account_logout")).status_code == 302
    assert client.get(reverse("profile")).url.startswith(reverse("account_login"))


def test_staff_with_an_authenticator_get_in(client, city_groups):
    client.force_login(staff_member(CITY_ADMINS))
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("staff_overview")).status_code == 200


def test_residents_are_not_forced(client):
    client.force_login(UserFactory())
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("profile")).status_code == 200


def test_the_rule_is_a_setting(client, city_groups, settings):
    settings.STAFF_MFA_REQUIRED = False
    client.force_login(staff_member(authenticator=False))
    assert client.get(reverse("staff_overview")).status_code == 200


def test_the_admins_own_login_form_goes_through_allauth(client):
    """The admin's log-in form would skip the second factor: it sends to allauth's."""
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login") + "?next=")


def test_log_in_asks_for_the_code_when_two_factor_is_on(english):
    """Password, then the authenticator's code: a wrong code keeps the visitor out, the
    right one signs them in. The second step is our layout, in Russian by default."""
    staff = UserFactory(is_staff=True)
    response = sign_in(english, staff)
    assert response.url == reverse("mfa_authenticate")
    assert english.get(reverse("profile")).status_code == 302  # not signed in yet
    wrong = english.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200
    assert "Incorrect code" in wrong.content.decode()
    right = english.post(reverse("mfa_authenticate"), {"code": totp_code()})
    assert right.status_code == 302
    assert english.get(reverse("profile")).status_code == 200
    english.post(reverse("account_logout"))
    english.cookies.pop("django_language")
    sign_in(english, staff)
    page = english.get(reverse("mfa_authenticate")).content.decode()
    assert 'class="site-header"' in page
    assert "Двухфакторная аутентификация" in page


def test_a_resident_turns_two_factor_on_from_the_profile(client):
    """The profile links to the setup; the app's code activates it; the next log-in asks for it."""
    resident = UserFactory()
    sign_in(client, resident)
    profile = client.get(reverse("profile")).content.decode()
    assert reverse("mfa_index") in profile
    reauthenticate(client)
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session["mfa.totp.secret"]
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=resident, type="totp").exists()
    client.post(reverse("account_logout"))
    assert sign_in(client, resident).url == reverse("mfa_authenticate")


def test_staff_cannot_remove_their_last_authenticator(english, city_groups):
    staff = staff_member()
    sign_in(english, staff, code=totp_code())
    reauthenticate(english)
    response = english.post(reverse("mfa_deactivate_totp"))
    assert "You cannot deactivate two-factor authentication" in response.content.decode()
    assert Authenticator.objects.filter(user=staff, type="totp").exists()


def test_a_resident_may_turn_two_factor_off(client):
    resident = UserFactory(is_staff=True)  # an authenticator, then no longer staff
    resident.is_staff = False
    resident.save(update_fields=["is_staff"])
    sign_in(client, resident, code=totp_code())
    reauthenticate(client)
    assert client.post(reverse("mfa_deactivate_totp")).status_code == 302
    assert not Authenticator.objects.filter(user=resident, type="totp").exists()


def test_the_api_refuses_staff_without_an_authenticator(city_groups):
    """Session cookie or app token, every endpoint answers 403 mfa_required; with an
    authenticator the staff export works."""
    poll = PollFactory()
    staff = staff_member(authenticator=False)
    export = reverse("api_export", args=[poll.pk, "results"])
    browser = APIClient()
    browser.force_login(staff)
    for url in (export, reverse("api_me"), reverse("api_polls")):
        response = browser.get(url)
        assert response.status_code == 403
        assert response.json()["code"] == "mfa_required"
    app = APIClient()
    login = app.post(
        "/_allauth/app/v1/auth/login",
        {"email": staff.email, "password": PASSWORD},
        format="json",
    )
    token = login.json()["meta"]["session_token"]
    response = app.get(export, HTTP_X_SESSION_TOKEN=token, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "must use two-factor authentication" in response.json()["detail"]
    browser.force_login(staff_member())
    assert browser.get(export).status_code == 200


def test_apps_log_staff_in_with_the_second_factor(city_groups):
    """allauth's app API asks for the code, then the token works on the staff API."""
    poll = PollFactory()
    staff = staff_member()
    app = APIClient()
    login = app.post(
        "/_allauth/app/v1/auth/login", {"email": staff.email, "password": PASSWORD}, format="json"
    )
    assert login.status_code == 401
    pending = [flow["id"] for flow in login.json()["data"]["flows"] if flow.get("is_pending")]
    assert pending == ["mfa_authenticate"]
    token = login.json()["meta"]["session_token"]
    done = app.post(
        "/_allauth/app/v1/auth/2fa/authenticate",
        {"code": totp_code()},
        format="json",
        HTTP_X_SESSION_TOKEN=token,
    )
    assert done.status_code == 200
    token = done.json()["meta"]["session_token"]
    export = reverse("api_export", args=[poll.pk, "results"])
    assert app.get(export, HTTP_X_SESSION_TOKEN=token).status_code == 200


def test_the_rule_costs_no_query_once_the_user_is_loaded(django_assert_num_queries, city_groups):
    """The backends read the rule's facts with the user (pages and API pay nothing more)."""
    from accounts.mfa import ModelBackend

    staff, resident = staff_member(authenticator=False), UserFactory()
    with django_assert_num_queries(2):
        loaded = [ModelBackend().get_user(user.pk) for user in (staff, resident)]
    with django_assert_num_queries(0):
        assert [mfa_setup_required(user) for user in loaded] == [True, False]


def test_the_demo_staff_have_the_published_authenticator(city_groups):
    """The demo's admin and analyst sign in with the secret printed in the README."""
    from civic.demo import DEMO_TOTP_SECRET, STAFF_LOGINS, demo_staff_ensure

    demo_staff_ensure()
    demo_staff_ensure()  # twice: still one authenticator each
    for _role, email, _group in STAFF_LOGINS:
        [totp] = Authenticator.objects.filter(user__email=email, type="totp")
        assert totp.wrap().validate_code(totp_code(DEMO_TOTP_SECRET))
