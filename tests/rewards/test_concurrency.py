"""Races on real connections: the database, not Python, keeps the ledger and stock right."""

import pytest

from rewards.models import LedgerEntry, Reason, Redemption, Reward, Wallet
from rewards.selectors import wallet_mismatches
from rewards.services import (
    Award,
    RewardsError,
    points_award,
    redemption_cancel,
    reward_redeem,
)
from tests.accounts.factories import UserFactory
from tests.rewards.factories import RewardFactory, give_points
from tests.threads import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)


def race(functions) -> list:
    """Run the functions together on their own threads and connections; a refusal's code
    stands for its outcome."""

    def refused_as_code(function):
        try:
            return function()
        except RewardsError as refused:
            return refused.code

    return run_at_once([lambda f=function: refused_as_code(f) for function in functions])


def test_a_hundred_residents_and_ten_tickets(city_groups):
    """100 residents redeem a reward with stock 10 at once: 10 get it, 90 are told why."""
    reward = RewardFactory(cost=50, stock=10)
    residents = UserFactory.create_batch(100)
    for resident in residents:
        give_points(resident, 1000)
    outcomes = race(
        [lambda r=resident: reward_redeem(user=r, reward_id=reward.pk) for resident in residents]
    )
    assert sum(isinstance(outcome, Redemption) for outcome in outcomes) == 10
    assert outcomes.count("out_of_stock") == 90
    assert Reward.objects.get(pk=reward.pk).stock == 0
    assert Redemption.objects.count() == 10
    assert sum(Wallet.objects.values_list("balance", flat=True)) == 100 * 1000 - 10 * 50


def test_one_resident_two_rewards_not_enough_for_both(city_groups):
    """100 points, two 60-point rewards at once: exactly one succeeds."""
    resident = UserFactory()
    give_points(resident, 1000)
    Wallet.objects.filter(user=resident).update(balance=100)  # spent elsewhere, in effect
    LedgerEntry.objects.create(  # …and recorded, so the ledger still adds up
        user=resident, amount=-900, reason=Reason.REDEMPTION, key="earlier"
    )
    first, second = RewardFactory(cost=60), RewardFactory(cost=60)
    outcomes = race(
        [
            lambda: reward_redeem(user=resident, reward_id=first.pk),
            lambda: reward_redeem(user=resident, reward_id=second.pk),
        ]
    )
    assert sum(isinstance(outcome, Redemption) for outcome in outcomes) == 1
    assert "insufficient_points" in outcomes
    assert Wallet.objects.get(user=resident).balance == 40


def test_the_same_award_twenty_times_at_once_is_credited_once():
    resident = UserFactory()
    award = Award(Reason.VOTE, key="vote:42", source="poll:42")
    outcomes = race(
        [lambda: points_award(user_id=resident.pk, amount=20, award=award) for _ in range(20)]
    )
    assert outcomes.count(True) == 1 and outcomes.count(False) == 19
    assert LedgerEntry.objects.filter(user=resident).count() == 1
    assert Wallet.objects.get(user=resident).balance == 20


def test_cancelling_while_others_redeem_does_not_deadlock(city_groups):
    """Cancel and redeem take their locks in the same order (wallet, then reward)."""
    reward = RewardFactory(cost=10, stock=50)
    residents = UserFactory.create_batch(6)
    for resident in residents:
        give_points(resident, 1000)
    issued = [reward_redeem(user=resident, reward_id=reward.pk) for resident in residents[:3]]
    outcomes = race(
        [lambda r=r: redemption_cancel(redemption_id=r.pk, reason="x") for r in issued]
        + [lambda u=u: reward_redeem(user=u, reward_id=reward.pk) for u in residents]
    )
    assert len(outcomes) == 9  # nobody died of a deadlock
    assert Reward.objects.get(pk=reward.pk).stock == 50 - 6
    assert wallet_mismatches() == []
