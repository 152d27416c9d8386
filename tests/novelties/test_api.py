from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from novelties.models import Rating
from tests.accounts.factories import UserFactory
from tests.civic.factories import DistrictFactory
from tests.novelties.factories import NoveltyFactory, NoveltyPhotoFactory, RatingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    client = APIClient()
    client.credentials(HTTP_ACCEPT_LANGUAGE="en")
    return client


@pytest.fixture
def resident(api):
    user = UserFactory(language="en")
    api.force_authenticate(user)
    return user


def rate_url(novelty) -> str:
    return f"/api/novelties/{novelty.pk}/rate/"


def test_the_schema_documents_the_novelty_endpoints(api):
    """(tests/polls/test_api.py validates the whole schema.)"""
    paths = api.get("/api/schema/?format=json").json()["paths"]
    for path in (
        "/api/novelties/",
        "/api/novelties/{novelty_id}/",
        "/api/novelties/{novelty_id}/rate/",
        "/api/novelties/ranking/",
    ):
        assert path in paths


@pytest.mark.parametrize("count", [2, 12])
def test_the_list_is_near_me_first_in_constant_queries(
    api, resident, count, django_assert_max_num_queries
):
    home = resident.home_building.district
    for index in range(count):
        novelty = NoveltyFactory(happened_on=timezone.localdate() - timedelta(days=index))
        NoveltyPhotoFactory(novelty=novelty)
        RatingFactory.create_batch(2, novelty=novelty, stars=3)
    mine = NoveltyFactory(okrug=home.okrug, district=home, title="В моём районе")
    RatingFactory(novelty=mine, user=resident, stars=4, comment="Хорошо")
    with django_assert_max_num_queries(7):
        body = api.get("/api/novelties/").json()
    assert body["count"] == count + 1
    first = body["results"][0]
    assert first["novelty"]["title"] == "В моём районе" and first["nearness"] == "district"
    assert first["my_rating"]["stars"] == 4 and first["can_rate"] is True
    assert first["stats"]["average"] == 4.0 and first["stats"]["count"] == 1
    assert [share["stars"] for share in first["stats"]["distribution"]] == [5, 4, 3, 2, 1]
    second = body["results"][1]
    assert second["nearness"] == "city" and second["photo"]["url"].startswith("http://")
    assert second["stats"]["distribution"][2] == {"stars": 3, "count": 2, "percent": 100.0}


def test_anonymous_visitors_get_the_list_and_the_reason_they_cannot_rate(api):
    NoveltyFactory()
    card = api.get("/api/novelties/").json()["results"][0]
    assert card["can_rate"] is False and card["refusal"]["code"] == "not_signed_in"
    assert card["my_rating"] is None


def test_the_detail_has_photos_comments_and_my_rating(api, resident, django_assert_max_num_queries):
    novelty = NoveltyFactory(description="Новый сквер")
    NoveltyPhotoFactory.create_batch(2, novelty=novelty)
    RatingFactory(novelty=novelty, stars=5, comment="Прекрасно")
    RatingFactory(
        novelty=novelty,
        stars=1,
        comment="Накрутка",
        excluded_at=timezone.now(),
        exclusion_reason="ферма",
    )
    RatingFactory(novelty=novelty, user=resident, stars=3)
    with django_assert_max_num_queries(7):
        body = api.get(f"/api/novelties/{novelty.pk}/").json()
    assert body["description"] == "Новый сквер" and len(body["photos"]) == 2
    assert body["stats"]["count"] == 2 and body["stats"]["average"] == 4.0
    assert [c["comment"] for c in body["comments"]] == ["Прекрасно"]
    assert body["my_rating"]["stars"] == 3 and body["can_rate"] is True
    assert api.get("/api/novelties/999999/").status_code == 404
    draft = NoveltyFactory(published_at=None)
    assert api.get(f"/api/novelties/{draft.pk}/").status_code == 404


