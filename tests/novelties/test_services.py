from collections import Counter
from datetime import datetime, timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from accounts.rules import AccountSuspended
from novelties.models import STAR_COUNT_SHARDS, Rating, StarCount
from novelties.rules import rating_refusal
from novelties.selectors import personal_data, rating_stats
from novelties.services import (
    InvalidRating,
    NoveltyError,
    RatingRefused,
    novelty_publish,
    novelty_rate,
    novelty_unpublish,
    personal_data_erase,
    ratings_exclude,
    ratings_include,
)
from rewards.models import LedgerEntry, Reason
from tests.accounts.factories import UserFactory
from tests.novelties.factories import (
    NoveltyFactory,
    RatingFactory,
    counts_kept,
    counts_of_ratings,
)

pytestmark = pytest.mark.django_db


def refused_code(**kwargs) -> str:
    with pytest.raises(RatingRefused) as refused:
        novelty_rate(**kwargs)
    return refused.value.refusal.code


def test_a_rating_is_saved_and_earns_points_once():
    """A first rating is a new row and earns NOVELTY_RATING_POINTS (3) with a ledger entry
    naming the novelty."""
    resident, novelty = UserFactory(), NoveltyFactory()
    saved = novelty_rate(user=resident, novelty=novelty, stars=5, comment="  Отлично!  ")
    assert saved.created and saved.points == 3
    rating = Rating.objects.get()
    assert (rating.user, rating.novelty, rating.stars, rating.comment) == (
        resident,
        novelty,
        5,
        "Отлично!",
    )
    entry = LedgerEntry.objects.get(user=resident)
    assert (entry.amount, entry.reason, entry.source) == (
        3,
        Reason.NOVELTY_RATING,
        f"novelty:{novelty.pk}",
    )


def test_changing_a_rating_updates_the_same_row_and_earns_nothing_more():
    """A second rating by the same resident changes their row (stars, comment, time of the
    change); there is never a second row, and the points are not paid again."""
    resident, novelty = UserFactory(), NoveltyFactory()
    first = novelty_rate(user=resident, novelty=novelty, stars=2, comment="Так себе")
    later = timezone.now() + timedelta(hours=1)
    changed = novelty_rate(user=resident, novelty=novelty, stars=4, comment="", now=later)
    assert not changed.created and changed.points == 0
    rating = Rating.objects.get()
    assert rating.pk == first.rating.pk
    assert (rating.stars, rating.comment, rating.updated_at) == (4, "", later)
    assert rating.created_at == first.rating.created_at
    assert LedgerEntry.objects.filter(user=resident).count() == 1
    assert rating_stats(novelty_ids=[novelty.pk])[novelty.pk].counts == (0, 0, 0, 1, 0)


def test_points_are_earned_once_per_novelty_ever_even_after_an_erasure():
    """An erased resident's rating is anonymous; rating the novelty again makes a new row
    but earns no points: the ledger key is spent."""
    resident, novelty = UserFactory(), NoveltyFactory()
    novelty_rate(user=resident, novelty=novelty, stars=3)
    personal_data_erase(user=resident)
    again = novelty_rate(user=resident, novelty=novelty, stars=5)
    assert again.created and again.points == 0
    assert Rating.objects.filter(novelty=novelty).count() == 2
    assert LedgerEntry.objects.filter(user=resident).count() == 1


def test_no_points_when_the_setting_is_zero(settings):
    settings.NOVELTY_RATING_POINTS = 0
    saved = novelty_rate(user=UserFactory(), novelty=NoveltyFactory(), stars=3)
    assert saved.points == 0 and not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    ("make_resident", "code"),
    [
        (lambda: UserFactory(home_building=None), "profile_incomplete"),
        (lambda: UserFactory(birth_year=None), "profile_incomplete"),
        (lambda: UserFactory(gender=""), "profile_incomplete"),
        (lambda: _unverified_email(UserFactory()), "email_unverified"),
    ],
    ids=["no home address", "no birth year", "no gender", "email not confirmed"],
)
def test_only_residents_with_a_confirmed_email_and_a_complete_profile_may_rate(make_resident, code):
    """Throwaway accounts cannot farm points: each missing step is named, nothing is written."""
    assert refused_code(user=make_resident(), novelty=NoveltyFactory(), stars=4) == code
    assert not Rating.objects.exists() and not LedgerEntry.objects.exists()


