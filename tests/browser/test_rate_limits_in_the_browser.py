"""Rate limits as a resident meets them in a real browser: a sign-up farm on one address
and a resident voting faster than the limit see the 429 page, in Russian, in the site's
layout, checked with axe and for untranslated text."""

import re

import pytest

from accounts.models import User
from polls.models import Ballot
from tests.accounts.factories import UserFactory
from tests.browser.journey import check_page
from tests.browser.test_poll_end_to_end import sign_in
from tests.polls.factories import three_question_poll

PASSWORD = "a-long-resident-password"


def sign_up(page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/signup/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


@pytest.mark.django_db(transaction=True)
def test_a_sign_up_farm_on_one_address_meets_the_429_page(live_server, new_page, settings):
    """With "2/h" per address, the third sign-up form from the same address is refused
    with the 429 page and creates no account."""
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "2/h/ip"}
    base = live_server.url
    for n in range(2):
        page = new_page()
        sign_up(page, base, f"farm{n}@example.org")
        assert re.search(r"/accounts/confirm-email/", page.url)
    page = new_page()
    sign_up(page, base, "farm2@example.org")
    assert page.locator("h1").inner_text() == "Слишком много запросов"
    assert "Попробуйте позже" in page.locator("[role=alert]").inner_text()
    check_page(page, "signup-429", test_name="rate-limits")
    assert not User.objects.filter(email="farm2@example.org").exists()


@pytest.mark.django_db(transaction=True)
def test_voting_faster_than_the_limit_meets_the_429_page(live_server, new_page, settings):
    """With "1/h", a second vote within the hour shows when to try again and is not
    recorded (an hour's window: the two votes seconds apart fall in one)."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "vote": "1/h"}
    base = live_server.url
    resident = UserFactory()
    first, second = three_question_poll(), three_question_poll()
    page = new_page()
    sign_in(page, base, resident.email)
    for poll in (first, second):
        page.goto(f"{base}/polls/{poll.pk}/")
        single, multiple, scale = poll.questions.order_by("position")
        page.check(f"input[name=q{single.pk}][value='{single.options.first().pk}']")
        page.check(f"input[name=q{multiple.pk}][value='{multiple.options.first().pk}']")
        page.check(f"input[name=q{scale.pk}][value='4']")
        page.click("form.poll-form button.primary")
        page.wait_for_load_state()
    message = page.locator("[role=alert]").inner_text()
    assert re.fullmatch(
        r"Слишком много запросов\. Попробуйте снова через \d+ (минут|секунд)\w*\.", message
    )
    check_page(page, "vote-429", test_name="rate-limits")
    assert Ballot.objects.filter(poll=first).count() == 1
    assert not Ballot.objects.filter(poll=second).exists()
