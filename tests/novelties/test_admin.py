from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.groups import CITY_ADMINS, CITY_STAFF
from audit.models import AuditEntry
from novelties.models import Novelty, Rating
from tests.accounts.factories import UserFactory
from tests.civic.factories import BuildingFactory
from tests.novelties.factories import NoveltyFactory, RatingFactory, png_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def city_admin(client, city_groups):
    admin = UserFactory(is_staff=True)
    admin.groups.add(Group.objects.get(name=CITY_ADMINS))
    client.force_login(admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return admin


def test_a_city_admin_creates_a_novelty_with_photos_and_publishes_it(client, city_admin):
    """The place follows from the building; the photo is rebuilt by Pillow under a random
    name; the publish action shows it to residents."""
    building = BuildingFactory()
    upload = SimpleUploadedFile("park.png", png_file().read(), content_type="image/png")
    response = client.post(
        reverse("admin:novelties_novelty_add"),
        {
            "title": "Сквер на Тверской",
            "description": "Новые деревья и скамейки.",
            "category": "parks",
            "happened_on": timezone.localdate().isoformat(),
            "building": building.pk,
            "address": "",
            "rating_closes_at_0": (timezone.localdate() + timedelta(days=30)).isoformat(),
            "rating_closes_at_1": "12:00:00",
            "photos-TOTAL_FORMS": "1",
            "photos-INITIAL_FORMS": "0",
            "photos-0-image": upload,
            "photos-0-alt_text": "Скамейки под липами",
            "photos-0-position": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    novelty = Novelty.objects.get()
    assert (novelty.district, novelty.okrug) == (building.district, building.district.okrug)
    assert novelty.published_at is None and novelty.created_by == city_admin
    photo = novelty.photos.get()
    assert photo.image.name.startswith("novelties/") and photo.image.name.endswith(".png")
    assert "park" not in photo.image.name

    client.post(
        reverse("admin:novelties_novelty_changelist"),
        {"action": "publish", "_selected_action": [novelty.pk]},
    )
    novelty.refresh_from_db()
    assert novelty.published_at is not None
    assert client.get(reverse("novelty_detail", args=[novelty.pk])).status_code == 200


def test_a_place_that_contradicts_itself_is_refused(client, city_admin):
    building = BuildingFactory()
    other = BuildingFactory()
    response = client.post(
        reverse("admin:novelties_novelty_add"),
        {
            "title": "Сквер",
            "description": "Описание",
            "category": "parks",
            "happened_on": timezone.localdate().isoformat(),
            "building": building.pk,
            "district": other.district.pk,
            "rating_closes_at_0": (timezone.localdate() + timedelta(days=3)).isoformat(),
            "rating_closes_at_1": "12:00:00",
            "photos-TOTAL_FORMS": "0",
            "photos-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "The building is in another district" in response.content.decode()
    assert not Novelty.objects.exists()


def test_ratings_are_excluded_with_a_reason_and_included_again(client, city_admin):
    """The changelist action takes the reason from the action bar; without one nothing is
    excluded; "count again" undoes it. Each action is in the audit log."""
    novelty = NoveltyFactory()
    farmed = RatingFactory.create_batch(2, novelty=novelty, stars=5)
    url = reverse("admin:novelties_rating_changelist")
    selected = [rating.pk for rating in farmed]
    response = client.post(
        url,
        {"action": "exclude_from_averages", "_selected_action": selected, "reason": ""},
        follow=True,
    )
    assert "Give the reason" in response.content.decode()
    assert not Rating.objects.filter(excluded_at__isnull=False).exists()

    client.post(
        url,
        {"action": "exclude_from_averages", "_selected_action": selected, "reason": "Ферма"},
    )
    assert set(Rating.objects.values_list("exclusion_reason", "excluded_by")) == {
        ("Ферма", city_admin.pk)
    }
    client.post(url, {"action": "include_in_averages", "_selected_action": selected})
    assert not Rating.objects.filter(excluded_at__isnull=False).exists()
    assert AuditEntry.objects.filter(actor=city_admin).count() >= 4


def test_the_suspicious_ratings_report_lists_patterns_and_excludes_them(client, city_admin):
    start = timezone.now() - timedelta(hours=1)
    farmer = UserFactory(email="farmer@example.org")
    for index in range(settings.NOVELTY_BURST_RATINGS):
        RatingFactory(user=farmer, created_at=start + timedelta(seconds=30 * index))
    novelty = NoveltyFactory(title="Новая поликлиника")
    joined = timezone.now().replace(minute=5, second=0, microsecond=0) - timedelta(days=1)
    cohort = [
        RatingFactory(novelty=novelty, user=UserFactory(date_joined=joined), stars=1)
        for _index in range(settings.NOVELTY_COHORT_ACCOUNTS)
    ]
    honest = RatingFactory(novelty=novelty, stars=5)

    url = reverse("admin:novelties_rating_suspicious")
    page = client.get(url).content.decode()
    assert "farmer@example.org" in page and "Новая поликлиника" in page
    cohort_ids = ",".join(str(rating.pk) for rating in cohort)
    assert f'value="{cohort_ids}"' in page

    response = client.post(url, {"pattern": [cohort_ids], "reason": "Созданы в один час"})
    assert response.status_code == 302
    assert Rating.objects.filter(excluded_at__isnull=False).count() == len(cohort)
    honest.refresh_from_db()
    assert honest.excluded_at is None
    assert client.get(url).context["cohorts"][0].excluded == len(cohort)


def test_city_staff_see_the_report_but_cannot_exclude(client, city_groups):
    staff = UserFactory(is_staff=True)
    staff.groups.add(Group.objects.get(name=CITY_STAFF))
    client.force_login(staff)
    rating = RatingFactory()
    url = reverse("admin:novelties_rating_suspicious")
    assert client.get(url).status_code == 200
    assert client.post(url, {"pattern": [str(rating.pk)], "reason": "x"}).status_code == 403
    assert Rating.objects.get().excluded_at is None
    client.force_login(UserFactory())
    assert client.get(url).status_code == 302  # residents go to the admin's login


def test_the_novelty_list_counts_ratings_from_the_star_counts(client, city_admin):
    """The changelist's "counted ratings" column (and its ordering) sums the kept star
    counts: no query reads the ratings themselves, however many there are."""
    busy = NoveltyFactory(title="busy")
    NoveltyFactory(title="quiet")
    RatingFactory.create_batch(3, novelty=busy, stars=4)
    RatingFactory(novelty=busy, stars=1, excluded_at=timezone.now(), exclusion_reason="накрутка")
    url = reverse("admin:novelties_novelty_changelist")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"o": "-7"})
    novelties = response.context["cl"].result_list
    assert [(novelty.title, novelty.rating_count) for novelty in novelties] == [
        ("busy", 3),
        ("quiet", 0),
    ]
    assert not [q["sql"] for q in queries if '"novelties_rating"' in q["sql"]]
