"""A resident's whole life on the platform, in a real browser: sign up with the emailed
code, set the address, vote (correcting a mistake), see the receipt, results and points,
take a reward, read the notice of the final results. And the same vote on a phone, in
English, with the keyboard alone. Every key page is screenshotted and checked with axe;
the Russian ones also for untranslated text."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import User
from polls.models import Ballot, Poll
from polls.services import poll_results_publish, poll_tally
from polls.tasks import refresh_live_results
from tests.accounts.factories import UserFactory
from tests.accounts.test_signup import code_from
from tests.browser.journey import check_page
from tests.browser.test_poll_end_to_end import sign_in
from tests.civic.factories import BuildingFactory
from tests.polls.factories import three_question_poll
from tests.rewards.factories import RewardFactory, give_points

PASSWORD = "a-long-resident-password"


def open_poll(**fields) -> Poll:
    return three_question_poll(results_visibility="live", title="Что улучшить во дворе?", **fields)


@pytest.mark.django_db(transaction=True)
def test_a_new_resident_signs_up_votes_takes_a_reward_and_reads_the_results_notice(
    live_server, new_page, city_groups
):
    base = live_server.url
    BuildingFactory(street="Тверская улица", house="7", postcode="125009")
    poll = open_poll()
    RewardFactory(title="Билет в Театр на Таганке", cost=50, stock=5)
    test = "resident"
    page = new_page()

    page.goto(f"{base}/accounts/signup/")
    page.fill("input[name=email]", "anna@example.org")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    check_page(page, "1-sign-up", test_name=test)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/confirm-email/"))
    page.fill("input[name=code]", code_from(mail.outbox[-1]))
    page.click("main form button[type=submit]")
    page.wait_for_load_state()

    page.goto(f"{base}/profile/edit/")
    page.fill("input[name=address_query]", "Тверская 7")
    page.click("button[name=action][value=search]")
    page.locator("input[name=home_building]").first.check()
    page.fill("input[name=birth_year]", "1988")
    page.select_option("select[name=gender]", "female")
    check_page(page, "2-profile", test_name=test)
    page.click("button[name=action][value=save]")
    page.wait_for_url(f"{base}/profile/")
    assert User.objects.get(email="anna@example.org").home_building.house == "7"

    page.goto(f"{base}/polls/{poll.pk}/")
    single, multiple, scale = poll.questions.order_by("position")
    page.check(f"input[name=q{single.pk}][value='{single.options.first().pk}']")
    page.check(f"input[name=q{multiple.pk}][value='{multiple.options.first().pk}']")
    page.click("form.poll-form button.primary")  # the scale is left out: an error
    assert page.locator("#form-errors").is_visible()
    check_page(page, "3-vote-with-an-error", test_name=test)
    page.check(f"input[name=q{scale.pk}][value='4']")
    page.click("form.poll-form button.primary")
    receipt = Ballot.objects.get(poll=poll).receipt
    assert page.locator(".receipt").inner_text() == receipt
    check_page(page, "4-receipt", test_name=test)

    refresh_live_results()
    page.goto(f"{base}/polls/{poll.pk}/results/")
    check_page(page, "5-results", test_name=test)
    page.goto(f"{base}/points/")
    assert "70" in page.locator("main").inner_text()  # 50 for the profile, 20 for the vote
    check_page(page, "6-points", test_name=test)

    give_points(User.objects.get(email="anna@example.org"), 1000)  # as if earned earlier
    page.goto(f"{base}/rewards/")
    check_page(page, "7-rewards", test_name=test)
    page.click(".poll-card button.primary")
    page.wait_for_url(f"{base}/rewards/mine/")
    check_page(page, "8-my-rewards", test_name=test)

    now = timezone.now()
    Poll.objects.filter(pk=poll.pk).update(
        opens_at=now - timedelta(days=2), closes_at=now - timedelta(hours=1), closed_at=now
    )
    poll_tally(poll_id=poll.pk, final=True)
    poll_results_publish(poll_id=poll.pk)
    page.goto(f"{base}/notifications/")
    assert "Что улучшить во дворе?" in page.locator("main").inner_text()
    check_page(page, "9-notifications", test_name=test)


@pytest.mark.django_db(transaction=True)
def test_a_phone_vote_in_english_with_the_keyboard_alone(live_server, new_page):
    base = live_server.url
    resident = UserFactory(language="en")
    poll = open_poll()
    page = new_page(
        locale="en-US", viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    sign_in(page, base, resident.email)
    page.locator(f"a[href='/polls/{poll.pk}/']").first.tap()
    page.wait_for_url(f"{base}/polls/{poll.pk}/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    check_page(page, "1-poll", test_name="phone", language="en")

    single, multiple, scale = poll.questions.order_by("position")
    tab_to(page, f"q{single.pk}")
    page.keyboard.press("Space")
    tab_to(page, f"q{multiple.pk}")
    page.keyboard.press("Space")
    tab_to(page, f"q{scale.pk}")
    page.keyboard.press("ArrowRight")  # a radio group: arrows move the choice
    tab_to(page, None, tag="BUTTON")
    page.keyboard.press("Enter")
    page.wait_for_selector(".receipt")
    assert Ballot.objects.filter(poll=poll).count() == 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    check_page(page, "2-receipt", test_name="phone", language="en")


def tab_to(page, name: str | None, *, tag: str = "INPUT", presses: int = 60) -> None:
    """Press Tab until the focus reaches an element (an input of this name, or a button)."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "[document.activeElement.tagName, document.activeElement.name || '',"
            " document.activeElement.type || '']"
        )
        wanted_input = tag == "INPUT" and focused[1] == name
        submit_button = tag == "BUTTON" and focused[2] == "submit"
        if focused[0] == tag and (wanted_input or submit_button):
            return
    raise AssertionError(f"Tab never reached {tag} {name}")