def _unverified_email(user):
    EmailAddress.objects.filter(user=user).update(verified=False)
    return user


def test_a_suspended_account_is_refused():
    resident = UserFactory(suspended_at=timezone.now(), suspension_reason="Накрутка оценок")
    with pytest.raises(AccountSuspended):
        novelty_rate(user=resident, novelty=NoveltyFactory(), stars=5)
    assert not Rating.objects.exists()


def test_closed_and_unpublished_novelties_cannot_be_rated():
    resident = UserFactory()
    closed = NoveltyFactory(rating_closes_at=timezone.now() - timedelta(minutes=1))
    draft = NoveltyFactory(published_at=None)
    assert refused_code(user=resident, novelty=closed, stars=4) == "rating_closed"
    assert refused_code(user=resident, novelty=draft, stars=4) == "not_published"


def test_a_rating_cannot_be_changed_after_closing():
    resident, novelty = UserFactory(), NoveltyFactory()
    novelty_rate(user=resident, novelty=novelty, stars=1)
    after = novelty.rating_closes_at + timedelta(seconds=1)
    assert refused_code(user=resident, novelty=novelty, stars=5, now=after) == "rating_closed"
    assert Rating.objects.get().stars == 1


def test_anonymous_visitors_are_asked_to_sign_in():
    refusal = rating_refusal(user=AnonymousUser(), novelty=NoveltyFactory())
    assert refusal.code == "not_signed_in"


@pytest.mark.parametrize(
    ("stars", "comment", "field"),
    [(0, "", "stars"), (6, "", "stars"), (3, "ы" * 501, "comment")],
)
def test_bad_stars_or_a_long_comment_are_refused(stars, comment, field):
    with pytest.raises(InvalidRating) as invalid:
        novelty_rate(user=UserFactory(), novelty=NoveltyFactory(), stars=stars, comment=comment)
    assert invalid.value.field == field
    assert not Rating.objects.exists()


def test_a_resident_rates_at_most_the_daily_limit_of_new_novelties(settings):
    """With a limit of 3, the fourth new rating of the day is refused with the reason;
    changing a rating is still possible; after midnight (city time) rating works again."""
    settings.NOVELTY_RATINGS_PER_DAY = 3
    resident = UserFactory()
    novelties = NoveltyFactory.create_batch(5, rating_closes_at=timezone.now() + timedelta(days=9))
    morning = timezone.make_aware(datetime.combine(timezone.localdate(), datetime.min.time()))
    morning += timedelta(hours=9)
    with time_machine.travel(morning, tick=False):
        for novelty in novelties[:3]:
            novelty_rate(user=resident, novelty=novelty, stars=4)
        with pytest.raises(RatingRefused) as refused:
            novelty_rate(user=resident, novelty=novelties[3], stars=4)
        assert refused.value.refusal.code == "daily_limit"
        assert "3 novelties today" in refused.value.refusal.message
        novelty_rate(user=resident, novelty=novelties[0], stars=1)  # a change
    with time_machine.travel(morning + timedelta(hours=15, minutes=1), tick=False):
        assert novelty_rate(user=resident, novelty=novelties[3], stars=4).created
    assert Rating.objects.filter(user=resident).count() == 4


def test_excluded_ratings_stop_counting_and_count_again_when_included():
    """Excluding keeps the ratings with who, when and why; averages and distributions leave
    them out; including them undoes it (and the flag's fields are cleared)."""
    admin = UserFactory(is_staff=True)
    novelty = NoveltyFactory()
    honest = RatingFactory(novelty=novelty, stars=2)
    farmed = RatingFactory.create_batch(3, novelty=novelty, stars=5)
    assert rating_stats(novelty_ids=[novelty.pk])[novelty.pk].average == 4.25

    excluded = ratings_exclude(
        rating_ids=[rating.pk for rating in farmed], by=admin, reason="Аккаунты одного часа"
    )
    assert excluded == 3
    stats = rating_stats(novelty_ids=[novelty.pk])[novelty.pk]
    assert (stats.count, stats.average, stats.counts) == (1, 2.0, (0, 1, 0, 0, 0))
    kept = Rating.objects.get(pk=farmed[0].pk)
    assert (kept.excluded_by, kept.exclusion_reason) == (admin, "Аккаунты одного часа")
    assert kept.excluded_at is not None
    # Excluding again changes nothing (the first exclusion's who/when stay).
    assert ratings_exclude(rating_ids=[farmed[0].pk], by=admin, reason="again") == 0

    assert ratings_include(rating_ids=[rating.pk for rating in [honest, *farmed]]) == 3
    assert rating_stats(novelty_ids=[novelty.pk])[novelty.pk].average == 4.25
    assert counts_kept() == counts_of_ratings()
    assert not Rating.objects.filter(excluded_at__isnull=False).exists()
    assert set(Rating.objects.values_list("exclusion_reason", flat=True)) == {""}


