"""Suspended accounts: no votes (page and API), no points earned or spent, notified; and a
suspension racing a vote or a redemption never lets either through after it."""

import threading
import time

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.groups import CITY_ADMINS
from accounts.models import Notification, NotificationKind, User
from accounts.rules import AccountSuspended, suspension_check
from accounts.selectors import resident_with_home
from accounts.services import (
    ProfileChanges,
    SuspensionError,
    account_reinstate,
    account_suspend,
    profile_update,
)
from polls.models import Ballot, Participation
from polls.selectors import poll_with_questions
from polls.services import VoteRefused, ballot_cast
from polls.validation import AnswerInput
from rewards.models import Achievement, LedgerEntry, Reason, Redemption, Wallet
from rewards.services import (
    AccountFrozen,
    Award,
    achievements_award_monthly_activity,
    points_adjust,
    points_award,
    reward_redeem,
)
from tests.accounts.factories import UserFactory
from tests.polls.factories import three_question_poll
from tests.rewards.factories import RewardFactory, give_points

SHOP_LEVEL = 1000


def answers(poll) -> list[AnswerInput]:
    single, multiple, scale = poll.questions.all()
    return [
        AnswerInput(question=single.pk, options=(single.options.first().pk,)),
        AnswerInput(question=multiple.pk, options=(multiple.options.first().pk,)),
        AnswerInput(question=scale.pk, value=3),
    ]


def form_data(poll) -> dict:
    single, multiple, scale = poll.questions.all()
    return {
        f"q{single.pk}": str(single.options.first().pk),
        f"q{multiple.pk}": [str(multiple.options.first().pk)],
        f"q{scale.pk}": "3",
    }


def cast(user, poll):
    return ballot_cast(
        user=resident_with_home(user_id=user.pk),
        poll=poll_with_questions(poll_id=poll.pk),
        answers=answers(poll),
    )


@pytest.fixture
def admin(city_groups):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=CITY_ADMINS))
    return user


def suspend(user, admin, reason="Одна из 40 учётных записей с одного адреса за час"):
    return account_suspend(user_ids=[user.pk], reason=reason, by=admin)


# --- the service ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_suspension_records_who_when_why_and_notifies_the_resident(admin):
    resident = UserFactory(language="en")
    assert suspend(resident, admin) == [resident.pk]
    resident.refresh_from_db()
    assert resident.suspended_at is not None and resident.suspended_by == admin
    assert resident.suspension_reason.startswith("Одна из 40")
    notice = Notification.objects.get(user=resident)
    assert notice.kind == NotificationKind.ACCOUNT_SUSPENDED
    assert notice.params == {"reason": resident.suspension_reason}
    with pytest.raises(AccountSuspended):
        suspension_check(user=resident)

    assert suspend(resident, admin, "again") == []  # the first suspension stands
    resident.refresh_from_db()
    assert resident.suspension_reason.startswith("Одна из 40")

    assert account_reinstate(user_ids=[resident.pk], by=admin) == [resident.pk]
    resident.refresh_from_db()
    assert (resident.suspended_at, resident.suspension_reason, resident.suspended_by) == (
        None,
        "",
        None,
    )
    suspension_check(user=resident)
    assert Notification.objects.filter(
        user=resident, kind=NotificationKind.ACCOUNT_REINSTATED
    ).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_a_suspension_needs_a_reason_of_at_most_500_characters(admin, reason):
    resident = UserFactory()
    with pytest.raises(SuspensionError):
        suspend(resident, admin, reason)
    resident.refresh_from_db()
    assert resident.suspended_at is None


@pytest.mark.django_db
def test_staff_accounts_are_not_suspended(admin):
    resident, colleague = UserFactory(), UserFactory(is_staff=True)
    with pytest.raises(SuspensionError, match=colleague.email):
        account_suspend(user_ids=[resident.pk, colleague.pk], reason="farm", by=admin)
    assert not User.objects.filter(suspended_at__isnull=False).exists()  # all or nothing


