from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from rewards.models import CategoryLimit, LedgerEntry, Level, Reason, Redemption, Wallet
from rewards.services import (
    InsufficientPoints,
    LevelTooLow,
    LimitReached,
    NotAvailable,
    NotCancellable,
    OutOfStock,
    redemption_cancel,
    redemption_fulfil,
    reward_redeem,
)
from tests.accounts.factories import UserFactory
from tests.rewards.factories import RewardFactory, give_points

SHOP_LEVEL = 1000
pytestmark = pytest.mark.django_db


@pytest.fixture
def levels(city_groups):
    """The seeded levels: the shop opens at 1,000 lifetime points."""
    return list(Level.objects.all())


@pytest.fixture
def citizen(levels):
    """An "Active Citizen": enough lifetime points to shop, 1,000 to spend."""
    resident = UserFactory(language="en")
    give_points(resident, SHOP_LEVEL)
    return resident


def wallet(user) -> Wallet:
    return Wallet.objects.get(user=user)


def test_redeeming_debits_points_takes_stock_and_issues_a_voucher(citizen):
    reward = RewardFactory(cost=300, stock=5)
    redemption = reward_redeem(user=citizen, reward_id=reward.pk)
    reward.refresh_from_db()
    assert (reward.stock, wallet(citizen).balance, wallet(citizen).lifetime) == (4, 700, 1000)
    assert len(redemption.voucher) == 14
    entry = LedgerEntry.objects.get(user=citizen, reason=Reason.REDEMPTION)
    assert (entry.amount, entry.key) == (-300, f"redemption:{redemption.pk}")
    assert Notification.objects.get(user=citizen).params["voucher"] == redemption.voucher


@pytest.mark.parametrize(
    ("reward_fields", "error"),
    [
        ({"stock": 0}, OutOfStock),
        ({"cost": 1001}, InsufficientPoints),
        ({"available_from": timezone.now() + timedelta(days=1)}, NotAvailable),
        ({"available_until": timezone.now() - timedelta(days=1)}, NotAvailable),
    ],
)
def test_each_refusal_changes_nothing(citizen, reward_fields, error):
    reward = RewardFactory(**reward_fields)
    with pytest.raises(error):
        reward_redeem(user=citizen, reward_id=reward.pk)
    assert wallet(citizen).balance == 1000
    assert not Redemption.objects.exists()
    assert LedgerEntry.objects.filter(user=citizen).count() == 1


def test_per_resident_limit(citizen):
    reward = RewardFactory(per_resident_limit=2, cost=10)
    reward_redeem(user=citizen, reward_id=reward.pk)
    reward_redeem(user=citizen, reward_id=reward.pk)
    with pytest.raises(LimitReached, match="2 times"):
        reward_redeem(user=citizen, reward_id=reward.pk)


def test_monthly_points_limit_per_category(citizen):
    CategoryLimit.objects.create(category="parking", points_per_month=100)
    parking = RewardFactory(category="parking", cost=60)
    reward_redeem(user=citizen, reward_id=parking.pk)
    with pytest.raises(LimitReached, match="40 are left"):
        reward_redeem(user=citizen, reward_id=parking.pk)


def test_the_shop_opens_at_the_active_citizen_status(levels):
    newcomer = UserFactory()
    give_points(newcomer, 999)
    with pytest.raises(LevelTooLow, match="Активный гражданин"):
        reward_redeem(user=newcomer, reward_id=RewardFactory(cost=10).pk)
    give_points(newcomer, 1)
    reward_redeem(user=newcomer, reward_id=RewardFactory(cost=10).pk)


def test_a_reward_may_need_a_higher_status(citizen, levels):
    expert = Level.objects.get(min_lifetime=5000)
    with pytest.raises(LevelTooLow, match="Эксперт"):
        reward_redeem(user=citizen, reward_id=RewardFactory(required_level=expert).pk)


def test_cancelling_refunds_points_and_returns_stock_once(citizen):
    reward = RewardFactory(cost=200, stock=1)
    redemption = reward_redeem(user=citizen, reward_id=reward.pk)
    redemption_cancel(redemption_id=redemption.pk, reason="Спектакль отменён")
    reward.refresh_from_db()
    assert (reward.stock, wallet(citizen).balance, wallet(citizen).lifetime) == (1, 1000, 1000)
    refund = LedgerEntry.objects.get(reason=Reason.REFUND)
    assert (refund.amount, refund.comment) == (200, "Спектакль отменён")
    with pytest.raises(NotCancellable):
        redemption_cancel(redemption_id=redemption.pk, reason="again")


