"""Reads of city novelties shared by the pages, the API and the admin's report.

Why counts are kept, and kept by the database
---------------------------------------------
Averages, distributions and the ranking need, per novelty, how many counted ratings gave
each number of stars. Counting the ratings on every read is exact but grows with them: an
index-only scan over 200,000 ratings (20 popular novelties of a list page) took 40 ms here,
and a novelty of a city of millions gets that many by itself. One counter row per novelty
would make reads cheap but would be a hot row: every resident rating a popular novelty
would wait for the one before them (DESIGN.md: never on a write path).

So ``StarCount`` keeps the counts per novelty, stars and shard (the rating's id modulo 16):
residents rating the same novelty at once change different rows (80 per novelty), and a
read sums at most 80 rows per novelty, whatever its number of ratings. A trigger on the
ratings (migration 0003) changes the counts in the same transaction as every insert,
change, exclusion, inclusion or deletion of a rating, so no code path can forget them and
they cannot drift; tests compare them with a recount after concurrent ratings. A page of
novelties, a novelty and a month's ranking each read them with one query. Measured on the
2-core development machine with 1,000,000 ratings of 100 novelties: 20 novelties' stats
7 ms (40 ms by counting their ratings), a month's ranking 25 ms (208 ms); a rating's write
with its count about 5 ms in its own transaction.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import (
    Avg,
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce, TruncHour
from django.utils import timezone

from accounts.models import User
from novelties.models import STARS, Novelty, Rating, StarCount
from novelties.rules import Refusal, rating_refusal, resident_refusal
from polls.selectors import percent


class Nearness:
    """How close a novelty is to the resident's home: the sections of the list."""

    DISTRICT = 0
    OKRUG = 1
    CITY = 2


@dataclass(frozen=True)
class StarShare:
    stars: int
    count: int
    percent: float


@dataclass(frozen=True)
class RatingStats:
    """The counted ratings of one novelty: how many gave 1, 2, ... 5 stars."""

    counts: tuple[int, ...] = (0, 0, 0, 0, 0)

    @property
    def count(self) -> int:
        return sum(self.counts)

    @property
    def average(self) -> float | None:
        total = self.count
        if not total:
            return None
        return round(sum(stars * n for stars, n in zip(STARS, self.counts, strict=True)) / total, 2)

    @property
    def shares(self) -> list[StarShare]:
        """From 5 stars down to 1, as the bars are drawn."""
        total = self.count
        return [
            StarShare(stars, n, percent(n, total))
            for stars, n in reversed(list(zip(STARS, self.counts, strict=True)))
        ]


def rating_stats(*, novelty_ids: list[int]) -> dict[int, RatingStats]:
    """Counted ratings of these novelties by stars; one query, whatever their number."""
    counts: dict[int, list[int]] = {pk: [0] * len(STARS) for pk in novelty_ids}
    rows = (
        StarCount.objects.filter(novelty_id__in=novelty_ids)
        .values_list("novelty_id", "stars")
        .annotate(n=Sum("count"))
        .order_by()
    )
    for novelty_id, stars, n in rows:
        counts[novelty_id][stars - 1] = n
    return {pk: RatingStats(tuple(values)) for pk, values in counts.items()}


def counted_ratings() -> Coalesce:
    """An annotation: the novelty's number of counted ratings, summed from its star counts
    (at most 80 rows, however many ratings it has)."""
    total = (
        StarCount.objects.filter(novelty=OuterRef("pk"))
        .values("novelty")
        .annotate(n=Sum("count"))
        .values("n")
    )
    return Coalesce(Subquery(total), 0)


# --- lists ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoveltyCard:
    """A novelty as a list shows it to one visitor."""

    novelty: Novelty
    stats: RatingStats
    my_rating: Rating | None
    nearness: int
    refusal: Refusal | None

    @property
    def can_rate(self) -> bool:
        return self.refusal is None

    @property
    def photo(self):
        photos = self.novelty.photos.all()
        return photos[0] if photos else None


def _with_place() -> QuerySet[Novelty]:
    return Novelty.objects.select_related("okrug", "district", "building")


