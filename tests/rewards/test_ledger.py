from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from accounts.services import ProfileChanges, profile_update
from polls.models import Scope
from rewards.models import Achievement, LedgerEntry, Reason, Wallet
from rewards.services import (
    POINTS_PROFILE_COMPLETED,
    Award,
    RewardsError,
    points_adjust,
    points_award,
)
from rewards.tasks import award_monthly_activity
from tests.accounts.factories import UserFactory
from tests.civic.factories import BuildingFactory
from tests.polls.factories import three_question_poll
from tests.polls.test_schedule import vote
from tests.rewards.factories import give_points


def balance(user) -> tuple[int, int]:
    wallet = Wallet.objects.filter(user=user).first()
    return (wallet.balance, wallet.lifetime) if wallet else (0, 0)


@pytest.mark.django_db
def test_voting_credits_the_polls_points_once():
    poll = three_question_poll(points=20)
    resident = UserFactory()
    vote(poll, resident)
    entry = LedgerEntry.objects.get(user=resident)
    assert (entry.amount, entry.reason, entry.source) == (20, Reason.VOTE, f"poll:{poll.pk}")
    assert balance(resident) == (20, 20)
    assert not points_award(
        user_id=resident.pk, amount=20, award=Award(Reason.VOTE, key=f"vote:{poll.pk}")
    )
    assert balance(resident) == (20, 20)


@pytest.mark.django_db
def test_completing_the_profile_credits_points_once():
    resident = UserFactory(gender="", birth_year=None)
    changes = ProfileChanges(resident.home_building, "", 1990, "male", "ru")
    profile_update(user=resident, changes=changes)
    profile_update(user=resident, changes=changes)
    assert balance(resident) == (POINTS_PROFILE_COMPLETED, POINTS_PROFILE_COMPLETED)
    assert LedgerEntry.objects.get(user=resident).reason == Reason.PROFILE_COMPLETED


@pytest.mark.django_db
def test_an_incomplete_profile_earns_nothing():
    resident = UserFactory(gender="")
    profile_update(
        user=resident, changes=ProfileChanges(resident.home_building, "", 1990, "", "ru")
    )
    assert balance(resident) == (0, 0)


@pytest.mark.django_db
def test_adjustments_need_a_reason_and_can_be_negative_but_never_below_zero():
    resident = UserFactory()
    give_points(resident, 100)
    with pytest.raises(RewardsError, match="needs a reason"):
        points_adjust(user_id=resident.pk, amount=5, comment=" ", key="a1")
    assert points_adjust(user_id=resident.pk, amount=-30, comment="Ошибка начисления", key="a2")
    assert balance(resident) == (70, 70)
    with pytest.raises(RewardsError):
        points_adjust(user_id=resident.pk, amount=-71, comment="Слишком много", key="a3")
    assert balance(resident) == (70, 70)
    assert LedgerEntry.objects.filter(user=resident).count() == 2  # nothing half-written


@pytest.mark.parametrize(
    "statement",
    ["UPDATE rewards_ledgerentry SET amount = 1000", "DELETE FROM rewards_ledgerentry"],
)
@pytest.mark.django_db
def test_the_database_refuses_to_change_or_delete_ledger_entries(statement):
    give_points(UserFactory(), 10)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert LedgerEntry.objects.get().amount == 10


@pytest.mark.django_db
def test_the_wallet_check_constraint_refuses_a_negative_balance():
    resident = UserFactory()
    give_points(resident, 5)
    with pytest.raises(DatabaseError), transaction.atomic():
        Wallet.objects.filter(user=resident).update(balance=-1)


@pytest.mark.django_db
def test_rewards_audit_passes_and_catches_a_tampered_wallet():
    residents = UserFactory.create_batch(3)
    for resident in residents:
        give_points(resident, 40)
    out = StringIO()
    call_command("rewards_audit", stdout=out)
    assert "All wallets equal" in out.getvalue()
    Wallet.objects.filter(user=residents[1]).update(balance=39)
    err = StringIO()
    with pytest.raises(CommandError, match="1 wallets differ"):
        call_command("rewards_audit", stdout=StringIO(), stderr=err)
    assert f"user {residents[1].pk}: wallet balance 39 != ledger 40" in err.getvalue()


@pytest.mark.django_db
def test_monthly_mark_of_activity_goes_to_residents_who_voted_in_every_poll_open_to_them():
    """November: a citywide poll and a district poll. Whoever voted in all that were open to
    them gets the mark once, however often the task runs; a missed poll means no mark."""
    with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 11, 10)), tick=False):
        home = BuildingFactory()
        city = three_question_poll()
        district = three_question_poll(scope=Scope.AREAS, districts=[home.district])
        diligent, lazy, elsewhere = (
            UserFactory(home_building=home),
            UserFactory(home_building=home),
            UserFactory(),
        )
        for poll in (city, district):
            vote(poll, diligent)
        vote(city, lazy)
        vote(city, elsewhere)  # the district poll was not open to them
    assert award_monthly_activity(2026, 11) == 2
    assert award_monthly_activity(2026, 11) == 2
    marks = Achievement.objects.filter(period="2026-11")
    assert sorted(marks.values_list("user_id", flat=True)) == sorted([diligent.pk, elsewhere.pk])
    assert award_monthly_activity(2026, 10) == 0
