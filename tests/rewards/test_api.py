import pytest
from rest_framework.test import APIClient

from accounts.models import Notification
from rewards.models import Redemption
from tests.accounts.factories import UserFactory
from tests.civic.factories import BuildingFactory
from tests.rewards.factories import RewardFactory, give_points

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def citizen(api, city_groups):
    user = UserFactory(language="en")
    give_points(user, 1000)
    api.force_authenticate(user)
    return user


def test_points_history_and_standing(api, citizen):
    body = api.get("/api/me/points/").json()
    assert (
        body["standing"]["balance"] == 1000 and body["standing"]["status"] == "Активный гражданин"
    )
    assert body["results"][0]["amount"] == 1000 and "next" in body


def test_redeem_and_list_redemptions(api, citizen):
    reward = RewardFactory(cost=300, stock=1)
    assert [r["id"] for r in api.get("/api/rewards/").json()["results"]] == [reward.pk]
    response = api.post(f"/api/rewards/{reward.pk}/redeem/")
    assert response.status_code == 201
    assert response.json()["voucher"] == Redemption.objects.get().voucher
    again = api.post(f"/api/rewards/{reward.pk}/redeem/")
    assert (again.status_code, again.json()["code"]) == (409, "out_of_stock")
    assert len(api.get("/api/me/redemptions/").json()["results"]) == 1
    assert api.post("/api/rewards/999999/redeem/").status_code == 404


def test_insufficient_points_is_a_409(api, citizen):
    reward = RewardFactory(cost=5000)
    response = api.post(f"/api/rewards/{reward.pk}/redeem/")
    assert (response.status_code, response.json()["code"]) == (409, "insufficient_points")


def test_notifications_list_and_mark_read(api, citizen):
    RewardFactory(cost=10)
    api.post(f"/api/rewards/{RewardFactory(cost=10).pk}/redeem/")
    items = api.get("/api/me/notifications/").json()["results"]
    assert items[0]["title"].startswith("Your reward") and items[0]["read"] is False
    assert api.post("/api/me/notifications/read/", {}, format="json").json() == {"marked": 1}
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_profile_patch_sets_the_home_and_refuses_a_quick_move(api, citizen):
    first, second = BuildingFactory(), BuildingFactory()
    response = api.patch("/api/me/", {"home_building": first.pk, "birth_year": 1980}, format="json")
    assert response.status_code == 200 and response.json()["home_building"] == first.pk
    response = api.patch("/api/me/", {"home_building": second.pk}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "home_move_too_soon")
    response = api.patch("/api/me/", {"birth_year": 2999}, format="json")
    assert response.status_code == 400 and "birth_year" in response.json()["errors"]
    response = api.patch("/api/me/", {"home_building": 99999999}, format="json")
    assert response.status_code == 400 and "home_building" in response.json()["errors"]


def test_limit_reached_is_a_409(api, citizen):
    reward = RewardFactory(cost=10, per_resident_limit=1)
    assert api.post(f"/api/rewards/{reward.pk}/redeem/").status_code == 201
    response = api.post(f"/api/rewards/{reward.pk}/redeem/")
    assert (response.status_code, response.json()["code"]) == (409, "limit_reached")
