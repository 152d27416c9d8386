from datetime import date, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from accounts.selectors import resident_with_home
from novelties.models import Category
from novelties.selectors import (
    Nearness,
    novelties_near,
    novelty_ranking,
    rating_bursts,
    rating_cohorts,
)
from novelties.services import ratings_exclude
from tests.accounts.factories import UserFactory
from tests.civic.factories import BuildingFactory, DistrictFactory
from tests.novelties.factories import NoveltyFactory, RatingFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 18)


def test_novelties_near_me_come_district_first_then_okrug_then_city():
    """Within each group the newest come first; drafts are never listed. Anonymous
    visitors and residents without an address get the city list, newest first."""
    home = BuildingFactory()
    district = home.district
    same_okrug = DistrictFactory(okrug=district.okrug)
    elsewhere = DistrictFactory()
    day = timezone.localdate()
    old_here = NoveltyFactory(
        okrug=district.okrug, district=district, happened_on=day - timedelta(9)
    )
    new_here = NoveltyFactory(
        okrug=district.okrug, district=district, building=home, happened_on=day - timedelta(3)
    )
    okrug_wide = NoveltyFactory(okrug=district.okrug, happened_on=day - timedelta(8))
    next_door = NoveltyFactory(okrug=same_okrug.okrug, district=same_okrug, happened_on=day)
    citywide = NoveltyFactory(happened_on=day - timedelta(1))
    far = NoveltyFactory(okrug=elsewhere.okrug, district=elsewhere, happened_on=day - timedelta(2))
    NoveltyFactory(published_at=None, district=district, okrug=district.okrug)

    resident = resident_with_home(user_id=UserFactory(home_building=home).pk)
    listed = list(novelties_near(user=resident))
    assert listed == [new_here, old_here, next_door, okrug_wide, citywide, far]
    assert [n.nearness for n in listed] == [Nearness.DISTRICT] * 2 + [Nearness.OKRUG] * 2 + [
        Nearness.CITY
    ] * 2

    by_date = [next_door, citywide, far, new_here, okrug_wide, old_here]
    assert list(novelties_near(user=AnonymousUser())) == by_date
    homeless = UserFactory(home_building=None)
    assert list(novelties_near(user=homeless)) == by_date


def ranked(items) -> list[str]:
    return [item.novelty.title for item in items]


def test_the_ranking_orders_the_months_novelties_by_counted_average():
    """Best: highest average first (more ratings break a tie); worst: lowest first, never
    repeating the best; novelties with too few ratings, of another month, or drafts are
    not ranked; excluded ratings do not count."""
    admin = UserFactory(is_staff=True)
    march = TODAY
    averages = {"A": [5, 5, 4], "B": [5, 4, 4], "C": [3, 3, 3], "D": [1, 2, 1], "E": [2, 2, 2]}
    novelties = {}
    for title, stars in averages.items():
        novelties[title] = NoveltyFactory(title=title, happened_on=march)
        for n in stars:
            RatingFactory(novelty=novelties[title], stars=n)
    tied = NoveltyFactory(title="B2", happened_on=march)
    for n in [5, 4, 4, 5, 4, 4]:  # the same average as B, more ratings
        RatingFactory(novelty=tied, stars=n)
    RatingFactory.create_batch(2, novelty=NoveltyFactory(title="few", happened_on=march), stars=5)
    RatingFactory.create_batch(
        3, novelty=NoveltyFactory(title="Feb", happened_on=date(2026, 2, 28))
    )
    RatingFactory.create_batch(3, novelty=NoveltyFactory(title="draft", published_at=None))

    ranking = novelty_ranking(month=march, min_ratings=3, size=3)
    assert ranking.month == date(2026, 3, 1)
    assert ranked(ranking.best) == ["A", "B2", "B"]
    assert ranked(ranking.worst) == ["D", "E", "C"]
    assert ranking.unranked == 1
    assert ranking.best[0].stats.average == 4.67

    # Excluding A's two fives drops it below the minimum number of ratings.
    ratings_exclude(
        rating_ids=list(novelties["A"].ratings.filter(stars=5).values_list("pk", flat=True)),
        by=admin,
        reason="накрутка",
    )
    ranking = novelty_ranking(month=march, min_ratings=3, size=3)
    assert ranked(ranking.best) == ["B2", "B", "C"]
    assert ranking.unranked == 2


