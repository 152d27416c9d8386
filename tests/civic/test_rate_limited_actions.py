"""Voting, redeeming and residency codes are rate limited: the page and the API count on one
counter per resident, answer 429 with the same message and Retry-After, and a refused
request writes nothing."""

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import CodeAttempt
from polls.models import Ballot, Participation
from rewards.models import LedgerEntry, Redemption, Reward, Wallet
from tests.accounts.factories import UserFactory
from tests.polls.factories import three_question_poll
from tests.polls.test_api import answers
from tests.polls.test_pages import form_data
from tests.rewards.factories import RewardFactory, give_points
from tests.threads import run_at_once

pytestmark = pytest.mark.django_db
WAIT = "Too many requests. Try again in 40 seconds."


@pytest.fixture(autouse=True)
def frozen():
    """20 seconds into a minute, so a "n/m" window has 40 seconds left."""
    with time_machine.travel("2030-03-01 09:00:20Z", tick=False):
        yield


@pytest.fixture
def resident(client, settings):
    user = UserFactory(language="en")
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return user


@pytest.fixture
def api(resident):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(resident)
    return client


def assert_429_page(response):
    assert response.status_code == 429
    assert response["Retry-After"] == "40"
    assert [t.name for t in response.templates][:2] == ["429.html", "base.html"]
    assert WAIT in response.content.decode()


def assert_429_json(response):
    assert response.status_code == 429
    assert response["Retry-After"] == "40"
    assert response.json() == {"code": "throttled", "detail": WAIT}


def test_votes_on_the_page_and_the_api_share_one_limit(client, api, resident, settings):
    """With "2/m", a vote on the page and one through the API use it up; the third, on
    either, is a 429 saying when to try again, and no participation, ballot or points."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "vote": "2/m"}
    first, second, third = (three_question_poll(points=10) for _ in range(3))
    assert client.post(reverse("poll_detail", args=[first.pk]), form_data(first)).status_code == 201
    voted = api.post(f"/api/polls/{second.pk}/vote/", {"answers": []}, format="json")
    assert voted.status_code == 400  # counted even when the ballot is refused
    assert_429_page(client.post(reverse("poll_detail", args=[third.pk]), form_data(third)))
    assert_429_json(api.post(f"/api/polls/{third.pk}/vote/", {"answers": []}, format="json"))
    assert not Participation.objects.filter(poll__in=[second, third]).exists()
    assert not Ballot.objects.filter(poll__in=[second, third]).exists()
    assert Wallet.objects.get(user=resident).balance == 10
    # Reading a poll is not voting.
    assert client.get(reverse("poll_detail", args=[third.pk])).status_code == 200


def test_redeeming_on_the_page_and_the_api_share_one_limit(client, api, resident, settings):
    """With "1/m", one redemption on the page uses it up; the API's is a 429, and the
    reward's stock, the balance and the redemptions stay as they were."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "redeem": "1/m"}
    give_points(resident, 1000)
    first, second = RewardFactory(cost=100, stock=5), RewardFactory(cost=100, stock=5)
    assert client.post(reverse("reward_redeem", args=[first.pk])).status_code == 302
    assert_429_json(api.post(f"/api/rewards/{second.pk}/redeem/"))
    assert_429_page(client.post(reverse("reward_redeem", args=[second.pk])))
    assert Reward.objects.get(pk=second.pk).stock == 5
    assert Wallet.objects.get(user=resident).balance == 900
    assert list(Redemption.objects.values_list("reward", flat=True)) == [first.pk]
    assert LedgerEntry.objects.filter(user=resident).count() == 2


def test_residency_code_tries_on_the_page_and_the_api_share_one_limit(
    client, api, resident, settings
):
    """Besides the wrong codes per hour, tries themselves are limited ("2/m" here): the
    third try is a 429 and leaves no logged attempt."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "residency_code": "2/m"}
    settings.RESIDENCY_CODE_TRIES_PER_HOUR = 10
    wrong = {"code": "ZZZZZZZZZZ"}
    assert client.post(reverse("residency_verify"), wrong).status_code == 400
    assert api.post("/api/me/residency/verify/", wrong, format="json").status_code == 400
    assert_429_page(client.post(reverse("residency_verify"), wrong))
    assert_429_json(api.post("/api/me/residency/verify/", wrong, format="json"))
    assert CodeAttempt.objects.filter(user=resident).count() == 2


def test_the_limit_is_per_resident(client, resident, settings):
    """Another resident's votes do not use up this one's."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "vote": "1/m"}
    first, second = three_question_poll(), three_question_poll()
    assert client.post(reverse("poll_detail", args=[first.pk]), form_data(first)).status_code == 201
    client.force_login(UserFactory(language="en"))
    assert client.post(reverse("poll_detail", args=[first.pk]), form_data(first)).status_code == 201
    assert (
        client.post(reverse("poll_detail", args=[second.pk]), form_data(second)).status_code == 429
    )


def test_the_429_page_speaks_russian_by_default(db, settings):
    """The message is translated: the site's default language is Russian."""
    from django.test import Client

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "vote": "0/m"}
    client = Client()
    client.force_login(UserFactory())
    poll = three_question_poll()
    response = client.post(reverse("poll_detail", args=[poll.pk]), form_data(poll))
    assert response.status_code == 429
    assert "Слишком много запросов. Попробуйте снова через 40 секунд." in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_parallel_votes_through_the_api_cannot_overrun_the_limit(settings):
    """Ten votes of one resident in ten polls at once, with "3/m": exactly three are
    recorded, seven are 429 and leave nothing behind."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "vote": "3/m"}
    resident = UserFactory()
    polls = [three_question_poll() for _ in range(10)]

    def vote(poll):
        client = APIClient()
        client.force_authenticate(resident)
        return client.post(f"/api/polls/{poll.pk}/vote/", answers(poll), format="json").status_code

    statuses = run_at_once([lambda poll=poll: vote(poll) for poll in polls])
    assert sorted(statuses) == [201] * 3 + [429] * 7
    assert Participation.objects.filter(user=resident).count() == 3
    assert Ballot.objects.count() == 3