def test_a_fulfilled_redemption_cannot_be_cancelled(citizen):
    redemption = reward_redeem(user=citizen, reward_id=RewardFactory().pk)
    assert redemption_fulfil(redemption_id=redemption.pk)
    with pytest.raises(NotCancellable):
        redemption_cancel(redemption_id=redemption.pk, reason="late")


def test_donations_issue_no_voucher_notification_and_count_in_the_total(client, citizen):
    charity = RewardFactory(category="charity", is_donation=True, cost=100)
    client.force_login(citizen)
    client.post(reverse("reward_redeem", args=[charity.pk]))
    assert not Notification.objects.exists()
    assert client.get(reverse("rewards")).context["donated"] == 100


# --- pages ----------------------------------------------------------------------------------


def test_shop_end_to_end_in_the_browser_pages(client, citizen):
    reward = RewardFactory(title="Билет в Большой театр", cost=400, stock=3)
    client.force_login(citizen)
    catalogue = client.get(reverse("rewards"))
    assert "Билет в Большой театр" in catalogue.content.decode()
    response = client.post(reverse("reward_redeem", args=[reward.pk]), follow=True)
    voucher = Redemption.objects.get().voucher
    assert voucher in response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("my_redemptions")
    points = client.get(reverse("my_points"))
    assert points.context["standing"].balance == 600
    assert "-400" in points.content.decode()


def test_refusal_is_a_409_with_the_reason(client, citizen):
    reward = RewardFactory(stock=0)
    client.force_login(citizen)
    response = client.post(reverse("reward_redeem", args=[reward.pk]))
    assert response.status_code == 409
    assert "out of stock" in response.content.decode()


def test_catalogue_filters_by_category_and_affordability(client, citizen):
    cheap = RewardFactory(category="museum", cost=100)
    RewardFactory(category="museum", cost=5000)
    RewardFactory(category="parking", cost=100)
    client.force_login(citizen)
    response = client.get(reverse("rewards"), {"category": "museum", "affordable": "on"})
    assert list(response.context["rewards"]) == [cheap]
    assert client.get(reverse("rewards"), {"category": "nonsense"}).status_code == 400


def test_points_history_query_count_is_constant(client, citizen, django_assert_max_num_queries):
    for _ in range(30):
        give_points(citizen, 1)
    client.force_login(citizen)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("my_points"))
    assert len(response.context["page"]) == 20
    assert response.context["standing"].level.name == "Активный гражданин"


def test_a_lower_required_status_does_not_bypass_the_shop_gate(levels):
    newcomer = UserFactory()
    give_points(newcomer, 500)
    participant = Level.objects.get(min_lifetime=0)
    with pytest.raises(LevelTooLow):
        reward_redeem(
            user=newcomer, reward_id=RewardFactory(cost=10, required_level=participant).pk
        )


def test_admin_save_keeps_redemptions_made_meanwhile(admin_client, citizen):
    """The admin opened the form at stock 1; a resident took the last one; saving a title
    change must not put it back, and stock changes go by a delta."""
    reward = RewardFactory(stock=1, cost=10)
    url = reverse("admin:rewards_reward_change", args=[reward.pk])
    form = admin_client.get(url).context["adminform"].form
    reward_redeem(user=citizen, reward_id=reward.pk)
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data.update(title="Новое название", category="theatre", cost="10", stock_change="5")
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    reward.refresh_from_db()
    assert (reward.title, reward.stock) == ("Новое название", 5)


def test_admin_adjustment_that_would_overdraw_is_refused_in_the_form(admin_client, citizen):
    response = admin_client.post(
        reverse("admin:rewards_ledgerentry_add"),
        {"user": citizen.pk, "amount": "-5000", "comment": "ошибка"},
    )
    assert response.status_code == 200
    assert "negative" in response.content.decode() or "отрицательн" in response.content.decode()
    assert LedgerEntry.objects.filter(user=citizen).count() == 1
    response = admin_client.post(
        reverse("admin:rewards_ledgerentry_add"),
        {"user": citizen.pk, "amount": "-100", "comment": "ошибка начисления"},
    )
    assert response.status_code == 302
    assert wallet(citizen).balance == 900
