"""Races proven with real threads, each on its own database connection."""

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, transaction

from novelties.models import STAR_COUNT_SHARDS, Rating, StarCount
from novelties.selectors import rating_stats
from novelties.services import RatingRefused, novelty_rate, ratings_exclude
from rewards.models import LedgerEntry, Wallet
from tests.accounts.factories import UserFactory
from tests.novelties.factories import (
    NoveltyFactory,
    RatingFactory,
    counts_kept,
    counts_of_ratings,
)
from tests.threads import run_at_once


def rate(user, novelty, stars: int) -> Callable[[], str]:
    def task() -> str:
        try:
            saved = novelty_rate(user=user, novelty=novelty, stars=stars)
        except RatingRefused as refused:
            return refused.refusal.code
        return "created" if saved.created else "changed"

    return task


@pytest.mark.django_db(transaction=True)
def test_the_same_resident_rating_ten_times_at_once_has_one_rating_and_one_award():
    """Ten simultaneous ratings by one resident: one row (one created, nine changes), the
    last writer's stars, and the points credited once."""
    resident, novelty = UserFactory(), NoveltyFactory()
    outcomes = run_at_once([rate(resident, novelty, stars) for stars in [1, 2, 3, 4, 5] * 2])
    assert sorted(outcomes) == ["changed"] * 9 + ["created"]
    assert Rating.objects.filter(novelty=novelty, user=resident).count() == 1
    assert LedgerEntry.objects.filter(user=resident).count() == 1
    assert Wallet.objects.get(user=resident).balance == 3


@pytest.mark.django_db(transaction=True)
def test_averages_stay_exact_when_many_residents_rate_at_once():
    """Twenty residents rating the same novelty at once do not wait for a shared row and no
    rating is lost: the count, the distribution and the average are exact."""
    novelty = NoveltyFactory()
    residents = UserFactory.create_batch(20)
    stars = [(index % 5) + 1 for index in range(20)]  # four of each
    outcomes = run_at_once(
        [rate(resident, novelty, n) for resident, n in zip(residents, stars, strict=True)]
    )
    assert outcomes == ["created"] * 20
    stats = rating_stats(novelty_ids=[novelty.pk])[novelty.pk]
    assert (stats.count, stats.counts, stats.average) == (20, (4, 4, 4, 4, 4), 3.0)
    assert counts_kept() == counts_of_ratings()


@pytest.mark.django_db(transaction=True)
def test_simultaneous_changes_in_both_directions_keep_the_counts_exact():
    """Forty residents change their ratings at once, half from 1 to 5 stars and half from 5
    to 1, while ten more rate for the first time: no deadlock on the shared counts (each
    change locks its counts in the order of stars), and the counts equal a recount."""
    novelty = NoveltyFactory()
    low, high = UserFactory.create_batch(20), UserFactory.create_batch(20)
    for resident in low:
        novelty_rate(user=resident, novelty=novelty, stars=1)
    for resident in high:
        novelty_rate(user=resident, novelty=novelty, stars=5)
    newcomers = UserFactory.create_batch(10)
    outcomes = run_at_once(
        [rate(resident, novelty, 5) for resident in low]
        + [rate(resident, novelty, 1) for resident in high]
        + [rate(resident, novelty, 3) for resident in newcomers]
    )
    assert sorted(outcomes) == ["changed"] * 40 + ["created"] * 10
    assert rating_stats(novelty_ids=[novelty.pk])[novelty.pk].counts == (20, 0, 10, 0, 20)
    assert counts_kept() == counts_of_ratings()


@pytest.mark.django_db(transaction=True)
def test_the_daily_limit_holds_under_simultaneous_ratings(settings):
    """With a limit of 3, six simultaneous ratings of six novelties by one resident: exactly
    three are saved, three are refused with the daily limit (the resident's row is locked
    while counting)."""
    settings.NOVELTY_RATINGS_PER_DAY = 3
    resident = UserFactory()
    novelties = NoveltyFactory.create_batch(6)
    outcomes = run_at_once([rate(resident, novelty, 4) for novelty in novelties])
    assert sorted(outcomes) == ["created"] * 3 + ["daily_limit"] * 3
    assert Rating.objects.filter(user=resident).count() == 3


def _wait_for_a_lock_wait() -> None:
    """Until another connection waits for a row lock (at most 10 s)."""
    with connection.cursor() as cursor:
        for _attempt in range(200):
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError("the exclusion never waited for the resident's rating")


def _same_shard_ratings(novelty, stars: list[int]) -> list[Rating]:
    """Ratings of ``novelty`` with these stars, created in this order, all in one shard."""
    ratings = [RatingFactory(novelty=novelty, stars=stars[0])]
    shard = ratings[0].pk % STAR_COUNT_SHARDS
    for n in stars[1:]:
        rating = RatingFactory(novelty=novelty, stars=n)
        while rating.pk % STAR_COUNT_SHARDS != shard:
            rating = RatingFactory(novelty=novelty, stars=n)
        ratings.append(rating)
    return ratings


@pytest.mark.django_db(transaction=True)
def test_excluding_ratings_while_a_resident_changes_stars_does_not_deadlock():
    """An admin excludes a 5-star and a 3-star rating of one shard while a resident changes
    their rating in that shard from 5 to 3 stars. The resident's trigger takes the 3-star
    count, then the 5-star one; the exclusion's trigger alone would take them the other way
    round (in the order of its rows) and deadlock. It locks them in the same order first,
    so it waits for the resident; both finish and the counts stay exact."""
    novelty = NoveltyFactory()
    five, three, residents = _same_shard_ratings(novelty, [5, 3, 5])
    admin = UserFactory(is_staff=True)
    outcomes = []

    def exclude():
        try:
            ids = [five.pk, three.pk]
            outcomes.append(ratings_exclude(rating_ids=ids, by=admin, reason="накрутка"))
        except Exception as error:  # noqa: BLE001 - a deadlock is the outcome under test
            outcomes.append(type(error).__name__)
        finally:
            connection.close()

    with transaction.atomic():  # the resident's change, its trigger half-way: 3 stars taken
        StarCount.objects.select_for_update().get(
            novelty=novelty, stars=3, shard=three.pk % STAR_COUNT_SHARDS
        )
        worker = threading.Thread(target=exclude)
        worker.start()
        _wait_for_a_lock_wait()
        Rating.objects.filter(pk=residents.pk).update(stars=3)
    worker.join()
    assert outcomes == [2]
    assert counts_kept() == counts_of_ratings()