def _published() -> QuerySet[Novelty]:
    return _with_place().filter(published_at__isnull=False)


def novelties_near(*, user) -> QuerySet[Novelty]:
    """Published novelties, those of the resident's district first, then of their okrug,
    then the rest of the city; newest first within each. Anonymous visitors and residents
    without an address get the city list, newest first. ``nearness`` is annotated."""
    building = getattr(user, "home_building", None) if user.is_authenticated else None
    if building is None:
        nearness = Value(Nearness.CITY)
    else:
        nearness = Case(
            When(district_id=building.district_id, then=Value(Nearness.DISTRICT)),
            When(okrug_id=building.district.okrug_id, then=Value(Nearness.OKRUG)),
            default=Value(Nearness.CITY),
            output_field=IntegerField(),
        )
    return _published().annotate(nearness=nearness).order_by("nearness", "-happened_on", "-pk")


@dataclass(frozen=True)
class NoveltyList:
    cards: list[NoveltyCard]
    refusal: Refusal | None  # why this visitor may rate none of them, if so


def novelty_cards(*, user, novelties: list[Novelty], now: datetime | None = None) -> NoveltyList:
    """Cards for a page of ``novelties`` (from ``novelties_near``): photos, counted ratings,
    the visitor's own ratings and whether they may rate. Four queries for any page size."""
    now = now or timezone.now()
    novelties = list(novelties)
    ids = [novelty.pk for novelty in novelties]
    prefetch_related_objects(novelties, "photos")
    stats = rating_stats(novelty_ids=ids)
    mine = _my_ratings(user=user, novelty_ids=ids)
    cards = [
        NoveltyCard(
            novelty=novelty,
            stats=stats[novelty.pk],
            my_rating=mine.get(novelty.pk),
            nearness=getattr(novelty, "nearness", Nearness.CITY),
            refusal=rating_refusal(user=user, novelty=novelty, now=now),
        )
        for novelty in novelties
    ]
    return NoveltyList(cards, resident_refusal(user=user))


def _my_ratings(*, user, novelty_ids: list[int]) -> dict[int, Rating]:
    if not user.is_authenticated:
        return {}
    ratings = Rating.objects.filter(user_id=user.pk, novelty_id__in=novelty_ids)
    return {rating.novelty_id: rating for rating in ratings}


# --- one novelty ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoveltyPage:
    novelty: Novelty
    stats: RatingStats
    my_rating: Rating | None
    refusal: Refusal | None
    comments: list[Rating]
    comment_count: int

    @property
    def can_rate(self) -> bool:
        return self.refusal is None


COMMENTS_SHOWN = 50


def visible_novelty(*, novelty_id: int, include_drafts: bool = False) -> Novelty | None:
    """A published novelty with its place and photos (a draft too with ``include_drafts``,
    for an admin's preview); None for unknown ids and, otherwise, drafts."""
    novelties = _with_place() if include_drafts else _published()
    return novelties.prefetch_related("photos").filter(pk=novelty_id).first()


def novelty_page(*, user, novelty: Novelty, now: datetime | None = None) -> NoveltyPage:
    """Everything the novelty page and the API's detail show, in four queries: counted
    ratings, the visitor's own rating, whether they may rate, and the latest comments of
    counted ratings (an excluded rating's comment is hidden with it)."""
    mine = _my_ratings(user=user, novelty_ids=[novelty.pk]).get(novelty.pk)
    comments = Rating.objects.filter(novelty=novelty, excluded_at__isnull=True).exclude(comment="")
    latest = list(comments.order_by("-updated_at", "-pk")[: COMMENTS_SHOWN + 1])
    return NoveltyPage(
        novelty=novelty,
        stats=rating_stats(novelty_ids=[novelty.pk])[novelty.pk],
        my_rating=mine,
        refusal=rating_refusal(user=user, novelty=novelty, now=now),
        comments=latest[:COMMENTS_SHOWN],
        comment_count=len(latest) if len(latest) <= COMMENTS_SHOWN else comments.count(),
    )


