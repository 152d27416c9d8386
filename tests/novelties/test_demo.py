from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from novelties.demo import DEMO_NOVELTIES
from novelties.models import Novelty, Rating
from novelties.selectors import novelty_ranking, rating_bursts, rating_cohorts


@pytest.mark.django_db
def test_the_demo_city_has_rated_novelties_with_photos_and_two_farms(city_groups):
    """A dozen novelties across okrugs and categories, each with Pillow-drawn JPEG photos
    and ratings by demo residents; this month's ranking has a best and a worst list; the
    suspicious-ratings report finds the burst and the same-hour accounts; the printed demo
    logins have rated nothing; loading again creates nothing."""
    call_command("load_demo", stdout=StringIO())
    novelties = Novelty.objects.all()
    assert novelties.count() == len(DEMO_NOVELTIES) >= 10
    assert novelties.values("okrug").distinct().count() >= 8
    assert novelties.values("category").distinct().count() >= 6
    assert novelties.filter(okrug__isnull=True).exists()
    for novelty in novelties.prefetch_related("photos"):
        photos = list(novelty.photos.all())
        assert photos and all(photo.image.name.endswith(".jpg") for photo in photos)
        assert photos[0].image.size > 10_000
        assert novelty.ratings.count() >= 20
    assert not Rating.objects.filter(user__email__startswith="resident.").exists()

    ranking = novelty_ranking(month=timezone.localdate(), min_ratings=3)
    assert len(ranking.best) == 5 and len(ranking.worst) == 5

    since = timezone.now() - timedelta(days=settings.NOVELTY_REPORT_DAYS)
    bursts = rating_bursts(
        since=since,
        window=timedelta(minutes=settings.NOVELTY_BURST_MINUTES),
        min_ratings=settings.NOVELTY_BURST_RATINGS,
    )
    assert [burst.email for burst in bursts] == ["bystryi.ocenshik@demo.civic.local"]
    cohorts = rating_cohorts(
        since=since,
        new_for=timedelta(days=settings.NOVELTY_COHORT_NEW_DAYS),
        min_accounts=settings.NOVELTY_COHORT_ACCOUNTS,
    )
    assert [(cohort.title, cohort.accounts) for cohort in cohorts] == [
        ("Парковка у метро «Аэропорт» стала платной", 6)
    ]

    call_command("load_demo", stdout=(out := StringIO()))
    assert "0 city novelties created" in out.getvalue()
    assert Novelty.objects.count() == len(DEMO_NOVELTIES)
