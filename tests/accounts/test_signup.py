import re

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from accounts.models import User

CODE = re.compile(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", re.MULTILINE)
PASSWORD = "a-long-resident-password"


def code_from(mail) -> str:
    match = CODE.search(mail.body)
    assert match, mail.body
    return match.group(1)


@pytest.mark.django_db
def test_signup_verifies_email_by_code_then_logs_in(client, mailoutbox):
    """Sign-up sends a code by email; entering it verifies the address and signs the resident in."""
    response = client.post(
        reverse("account_signup"),
        {"email": "anna@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["anna@example.org"]
    assert not EmailAddress.objects.get(email="anna@example.org").verified
    assert client.get(reverse("profile")).status_code == 302  # not signed in yet

    wrong = client.post(reverse("account_email_verification_sent"), {"code": "AAAAAA"})
    assert wrong.status_code == 200
    assert not EmailAddress.objects.get(email="anna@example.org").verified

    response = client.post(
        reverse("account_email_verification_sent"), {"code": code_from(mailoutbox[0])}
    )
    assert response.status_code == 302
    assert EmailAddress.objects.get(email="anna@example.org").verified
    assert client.get(reverse("profile")).status_code == 200


@pytest.mark.django_db
def test_signup_remembers_the_language_of_the_page(client, mailoutbox):
    """A resident who signs up on the English site gets English as their preferred language."""
    client.post(
        reverse("account_signup"),
        {"email": "john@example.org", "password1": PASSWORD, "password2": PASSWORD},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert User.objects.get(email="john@example.org").language == "en"
    assert "verification code" in mailoutbox[0].body.lower()


@pytest.mark.django_db
def test_unverified_resident_cannot_log_in_until_the_code_is_entered(client, mailoutbox):
    """Log-in with an unverified address asks for the code instead of signing in."""
    user = User.objects.create_user(email="pavel@example.org", password=PASSWORD)
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert client.get(reverse("profile")).status_code == 302


@pytest.mark.django_db
def test_signup_with_a_taken_email_creates_nothing_and_warns_the_owner(client, mailoutbox):
    """A taken email gets no second account; the page does not reveal that the email is taken
    (no account enumeration) and the owner is told by email instead."""
    User.objects.create_user(email="taken@example.org", password=PASSWORD)
    response = client.post(
        reverse("account_signup"),
        {"email": "taken@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert User.objects.filter(email="taken@example.org").count() == 1
    assert mailoutbox[0].to == ["taken@example.org"]
    assert not CODE.search(mailoutbox[0].body)


@pytest.mark.django_db
def test_signup_with_mismatched_passwords_is_refused(client, mailoutbox):
    response = client.post(
        reverse("account_signup"),
        {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD + "x"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["password2"]
    assert not User.objects.filter(email="new@example.org").exists()
    assert mailoutbox == []


@pytest.mark.django_db
def test_app_client_signs_up_and_verifies_through_the_headless_api(client, mailoutbox):
    """A mobile app signs up, verifies the code and gets a session token via /_allauth/app/v1/."""
    response = client.post(
        "/_allauth/app/v1/auth/signup",
        {"email": "app@example.org", "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 401
    body = response.json()
    assert any(
        flow["id"] == "verify_email" and flow.get("is_pending") for flow in body["data"]["flows"]
    )
    token = body["meta"]["session_token"]

    response = client.post(
        "/_allauth/app/v1/auth/email/verify",
        {"key": code_from(mailoutbox[0])},
        content_type="application/json",
        HTTP_X_SESSION_TOKEN=token,
    )
    assert response.status_code == 200, response.content
    assert response.json()["data"]["user"]["email"] == "app@example.org"
    assert response.json()["meta"]["is_authenticated"] is True


@pytest.mark.django_db
@pytest.mark.parametrize("email", ["farm1@mailinator.com", "x@eu.yopmail.com", "y@MAILINATOR.COM"])
def test_signup_refuses_disposable_addresses(client, mailoutbox, settings, email):
    """Throwaway mailboxes (accounts/disposable_domains.txt, subdomains too) are refused
    with a message, in the browser and in the app API; nothing is created or sent."""
    from accounts.models import User

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(
        reverse("account_signup"), {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 200
    assert "disposable email services" in response.content.decode()
    api = client.post(
        "/_allauth/app/v1/auth/signup",
        {"email": email, "password": PASSWORD},
        content_type="application/json",
    )
    assert api.status_code == 400
    assert "disposable" in api.content.decode()
    assert not User.objects.filter(email__iexact=email).exists()
    assert mailoutbox == []


def test_ordinary_domains_are_not_disposable():
    from accounts.adapters import is_disposable

    assert not is_disposable("anna@yandex.ru")
    assert not is_disposable("anna@mailinator.com.example.org")
    assert is_disposable("anna@sub.guerrillamail.com")


@pytest.mark.django_db
def test_repeated_failed_logins_lock_the_account_for_a_while(client, settings):
    """After 5 wrong passwords for one account (allauth's default login_failed limit), even
    the right one is refused with a message, until the window has passed."""
    import time_machine
    from django.utils import timezone

    from tests.accounts.factories import UserFactory

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    resident = UserFactory()
    url = reverse("account_login")
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(5):
            client.post(url, {"login": resident.email, "password": "wrong password"})
        locked = client.post(url, {"login": resident.email, "password": "correct horse battery"})
        assert locked.status_code == 200
        assert "Too many failed login attempts" in locked.content.decode()
        clock.move_to(start + timezone.timedelta(minutes=6))
        unlocked = client.post(url, {"login": resident.email, "password": "correct horse battery"})
        assert unlocked.status_code == 302