@pytest.mark.parametrize(
    ("averages", "best", "worst"),
    [
        ([5], ["5"], []),
        ([5, 1.5], ["5"], ["1.5"]),
        ([5, 4, 1.5], ["5", "4"], ["1.5"]),
        ([5, 4, 3, 2, 1.5, 1], ["5", "4", "3"], ["1", "1.5", "2"]),
    ],
)
def test_a_month_of_few_ranked_novelties_splits_them_in_half(averages, best, worst):
    """Fewer than 2 * size ranked: the top half is the best, the bottom half the worst,
    lowest first, with no novelty in both."""
    for average in averages:
        novelty = NoveltyFactory(title=str(average), happened_on=TODAY)
        stars = [1, 2] if average == 1.5 else [int(average)] * 2
        for n in stars:
            RatingFactory(novelty=novelty, stars=n)
    ranking = novelty_ranking(month=TODAY, size=5)
    assert (ranked(ranking.best), ranked(ranking.worst)) == (best, worst)


def test_the_ranking_filters_by_category_and_okrug():
    district = DistrictFactory()
    park = NoveltyFactory(title="park", category=Category.PARKS, happened_on=TODAY)
    local = NoveltyFactory(
        title="clinic",
        category=Category.HEALTH,
        okrug=district.okrug,
        district=district,
        happened_on=TODAY,
    )
    for novelty in (park, local):
        RatingFactory(novelty=novelty, stars=4)
    assert ranked(novelty_ranking(month=TODAY, category=Category.PARKS).best) == ["park"]
    assert ranked(novelty_ranking(month=TODAY, okrug_id=district.okrug_id).best) == ["clinic"]
    assert (
        novelty_ranking(month=TODAY, category=Category.PARKS, okrug_id=district.okrug_id).best == []
    )


def test_a_ranking_of_many_novelties_costs_two_queries(django_assert_num_queries):
    for index in range(30):
        RatingFactory.create_batch(
            3, novelty=NoveltyFactory(happened_on=TODAY), stars=index % 5 + 1
        )
    with django_assert_num_queries(2):
        ranking = novelty_ranking(month=TODAY, min_ratings=3, size=10)
    assert len(ranking.best) == len(ranking.worst) == 10


def test_the_report_finds_bursts_of_ratings_by_one_account():
    """Ten ratings within ten minutes are a burst; nine, or ten spread over an hour, are not."""
    start = timezone.now() - timedelta(hours=3)
    farmer, slow, busy_but_few = UserFactory(), UserFactory(), UserFactory()
    for index in range(12):
        RatingFactory(user=farmer, created_at=start + timedelta(seconds=40 * index))
    for index in range(10):
        RatingFactory(user=slow, created_at=start + timedelta(minutes=7 * index))
    for index in range(9):
        RatingFactory(user=busy_but_few, created_at=start + timedelta(seconds=10 * index))
    RatingFactory(user=farmer, created_at=start + timedelta(hours=2))  # outside the burst

    bursts = rating_bursts(
        since=start - timedelta(days=1), window=timedelta(minutes=10), min_ratings=10
    )
    assert [(burst.user_id, burst.size) for burst in bursts] == [(farmer.pk, 12)]
    assert len(bursts[0].rating_ids) == 12
    assert (bursts[0].start, bursts[0].end) == (start, start + timedelta(seconds=40 * 11))
    assert (
        rating_bursts(
            since=start + timedelta(hours=1), window=timedelta(minutes=10), min_ratings=10
        )
        == []
    )


def test_the_report_finds_accounts_created_in_the_same_hour_rating_the_same_novelty():
    hour = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(days=2)
    novelty = NoveltyFactory()
    cohort = [UserFactory(date_joined=hour + timedelta(minutes=m)) for m in (1, 15, 30, 44, 59)]
    for user in cohort:
        RatingFactory(novelty=novelty, user=user, stars=5)
    RatingFactory(novelty=novelty, user=UserFactory(date_joined=hour - timedelta(minutes=1)))
    for user in cohort[:4]:  # four of them on another novelty: below the threshold
        RatingFactory(user=user)
    RatingFactory(novelty=novelty, stars=1)  # an honest, older account

    since = timezone.now() - timedelta(days=30)
    cohorts = rating_cohorts(since=since, new_for=timedelta(days=7), min_accounts=5)
    assert len(cohorts) == 1
    found = cohorts[0]
    assert (found.novelty_id, found.accounts, found.average) == (novelty.pk, 5, 5.0)
    assert found.joined_hour == hour
    assert sorted(found.rating_ids) == sorted(
        novelty.ratings.filter(user__in=cohort).values_list("pk", flat=True)
    )
    assert found.excluded == 0
    # Ratings given more than a day after sign-up are no sign of a throwaway account.
    assert rating_cohorts(since=since, new_for=timedelta(days=1), min_accounts=5) == []
