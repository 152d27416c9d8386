import time

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.contrib.auth.models import Group

from accounts.groups import CITY_STAFF
from tests.accounts.factories import UserFactory
from tests.browser.journey import check_page
from tests.browser.test_poll_end_to_end import PASSWORD


def code_of(secret: str, step: int = 0) -> str:
    """What the authenticator app shows now (``step=1``: in the next 30 seconds, which the
    site also accepts; a code is used once)."""
    counter = int(time.time()) // mfa_settings.TOTP_PERIOD + step
    return format_hotp_value(hotp_value(secret, counter))


@pytest.mark.django_db(transaction=True)
def test_new_staff_set_up_an_authenticator_app_and_sign_in_with_it(
    live_server, new_page, city_groups
):
    """A staff member without a second factor is sent to set one up from any page; they
    confirm their password, add the app with the secret shown beside the QR code, keep the
    recovery codes, reach the staff pages, and the next log-in asks for the app's code."""
    staff = UserFactory(is_staff=True, authenticator=False)
    staff.groups.add(Group.objects.get(name=CITY_STAFF))
    base = live_server.url
    page = new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", staff.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/accounts/2fa/")
    assert "двухфакторную аутентификацию" in page.locator(".messages").inner_text()
    check_page(page, "1-setup-required", test_name="two-factor")
    page.goto(f"{base}/staff/")
    page.wait_for_url(f"{base}/accounts/2fa/")  # still not in

    page.click("a[href='/accounts/2fa/totp/activate/']")
    page.wait_for_url(f"{base}/accounts/reauthenticate/**")
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/accounts/2fa/totp/activate/")
    check_page(page, "2-scan-the-code", test_name="two-factor")
    secret = page.input_value("#authenticator_secret")
    page.fill("input[name=code]", code_of(secret))
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/accounts/2fa/recovery-codes/")
    check_page(page, "3-recovery-codes", test_name="two-factor")

    page.goto(f"{base}/staff/")
    assert page.url == f"{base}/staff/"
    page.click("form[action='/accounts/logout/'] button")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", staff.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/accounts/2fa/authenticate/")
    page.fill("input[name=code]", code_of(secret, step=1))
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/staff/")
    assert page.url == f"{base}/staff/"
