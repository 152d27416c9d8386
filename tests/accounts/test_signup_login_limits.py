"""Sign-up farms and password guessing: sign-ups are limited per client address and hour,
failed log-ins per address as well as per account, in the browser and the app API alike."""

import pytest
import time_machine
from django.conf import settings as project_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-resident-password"
FARM = "203.0.113.7"
NEIGHBOUR = "198.51.100.9"


def browser(ip: str) -> Client:
    client = Client(REMOTE_ADDR=ip)
    client.cookies[project_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def browser_signup(ip: str, email: str):
    return browser(ip).post(
        reverse("account_signup"), {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    )


def app_signup(ip: str, email: str):
    return Client(REMOTE_ADDR=ip).post(
        "/_allauth/app/v1/auth/signup",
        {"email": email, "password": PASSWORD},
        content_type="application/json",
    )


def test_the_limits_are_handed_to_allauth_per_address():
    """RATE_LIMITS says how many; allauth counts them per client address (and per account
    for wrong passwords)."""
    rates = project_settings.RATE_LIMITS
    assert project_settings.ACCOUNT_RATE_LIMITS["signup"] == f"{rates['signup']}/ip"
    assert project_settings.ACCOUNT_RATE_LIMITS["login_failed"] == (
        f"{rates['login_failed']}/ip,5/5m/key"
    )


def test_signups_from_one_address_are_limited_per_hour(settings, mailoutbox):
    """With "3/h", three sign-ups from one address (browser form or app API, one counter)
    go through; the fourth is a 429 that creates no account and sends no mail; another
    address still signs up, and an hour later this one does again."""
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "3/h/ip"}
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        assert browser_signup(FARM, "farm1@example.org").status_code == 302
        assert app_signup(FARM, "farm2@example.org").status_code == 401  # verify_email pending
        assert browser_signup(FARM, "farm3@example.org").status_code == 302
        page = browser_signup(FARM, "farm4@example.org")
        assert page.status_code == 429
        assert "You have sent too many requests. Try again later." in page.content.decode()
        assert [t.name for t in page.templates][:2] == ["429.html", "base.html"]
        api = app_signup(FARM, "farm5@example.org")
        assert api.status_code == 429 and api.json()["status"] == 429
        assert not User.objects.filter(email__in=["farm4@example.org", "farm5@example.org"])
        assert len(mailoutbox) == 3
        assert browser_signup(NEIGHBOUR, "neighbour@example.org").status_code == 302
        clock.move_to(start + timezone.timedelta(minutes=61))
        assert browser_signup(FARM, "farm6@example.org").status_code == 302


def wrong_login(client: Client, email: str):
    return client.post(reverse("account_login"), {"login": email, "password": "wrong password"})


def test_failed_logins_from_one_address_are_limited_across_accounts(settings):
    """Guessing passwords of many accounts from one address (a few guesses each, under the
    per-account lockout) stops after the address's limit ("6/h" here): then even a right
    password from that address is refused with a message, in the browser and the app API,
    while the same resident logs in from another address."""
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "login_failed": "6/h/ip,5/5m/key",
    }
    resident = UserFactory()
    victims = [UserFactory() for _ in range(3)]
    guesser = browser(FARM)
    for victim in victims:
        for _ in range(2):
            assert wrong_login(guesser, victim.email).status_code == 200
    refused = guesser.post(
        reverse("account_login"), {"login": resident.email, "password": "correct horse battery"}
    )
    assert refused.status_code == 200
    assert "Too many failed login attempts" in refused.content.decode()
    assert "_auth_user_id" not in guesser.session
    app = Client(REMOTE_ADDR=FARM).post(
        "/_allauth/app/v1/auth/login",
        {"email": resident.email, "password": "correct horse battery"},
        content_type="application/json",
    )
    assert app.status_code == 400
    assert "too_many_login_attempts" in app.content.decode()
    elsewhere = browser(NEIGHBOUR).post(
        reverse("account_login"), {"login": resident.email, "password": "correct horse battery"}
    )
    assert elsewhere.status_code == 302


def test_a_right_password_does_not_reset_the_address_count(settings):
    """Logging in to one's own account between guesses does not buy more guesses: a
    success gives back only its own try."""
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "login_failed": "3/h/ip,5/5m/key",
    }
    own, victim = UserFactory(), UserFactory()
    client = browser(FARM)
    wrong_login(client, victim.email)
    wrong_login(client, victim.email)
    mine = client.post(
        reverse("account_login"), {"login": own.email, "password": "correct horse battery"}
    )
    assert mine.status_code == 302
    client.post(reverse("account_logout"))
    wrong_login(client, victim.email)
    last = wrong_login(client, victim.email)
    assert "Too many failed login attempts" in last.content.decode()