# --- votes --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_suspended_account_cannot_vote_and_nothing_is_written(admin):
    resident, poll = UserFactory(), three_question_poll()
    suspend(resident, admin)
    with pytest.raises(VoteRefused) as refused:
        cast(resident, poll)
    assert refused.value.refusal.code == "account_suspended"
    assert not Participation.objects.exists() and not Ballot.objects.exists()
    assert not LedgerEntry.objects.filter(user=resident).exists()


@pytest.mark.django_db
def test_the_poll_page_refuses_a_suspended_account_with_a_403_and_says_why(client, admin):
    resident, poll = UserFactory(language="en"), three_question_poll()
    suspend(resident, admin)
    client.force_login(resident)
    page = client.get(reverse("poll_detail", args=[poll.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert page.context["refusal"].code == "account_suspended"
    response = client.post(reverse("poll_detail", args=[poll.pk]), form_data(poll))
    assert response.status_code == 403
    assert "Your account is suspended" in response.content.decode()
    assert not Participation.objects.exists()


@pytest.mark.django_db
def test_the_api_refuses_a_suspended_account_with_a_403_and_a_code(admin):
    resident, poll = UserFactory(language="en"), three_question_poll()
    suspend(resident, admin)
    api = APIClient()
    api.credentials(HTTP_ACCEPT_LANGUAGE="en")
    api.force_authenticate(resident)
    single, multiple, scale = poll.questions.all()
    body = {
        "answers": [
            {"question": single.pk, "options": [single.options.first().pk]},
            {"question": multiple.pk, "options": [multiple.options.first().pk]},
            {"question": scale.pk, "value": 3},
        ]
    }
    response = api.post(f"/api/polls/{poll.pk}/vote/", body, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "account_suspended"
    assert "suspended" in response.json()["detail"]
    assert not Participation.objects.exists()


@pytest.mark.django_db
def test_a_reinstated_account_votes_again(admin):
    resident, poll = UserFactory(), three_question_poll()
    suspend(resident, admin)
    account_reinstate(user_ids=[resident.pk], by=admin)
    assert cast(resident, poll).points == poll.points


# --- points: frozen -------------------------------------------------------------------------


@pytest.mark.django_db
def test_awards_to_a_suspended_account_are_refused_not_held(admin):
    """Awards are refused (nothing is paid later); the city's adjustments still apply."""
    resident = UserFactory(birth_year=None, gender="")
    give_points(resident, 100)
    suspend(resident, admin)
    award = Award(Reason.PROFILE_COMPLETED, key="profile_completed")
    assert points_award(user_id=resident.pk, amount=50, award=award) is False
    profile_update(
        user=resident,
        changes=ProfileChanges(
            home_building=resident.home_building,
            apartment="",
            birth_year=1980,
            gender="male",
            language="ru",
        ),
    )  # completing the profile is allowed; its points are not
    assert not LedgerEntry.objects.filter(user=resident, reason=Reason.PROFILE_COMPLETED).exists()
    assert points_adjust(user_id=resident.pk, amount=-100, comment="farmed", key="claw-back")
    assert Wallet.objects.get(user=resident).balance == 0

    account_reinstate(user_ids=[resident.pk], by=admin)
    assert points_award(user_id=resident.pk, amount=50, award=award) is True


@pytest.mark.django_db
def test_a_suspended_inviter_gets_no_bonus_but_the_invitee_votes_and_earns(admin):
    inviter = UserFactory()
    invitee = UserFactory(invited_by=inviter)
    suspend(inviter, admin)
    poll = three_question_poll()
    cast(invitee, poll)
    assert not LedgerEntry.objects.filter(user=inviter).exists()
    assert set(LedgerEntry.objects.filter(user=invitee).values_list("reason", flat=True)) == {
        Reason.VOTE,
        Reason.INVITE,
    }


@pytest.mark.django_db
def test_a_suspended_account_gets_no_monthly_mark_of_activity(admin):
    poll = three_question_poll()
    active, suspended = UserFactory(), UserFactory()
    cast(active, poll)
    cast(suspended, poll)
    suspend(suspended, admin)
    opened = poll.opens_at
    achievements_award_monthly_activity(year=opened.year, month=opened.month)
    assert list(Achievement.objects.values_list("user_id", flat=True)) == [active.pk]


@pytest.fixture
def shopper(city_groups, admin):
    """A suspended resident with enough points to shop (before the suspension)."""
    resident = UserFactory(language="en")
    give_points(resident, SHOP_LEVEL)
    suspend(resident, admin)
    return resident


@pytest.mark.django_db
def test_a_suspended_account_cannot_redeem(shopper):
    reward = RewardFactory(stock=3)
    with pytest.raises(AccountFrozen) as refused:
        reward_redeem(user=shopper, reward_id=reward.pk)
    assert refused.value.status == 403
    reward.refresh_from_db()
    assert reward.stock == 3 and not Redemption.objects.exists()
    assert Wallet.objects.get(user=shopper).balance == SHOP_LEVEL


@pytest.mark.django_db
def test_redeeming_refused_on_the_page_and_in_the_api_with_a_403(client, shopper):
    reward = RewardFactory()
    client.force_login(shopper)
    page = client.post(reverse("reward_redeem", args=[reward.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 403
    assert "Your account is suspended" in page.content.decode()
    api = APIClient()
    api.credentials(HTTP_ACCEPT_LANGUAGE="en")
    api.force_authenticate(shopper)
    response = api.post(reverse("api_redeem", args=[reward.pk]))
    assert (response.status_code, response.json()["code"]) == (403, "account_suspended")
    assert not Redemption.objects.exists()


# --- races ---------------------------------------------------------------------------------


def run_together(*actions) -> list:
    """Run the actions at the same moment on their own connections; their results or the
    exceptions they raised, in order."""
    barrier = threading.Barrier(len(actions))
    outcomes: list = [None] * len(actions)

    def run(index, action):
        try:
            barrier.wait(timeout=30)
            outcomes[index] = action()
        except Exception as error:  # noqa: BLE001 - the outcome is what the test checks
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def later(seconds: float, action):
    def delayed():
        time.sleep(seconds)  # staggers the start, so the race falls either way
        return action()

    return delayed


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("delay", [0, 0, 0.005, 0.01, 0.02, 0.05])
def test_a_suspension_and_a_vote_at_the_same_moment(delay):
    """Either the vote commits first (and the suspension waits for it) or it is refused:
    never a vote from an account that was suspended before its participation was written,
    even though the voter's row was read before the suspension."""
    admin = UserFactory(is_staff=True)
    resident, poll = UserFactory(), three_question_poll()
    voter = resident_with_home(user_id=resident.pk)  # loaded before the suspension
    full_poll = poll_with_questions(poll_id=poll.pk)
    vote, suspended = run_together(
        lambda: ballot_cast(user=voter, poll=full_poll, answers=answers(poll)),
        later(delay, lambda: suspend(resident, admin)),
    )
    assert suspended == [resident.pk]
    resident.refresh_from_db()
    participation = Participation.objects.filter(user=resident).first()
    if isinstance(vote, VoteRefused):
        assert vote.refusal.code == "account_suspended"
        assert participation is None and not Ballot.objects.exists()
    else:
        assert participation.voted_at < resident.suspended_at
        assert Ballot.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("delay", [0, 0, 0.005, 0.01, 0.02])
def test_a_suspension_and_a_redemption_at_the_same_moment(delay):
    """A redemption either commits before the suspension or is refused."""
    admin = UserFactory(is_staff=True)
    resident = UserFactory()
    give_points(resident, 200)
    reward = RewardFactory(cost=100)
    stale = User.objects.get(pk=resident.pk)  # the request's user, read before
    redeemed, suspended = run_together(
        lambda: reward_redeem(user=stale, reward_id=reward.pk),
        later(delay, lambda: suspend(resident, admin)),
    )
    assert suspended == [resident.pk]
    resident.refresh_from_db()
    if isinstance(redeemed, AccountFrozen):
        assert not Redemption.objects.exists()
        assert Wallet.objects.get(user=resident).balance == 200
    else:
        assert isinstance(redeemed, Redemption), redeemed
        assert Redemption.objects.get().created_at < resident.suspended_at