@pytest.mark.parametrize("reason", ["", "   ", "x" * 301])
def test_an_exclusion_needs_a_short_reason(reason):
    rating = RatingFactory()
    with pytest.raises(NoveltyError):
        ratings_exclude(rating_ids=[rating.pk], by=UserFactory(is_staff=True), reason=reason)
    assert Rating.objects.get().excluded_at is None


def test_publishing_needs_an_open_rating_period_and_unpublishing_keeps_ratings():
    draft = NoveltyFactory(published_at=None, rating_closes_at=timezone.now() - timedelta(days=1))
    with pytest.raises(NoveltyError):
        novelty_publish(novelty=draft)
    draft.rating_closes_at = timezone.now() + timedelta(days=3)
    draft.save(update_fields=["rating_closes_at"])
    novelty_publish(novelty=draft)
    assert draft.published_at is not None
    RatingFactory(novelty=draft)
    novelty_unpublish(novelty=draft)
    draft.refresh_from_db()
    assert draft.published_at is None and draft.ratings.count() == 1


def test_personal_data_lists_own_ratings_and_erasure_keeps_only_anonymous_stars():
    resident, other = UserFactory(), UserFactory()
    novelty = NoveltyFactory(title="Новый парк")
    novelty_rate(user=resident, novelty=novelty, stars=5, comment="Очень красиво")
    novelty_rate(user=other, novelty=novelty, stars=3, comment="Мало скамеек")
    data = personal_data(user=resident)
    assert [(r["novelty"], r["stars"], r["comment"]) for r in data["novelty_ratings"]] == [
        ("Новый парк", 5, "Очень красиво")
    ]
    personal_data_erase(user=resident)
    assert personal_data(user=resident) == {"novelty_ratings": []}
    erased = Rating.objects.get(stars=5)
    assert (erased.user, erased.comment) == (None, "")
    assert Rating.objects.get(user=other).comment == "Мало скамеек"
    assert rating_stats(novelty_ids=[novelty.pk])[novelty.pk].count == 2
    assert counts_kept() == counts_of_ratings()


def test_the_counts_follow_every_write_of_a_rating():
    """The trigger keeps the counts equal to a recount through inserts, changes of stars,
    changes of the comment only, exclusions, inclusions and deletions."""
    admin = UserFactory(is_staff=True)
    novelties = NoveltyFactory.create_batch(2)
    ratings = [RatingFactory(novelty=novelties[i % 2], stars=i % 5 + 1) for i in range(12)]
    assert counts_kept() == counts_of_ratings()
    Rating.objects.filter(pk=ratings[0].pk).update(stars=5)
    Rating.objects.filter(pk=ratings[1].pk).update(comment="только комментарий")
    ratings_exclude(rating_ids=[r.pk for r in ratings[2:6]], by=admin, reason="проверка")
    Rating.objects.filter(pk=ratings[3].pk).update(stars=1)  # excluded: counts nothing
    assert counts_kept() == counts_of_ratings()
    ratings_include(rating_ids=[ratings[3].pk, ratings[4].pk])
    Rating.objects.filter(pk__in=[ratings[7].pk, ratings[8].pk]).delete()
    assert counts_kept() == counts_of_ratings()
    assert sum(counts_kept().values()) == 12 - 2 - 2


def test_the_trigger_counts_a_rating_in_shard_id_modulo_star_count_shards():
    """``STAR_COUNT_SHARDS`` states the shard count that migration 0003's trigger fixed."""
    novelty = NoveltyFactory()
    ratings = RatingFactory.create_batch(STAR_COUNT_SHARDS + 2, novelty=novelty, stars=3)
    shards = StarCount.objects.filter(novelty=novelty).values_list("shard", "count")
    assert dict(shards) == Counter(rating.pk % STAR_COUNT_SHARDS for rating in ratings)
