import pytest

from rewards.models import Redemption
from tests.accounts.factories import UserFactory
from tests.browser.journey import check_page
from tests.browser.test_poll_end_to_end import sign_in
from tests.rewards.factories import RewardFactory, give_points


@pytest.mark.django_db(transaction=True)
def test_resident_redeems_a_reward_in_the_browser(live_server, new_page, city_groups):
    """An "Active Citizen" opens the shop, filters what they can afford, takes a ticket and
    finds the voucher under "My rewards"; the header balance goes down."""
    resident = UserFactory()
    give_points(resident, 1200)
    RewardFactory(title="Билет в Театр на Таганке", cost=1000, stock=3)
    RewardFactory(title="Слишком дорого", cost=5000)
    page = new_page()
    sign_in(page, live_server.url, resident.email)
    assert "1200" in page.locator(".points-link").inner_text()

    page.goto(f"{live_server.url}/rewards/")
    check_page(page, "1-catalogue", test_name="shop")
    page.check("input[name=affordable]")
    page.click("form.filters button[type=submit]")
    assert page.locator(".poll-card h2").all_inner_texts() == ["Билет в Театр на Таганке"]
    page.click(".poll-card button.primary")
    page.wait_for_url(f"{live_server.url}/rewards/mine/")
    voucher = Redemption.objects.get(user=resident).voucher
    assert page.locator(".poll-card .receipt").inner_text() == voucher
    assert "200" in page.locator(".points-link").inner_text()