# --- the ranking ------------------------------------------------------------------------------

RANKING_SIZE = 5


@dataclass(frozen=True)
class RankedNovelty:
    novelty: Novelty
    stats: RatingStats


@dataclass(frozen=True)
class Ranking:
    month: date
    best: list[RankedNovelty]
    worst: list[RankedNovelty]
    unranked: int  # novelties of the month with too few ratings to rank
    min_ratings: int


def month_bounds(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following


def novelty_ranking(
    *,
    month: date,
    category: str = "",
    okrug_id: int | None = None,
    min_ratings: int = 1,
    size: int = RANKING_SIZE,
) -> Ranking:
    """The best and worst rated published novelties dated in ``month`` (optionally of one
    category and okrug), by their average of counted ratings; novelties with fewer than
    ``min_ratings`` are not ranked. Two queries, however many novelties the month has: the
    month's novelties, and one ``rating_stats`` over all of them."""
    first, following = month_bounds(month)
    novelties = _published().filter(happened_on__gte=first, happened_on__lt=following)
    if category:
        novelties = novelties.filter(category=category)
    if okrug_id is not None:
        novelties = novelties.filter(okrug_id=okrug_id)
    novelties = list(novelties)
    stats = rating_stats(novelty_ids=[novelty.pk for novelty in novelties])
    ranked = [
        RankedNovelty(novelty, stats[novelty.pk])
        for novelty in novelties
        if stats[novelty.pk].count >= max(min_ratings, 1)
    ]
    # Best first: higher average, then more ratings (more certain), then the title.
    ranked.sort(key=lambda item: (-item.stats.average, -item.stats.count, item.novelty.title))
    # With fewer than 2 * size ranked, the top half is the best and the rest the worst (an
    # odd middle one counts as best), so a poorly rated novelty is never listed as "best".
    best_count = min(size, (len(ranked) + 1) // 2)
    best = ranked[:best_count]
    worst = sorted(
        ranked[best_count:],
        key=lambda item: (item.stats.average, -item.stats.count, item.novelty.title),
    )
    return Ranking(
        month=first,
        best=best,
        worst=worst[:size],
        unranked=len(novelties) - len(ranked),
        min_ratings=max(min_ratings, 1),
    )


# --- the admin's report of suspicious patterns ------------------------------------------------


@dataclass(frozen=True)
class Burst:
    """One account's busiest stretch: ``size`` ratings within the window from ``start``."""

    user_id: int
    email: str
    joined: datetime
    start: datetime
    end: datetime
    size: int
    rating_ids: list[int]
    excluded: int


@dataclass(frozen=True)
class Cohort:
    """Accounts created within the same hour that rated the same novelty."""

    novelty_id: int
    title: str
    joined_hour: datetime
    accounts: int
    average: float
    novelty_average: float | None
    rating_ids: list[int] = field(default_factory=list)
    excluded: int = 0


# For each rating, how many ratings its author made from then to ``window`` later (a RANGE
# frame over time); per account its busiest such stretch, if it reaches ``min_ratings``; and
# the ratings in that stretch. One statement, served by the (user, created_at) index.
BURSTS_SQL = """
    WITH counted AS (
        SELECT user_id, created_at,
               count(*) OVER (
                   PARTITION BY user_id ORDER BY created_at
                   RANGE BETWEEN CURRENT ROW AND %(window)s FOLLOWING
               ) AS size
        FROM novelties_rating
        WHERE created_at >= %(since)s AND user_id IS NOT NULL
    ),
    busiest AS (
        SELECT DISTINCT ON (user_id) user_id, created_at AS start, size
        FROM counted WHERE size >= %(min_ratings)s
        ORDER BY user_id, size DESC, created_at
    )
    SELECT b.user_id, u.email, u.date_joined, b.start, max(r.created_at), b.size,
           array_agg(r.id ORDER BY r.created_at, r.id), count(r.excluded_at)
    FROM busiest b
    JOIN accounts_user u ON u.id = b.user_id
    JOIN novelties_rating r ON r.user_id = b.user_id
         AND r.created_at >= b.start AND r.created_at <= b.start + %(window)s
    GROUP BY b.user_id, u.email, u.date_joined, b.start, b.size
    ORDER BY b.size DESC, b.start DESC
    LIMIT %(limit)s
"""
REPORT_ROWS = 100


def rating_bursts(*, since: datetime, window: timedelta, min_ratings: int) -> list[Burst]:
    """Accounts that made at least ``min_ratings`` ratings within ``window`` since ``since``."""
    with connection.cursor() as cursor:
        cursor.execute(
            BURSTS_SQL,
            {"since": since, "window": window, "min_ratings": min_ratings, "limit": REPORT_ROWS},
        )
        return [Burst(*row) for row in cursor.fetchall()]


def _new_accounts_ratings(*, since: datetime, new_for: timedelta) -> QuerySet[Rating]:
    """Ratings given since ``since`` by accounts at most ``new_for`` old at the time: a
    throwaway account rates soon after sign-up (and busy hours of honest sign-ups, whose
    residents rate over months, do not fill the report)."""
    return Rating.objects.filter(
        Q(created_at__gte=F("user__date_joined")),
        created_at__gte=since,
        user__isnull=False,
        created_at__lte=F("user__date_joined") + new_for,
    ).annotate(joined_hour=TruncHour("user__date_joined"))


def rating_cohorts(*, since: datetime, new_for: timedelta, min_accounts: int) -> list[Cohort]:
    """Novelties rated since ``since`` by at least ``min_accounts`` new accounts (see
    ``_new_accounts_ratings``) created within the same clock hour (in the city's time
    zone). Three queries."""
    groups = list(
        _new_accounts_ratings(since=since, new_for=new_for)
        .values("novelty_id", "novelty__title", "joined_hour")
        .annotate(
            accounts=Count("pk"),
            average=Avg("stars"),
            excluded=Count("excluded_at"),
        )
        .filter(accounts__gte=min_accounts)
        .order_by("-accounts", "-joined_hour")[:REPORT_ROWS]
    )
    if not groups:
        return []
    ids = _cohort_rating_ids(
        groups=groups, ratings=_new_accounts_ratings(since=since, new_for=new_for)
    )
    stats = rating_stats(novelty_ids=list({group["novelty_id"] for group in groups}))
    return [
        Cohort(
            novelty_id=group["novelty_id"],
            title=group["novelty__title"],
            joined_hour=group["joined_hour"],
            accounts=group["accounts"],
            average=round(group["average"], 2),
            novelty_average=stats[group["novelty_id"]].average,
            rating_ids=ids[(group["novelty_id"], group["joined_hour"])],
            excluded=group["excluded"],
        )
        for group in groups
    ]


def _cohort_rating_ids(*, groups: list[dict], ratings: QuerySet[Rating]) -> dict[tuple, list[int]]:
    """The ratings of each (novelty, hour) group, in one query."""
    wanted = {(group["novelty_id"], group["joined_hour"]) for group in groups}
    rows = (
        ratings.filter(novelty_id__in={novelty_id for novelty_id, _hour in wanted})
        .values_list("novelty_id", "joined_hour", "pk")
        .order_by("pk")
    )
    ids: dict[tuple, list[int]] = {key: [] for key in wanted}
    for novelty_id, hour, pk in rows:
        if (novelty_id, hour) in ids:
            ids[(novelty_id, hour)].append(pk)
    return ids


# --- personal data ----------------------------------------------------------------------------


def personal_data(*, user: User) -> dict:
    """The resident's own ratings and comments, for their data export."""
    ratings = Rating.objects.filter(user=user).select_related("novelty").order_by("created_at")
    return {
        "novelty_ratings": [
            {
                "novelty": rating.novelty.title,
                "novelty_id": rating.novelty_id,
                "stars": rating.stars,
                "comment": rating.comment,
                "rated_at": rating.created_at.isoformat(),
                "changed_at": rating.updated_at.isoformat(),
                "excluded_from_averages": rating.excluded_at is not None,
            }
            for rating in ratings
        ]
    }