def test_rating_is_201_then_a_change_is_200(api, resident):
    novelty = NoveltyFactory()
    response = api.post(rate_url(novelty), {"stars": 5, "comment": "Отлично"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["created"] is True and body["points_awarded"] == 3
    assert body["my_rating"]["stars"] == 5 and body["stats"]["average"] == 5.0
    response = api.post(rate_url(novelty), {"stars": 2}, format="json")
    assert response.status_code == 200
    assert response.json()["points_awarded"] == 0 and response.json()["my_rating"]["comment"] == ""
    assert Rating.objects.get().stars == 2


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"stars": 0}, 400, "invalid"),
        ({"stars": "five"}, 400, "invalid"),
        ({"stars": 4, "comment": "ы" * 501}, 400, "invalid"),
        ({"stars": 4, "mood": "good"}, 400, "invalid"),
        ({}, 400, "invalid"),
    ],
)
def test_bad_ratings_are_400(api, resident, body, status, code):
    response = api.post(rate_url(NoveltyFactory()), body, format="json")
    assert (response.status_code, response.json()["code"]) == (status, code)


def test_refusals_have_codes_and_statuses(api, settings):
    novelty = NoveltyFactory()
    assert api.post(rate_url(novelty), {"stars": 4}, format="json").status_code == 401

    api.force_authenticate(UserFactory(home_building=None))
    response = api.post(rate_url(novelty), {"stars": 4}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "profile_incomplete")

    api.force_authenticate(
        UserFactory(suspended_at=timezone.now(), suspension_reason="Накрутка оценок")
    )
    response = api.post(rate_url(novelty), {"stars": 4}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "account_suspended")

    api.force_authenticate(UserFactory())
    closed = NoveltyFactory(rating_closes_at=timezone.now() - timedelta(seconds=1))
    response = api.post(rate_url(closed), {"stars": 4}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "rating_closed")

    settings.NOVELTY_RATINGS_PER_DAY = 1
    assert api.post(rate_url(novelty), {"stars": 4}, format="json").status_code == 201
    response = api.post(rate_url(NoveltyFactory()), {"stars": 4}, format="json")
    assert (response.status_code, response.json()["code"]) == (429, "daily_limit")
    assert "1 novelty today" in response.json()["detail"]


def test_the_rating_request_rate_is_limited_in_the_api(api, resident, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "rating": "2/h"}
    novelty = NoveltyFactory()
    for stars in (4, 5):
        assert api.post(rate_url(novelty), {"stars": stars}, format="json").status_code < 300
    response = api.post(rate_url(novelty), {"stars": 1}, format="json")
    assert response.status_code == 429 and response["Retry-After"]
    assert Rating.objects.get().stars == 5


def test_the_ranking_endpoint(api, django_assert_max_num_queries):
    district = DistrictFactory()
    best = NoveltyFactory(title="Лучшая", okrug=district.okrug, district=district)
    RatingFactory.create_batch(3, novelty=best, stars=5)
    for index in range(6):
        RatingFactory.create_batch(3, novelty=NoveltyFactory(title=f"Другая {index}"), stars=2)
    with django_assert_max_num_queries(2):
        body = api.get("/api/novelties/ranking/").json()
    assert body["month"] == timezone.localdate().strftime("%Y-%m")
    assert body["best"][0]["novelty"]["title"] == "Лучшая" and len(body["best"]) == 4
    assert len(body["worst"]) == 3 and body["min_ratings"] == 3
    only_okrug = api.get("/api/novelties/ranking/", {"okrug": district.okrug_id}).json()
    assert [item["novelty"]["title"] for item in only_okrug["best"]] == ["Лучшая"]
    for params in ({"month": "March"}, {"okrug": 999999}, {"category": "space"}):
        response = api.get("/api/novelties/ranking/", params)
        assert response.status_code == 400, params


def test_the_ranking_endpoint_names_an_unknown_okrug_in_russian(db):
    russian = APIClient(HTTP_ACCEPT_LANGUAGE="ru")
    response = russian.get("/api/novelties/ranking/", {"okrug": 999999})
    assert response.json()["errors"]["okrug"] == ["Округа с таким id нет."]


def test_the_ranking_endpoint_refuses_a_month_of_a_far_off_year(api):
    for month in ("9999-12", "0001-01", "1999-12", "2101-01"):
        response = api.get("/api/novelties/ranking/", {"month": month})
        assert response.status_code == 400, month
        errors = response.json()["errors"]
        assert errors["month"] == ["Choose a month of the years 2000 to 2100."]
    assert api.get("/api/novelties/ranking/", {"month": "2100-12"}).status_code == 200
