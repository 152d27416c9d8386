import re
from datetime import timedelta

import pytest
from django.utils import timezone

from polls.ballot_log import ballot_log_checkpoint
from polls.models import Ballot, Poll, PollStatus, TreeHead
from polls.tasks import refresh_live_results
from tests.accounts.factories import UserFactory, totp_code
from tests.browser.journey import ADMIN_WIDGETS, check_page
from tests.civic.factories import BuildingFactory

PASSWORD = "correct horse battery"  # UserFactory's password


def sign_in(page, base_url, email, *, staff=False, test_name=""):
    """Log in through the form; staff then type the code their authenticator app shows
    (tests' staff have the app with TOTP_SECRET), checked as a page when ``test_name``."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    if staff:
        page.wait_for_url(f"{base_url}/accounts/2fa/authenticate/")
        if test_name:
            check_page(page, "0-second-factor", test_name=test_name)
        page.fill("input[name=code]", totp_code())
        page.click("main form button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def add_question(page, index, text, kind, options=(), **settings):
    page.click("a.djn-add-handler.djn-model-polls-question")
    prefix = f"questions-{index}"
    page.fill(f"[name={prefix}-text]", text)
    page.select_option(f"[name={prefix}-kind]", kind)
    for name, value in settings.items():
        page.fill(f"[name={prefix}-{name}]", str(value))
    add_option = page.locator(f"#{prefix} a.djn-add-handler.djn-model-polls-option")
    for number, option in enumerate(options):
        add_option.click()
        page.fill(f"[name={prefix}-options-{number}-text]", option)


def build_poll_in_admin(page, base_url, district_name) -> Poll:
    sign_in(page, base_url, "admin@example.org", staff=True, test_name="admin")
    page.goto(f"{base_url}/admin/polls/poll/add/")
    page.fill("[name=title]", "Где поставить новые скамейки?")
    page.fill("[name=description]", "Район выбирает места для скамеек.")
    page.select_option("[name=scope]", "areas")
    page.click(".field-districts .select2-selection")
    page.keyboard.type(district_name)
    page.locator(".select2-results__option", has_text=district_name).click()
    now = timezone.localtime()
    opens, closes = now - timedelta(hours=1), now + timedelta(days=2)
    page.fill("[name=opens_at_0]", opens.strftime("%Y-%m-%d"))
    page.fill("[name=opens_at_1]", opens.strftime("%H:%M:%S"))
    page.fill("[name=closes_at_0]", closes.strftime("%Y-%m-%d"))
    page.fill("[name=closes_at_1]", closes.strftime("%H:%M:%S"))
    page.select_option("[name=results_visibility]", "live")
    add_question(page, 0, "Где нужнее скамейки?", "single", ["У подъездов", "В сквере"])
    add_question(
        page,
        1,
        "Какие скамейки?",
        "multiple",
        ["Со спинкой", "Длинные", "Под навесом"],
        max_choices=2,
    )
    add_question(page, 2, "Оцените двор", "scale")
    check_page(page, "1-admin-builds-a-poll", test_name="admin", exclude=ADMIN_WIDGETS)
    page.click("input[name=_save]")
    page.wait_for_url(re.compile(r"/admin/polls/poll/$"))
    poll = Poll.objects.get(title="Где поставить новые скамейки?")
    page.check(f"input[name=_selected_action][value='{poll.pk}']")
    page.select_option("select[name=action]", "publish")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist")
    check_page(page, "2-admin-published", test_name="admin", exclude=ADMIN_WIDGETS)
    return poll


@pytest.mark.django_db(transaction=True)
def test_admin_builds_a_poll_residents_vote_and_results_appear(live_server, new_page):
    """An admin builds a three-question district poll in the admin and publishes it; a
    resident of the district votes in the browser and gets a receipt and live results;
    checks their ballot in the signed log from the receipt page; a resident of another
    district is told why they cannot vote."""
    UserFactory(email="admin@example.org", is_staff=True, is_superuser=True)
    home = BuildingFactory()
    voter = UserFactory(home_building=home)
    outsider = UserFactory()
    base_url = live_server.url

    poll = build_poll_in_admin(new_page(), base_url, home.district.name)
    poll.refresh_from_db()
    assert poll.status == PollStatus.PUBLISHED
    assert [q.options.count() for q in poll.questions.all()] == [2, 3, 0]

    page = new_page()
    sign_in(page, base_url, voter.email)
    page.goto(f"{base_url}/")
    assert "Где поставить новые скамейки?" in page.locator("main").inner_text()  # on the site
    check_page(page, "3-home-with-the-poll", test_name="admin")
    page.goto(f"{base_url}/polls/{poll.pk}/")
    page.check("text=В сквере")
    page.check("text=Со спинкой")
    page.check("text=Под навесом")
    page.check(".scale-point:has-text('4') input")
    page.click("button:has-text('Проголосовать'), button:has-text('Vote')")
    receipt = Ballot.objects.get(poll=poll).receipt
    assert page.locator(".receipt").inner_text() == receipt

    # Check my vote: after the next checkpoint the browser itself proves the ballot is in
    # the signed log (SHA-256 path and Ed25519 signature with Web Crypto).
    ballot_log_checkpoint(poll_id=poll.pk)  # as the final checkpoint does (one ballot)
    page.click("#check-my-vote")  # the receipt goes in a POST body, never in a URL
    page.wait_for_selector("#browser-check[data-outcome]")
    assert page.locator("#browser-check").get_attribute("data-outcome") == "ok"
    check_page(page, "4-check-my-vote", test_name="admin")
    forged_root = "00" * 32  # the same page with a forged root must fail in the browser

    def forge(route):
        original = route.fetch()
        root = TreeHead.objects.get(poll=poll).root
        route.fulfill(response=original, body=original.text().replace(root, forged_root))

    page.route("**/check/**", forge)
    page.goto(f"{base_url}/check/")
    page.fill("#receipt", receipt)
    page.click("main form button[type=submit]")
    page.wait_for_selector("#browser-check[data-outcome]")
    assert page.locator("#browser-check").get_attribute("data-outcome") == "failed"
    page.unroute("**/check/**")

    refresh_live_results()  # what beat runs every minute
    page.goto(f"{base_url}/polls/{poll.pk}/results/")
    assert "100,0%" in page.locator(".bars").first.inner_text()

    page = new_page()
    sign_in(page, base_url, outsider.email)
    page.goto(f"{base_url}/polls/{poll.pk}/")
    refusal = page.locator(".refusal").inner_text()
    assert home.district.name in refusal and outsider.home_building.district.name in refusal
    assert page.locator("button.primary").count() == 0
