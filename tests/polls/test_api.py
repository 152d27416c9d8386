import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from polls.models import Ballot, PollStatus, ResultsVisibility, Scope
from polls.services import poll_tally
from tests.accounts.factories import UserFactory
from tests.civic.factories import BuildingFactory
from tests.polls.factories import PollFactory, three_question_poll
from tests.rewards.factories import RewardFactory

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-resident-password"


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


def answers(poll) -> dict:
    single, multiple, scale = poll.questions.all()
    return {
        "answers": [
            {"question": single.pk, "options": [single.options.first().pk]},
            {"question": multiple.pk, "options": [o.pk for o in multiple.options.all()[:2]]},
            {"question": scale.pk, "value": 4},
        ]
    }


def test_schema_validates_and_docs_are_served(api):
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=StringIO())
    assert api.get("/api/schema/").status_code == 200
    assert api.get("/api/docs/").status_code == 200


def test_areas_and_building_search(api):
    building = BuildingFactory(street="Тверская улица", house="7")
    areas = api.get("/api/areas/").json()
    assert areas[0]["districts"][0]["name"] == building.district.name
    found = api.get("/api/buildings/", {"search": "тверская 7"}).json()
    assert [b["id"] for b in found] == [building.pk]


def test_me_needs_a_signed_in_resident(api):
    response = api.get("/api/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    user = UserFactory()
    api.force_authenticate(user)
    assert api.get("/api/me/").json()["email"] == user.email


def test_poll_list_says_who_can_vote_and_why_not(api, resident):
    city = three_question_poll()
    elsewhere = three_question_poll(scope=Scope.AREAS, districts=[BuildingFactory().district])
    cards = {
        card["id"]: card for card in api.get("/api/polls/", {"state": "open"}).json()["results"]
    }
    assert cards[city.pk]["can_vote"] and cards[city.pk]["reason"] is None
    assert cards[elsewhere.pk]["reason"] == "out_of_scope"
    assert api.get("/api/polls/", {"state": "soon"}).status_code == 400


def test_poll_list_query_count_is_constant(api, resident, django_assert_max_num_queries):
    for _ in range(12):
        three_question_poll()
    with django_assert_max_num_queries(6):
        assert len(api.get("/api/polls/").json()["results"]) == 12


def test_vote_then_results(api, resident):
    poll = three_question_poll(results_visibility=ResultsVisibility.LIVE)
    response = api.post(f"/api/polls/{poll.pk}/vote/", answers(poll), format="json")
    assert response.status_code == 201
    assert response.json() == {"receipt": Ballot.objects.get().receipt, "points_awarded": 20}
    again = api.post(f"/api/polls/{poll.pk}/vote/", answers(poll), format="json")
    assert (again.status_code, again.json()["code"]) == (409, "already_voted")
    poll_tally(poll_id=poll.pk, final=False)
    results = api.get(f"/api/polls/{poll.pk}/results/").json()
    assert results["participants"] == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"answers": [{"question": 1, "optionz": [1]}]}, 400, "invalid"),
        ({"answers": [{"question": 2**40}]}, 400, "invalid"),
        ({"answers": [{"question": -1}]}, 400, "invalid"),
        ({"answers": "all of them"}, 400, "invalid"),
        ({}, 400, "invalid"),
    ],
)
def test_malformed_votes_are_400_naming_the_problem(api, resident, body, status, code):
    poll = three_question_poll()
    response = api.post(f"/api/polls/{poll.pk}/vote/", body, format="json")
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert not Ballot.objects.exists()


def test_invalid_ballot_names_the_question(api, resident):
    poll = three_question_poll()
    body = answers(poll)
    body["answers"][2]["value"] = 9
    body["answers"].append(body["answers"][0])
    response = api.post(f"/api/polls/{poll.pk}/vote/", body, format="json")
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "invalid_ballot"
    assert error["errors"][str(poll.questions.all()[2].pk)] == ["Choose a value from 1 to 5."]
    assert "answered more than once" in error["errors"]["ballot"][0]


def test_broken_json_is_a_400(api, resident):
    poll = three_question_poll()
    response = api.post(f"/api/polls/{poll.pk}/vote/", "{not json", content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (400, "parse_error")


def test_refusals_have_their_codes(api, resident):
    elsewhere = three_question_poll(scope=Scope.AREAS, districts=[BuildingFactory().district])
    response = api.post(f"/api/polls/{elsewhere.pk}/vote/", answers(elsewhere), format="json")
    assert (response.status_code, response.json()["code"]) == (403, "out_of_scope")
    now = timezone.now()
    closed = three_question_poll(
        opens_at=now - timedelta(days=2), closes_at=now - timedelta(days=1)
    )
    response = api.post(f"/api/polls/{closed.pk}/vote/", answers(closed), format="json")
    assert (response.status_code, response.json()["code"]) == (409, "poll_closed")
    draft = three_question_poll(status=PollStatus.DRAFT)
    assert (
        api.post(f"/api/polls/{draft.pk}/vote/", answers(draft), format="json").status_code == 404
    )
    hidden = three_question_poll()
    response = api.get(f"/api/polls/{hidden.pk}/results/")
    assert (response.status_code, response.json()["code"]) == (403, "results_hidden")


def test_anonymous_vote_is_401(api):
    poll = PollFactory()
    assert (
        api.post(f"/api/polls/{poll.pk}/vote/", {"answers": []}, format="json").status_code == 401
    )


def test_an_app_signs_up_verifies_votes_and_redeems_over_http_only(mailoutbox, city_groups):
    """Sign-up and code through allauth headless, then the session token on the API: set
    the home, vote (a generous poll: 1,000 points, the shop's threshold) and redeem."""
    poll = three_question_poll(points=1000)
    reward = RewardFactory(cost=600)
    home = BuildingFactory()
    app = APIClient()
    response = app.post(
        "/_allauth/app/v1/auth/signup",
        {"email": "app@example.org", "password": PASSWORD},
        format="json",
    )
    token = response.json()["meta"]["session_token"]
    code = re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", mailoutbox[0].body, re.MULTILINE).group(
        1
    )
    verified = app.post(
        "/_allauth/app/v1/auth/email/verify",
        {"key": code},
        format="json",
        HTTP_X_SESSION_TOKEN=token,
    )
    app.credentials(HTTP_X_SESSION_TOKEN=verified.json()["meta"]["session_token"])  # rotated
    assert app.get("/api/me/").json()["email"] == "app@example.org"
    assert app.patch("/api/me/", {"home_building": home.pk}, format="json").status_code == 200
    response = app.post(f"/api/polls/{poll.pk}/vote/", answers(poll), format="json")
    assert response.status_code == 201
    assert app.get("/api/me/").json()["points_balance"] == 1000
    redeemed = app.post(f"/api/rewards/{reward.pk}/redeem/")
    assert redeemed.status_code == 201 and redeemed.json()["voucher"]
    assert app.get("/api/me/points/").json()["standing"]["balance"] == 400


def test_voting_is_throttled_per_resident(api, resident, settings):
    """A script hammering the vote endpoint gets 429 "throttled" after the scope's rate.
    (An hour's window: a minute's edge in the middle of the test would reset the count.)"""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "vote": "20/h"}
    poll = three_question_poll()
    statuses = [
        api.post(f"/api/polls/{poll.pk}/vote/", {"answers": []}, format="json").status_code
        for _ in range(21)
    ]
    assert statuses[:20].count(429) == 0 and statuses[20] == 429
    response = api.post(f"/api/polls/{poll.pk}/vote/", {"answers": []}, format="json")
    assert response.json()["code"] == "throttled"


POLL_BODY = {
    "title": "Новые скамейки",
    "description": "Где их поставить?",
    "opens_at": "2026-01-01T09:00:00+03:00",
    "closes_at": "2036-01-01T09:00:00+03:00",
    "scope": "city",
    "points": 20,
    "results_visibility": "after_close",
    "questions": [
        {
            "text": "Где?",
            "kind": "single",
            "options": [
                {"text": "У подъезда"},
                {"text": "В сквере"},
                {"text": "Другое", "is_other": True},
            ],
        },
        {"text": "Оценка двора", "kind": "scale", "scale_min": 1, "scale_max": 5},
    ],
}


def test_city_admins_create_and_publish_polls(api, city_groups):
    admin = UserFactory(is_staff=True)
    admin.groups.add(Group.objects.get(name="City admins"))
    api.force_authenticate(admin)
    created = api.post("/api/polls/", POLL_BODY, format="json")
    assert created.status_code == 201, created.json()
    poll = created.json()
    assert [q["kind"] for q in poll["questions"]] == ["single", "scale"]
    assert (
        len(poll["questions"][0]["options"]) == 3 and poll["questions"][0]["options"][2]["is_other"]
    )
    assert api.get(f"/api/polls/{poll['id']}/").status_code == 404  # a draft is not public yet
    assert api.post(f"/api/polls/{poll['id']}/publish/").status_code == 200
    assert api.get(f"/api/polls/{poll['id']}/").json()["title"] == "Новые скамейки"


def test_only_city_admins_create_polls_and_bad_bodies_are_400(api, resident, city_groups):
    assert api.post("/api/polls/", POLL_BODY, format="json").status_code == 403
    api.force_authenticate(UserFactory(is_superuser=True))
    for broken in (
        {**POLL_BODY, "closes_at": "2025-01-01T09:00:00+03:00"},
        {**POLL_BODY, "questions": [{"text": "?", "kind": "poll"}]},
        {**POLL_BODY, "colour": "red"},
    ):
        response = api.post("/api/polls/", broken, format="json")
        assert (response.status_code, response.json()["code"]) == (400, "invalid")
    empty = api.post("/api/polls/", {**POLL_BODY, "questions": []}, format="json").json()
    response = api.post(f"/api/polls/{empty['id']}/publish/")
    assert (response.status_code, response.json()["code"]) == (400, "cannot_publish")


def test_more_refusal_codes(api, resident):
    now = timezone.now()
    upcoming = three_question_poll(
        opens_at=now + timedelta(days=1), closes_at=now + timedelta(days=2)
    )
    response = api.post(f"/api/polls/{upcoming.pk}/vote/", answers(upcoming), format="json")
    assert (response.status_code, response.json()["code"]) == (409, "poll_not_open")
    adults = three_question_poll(min_age=18)
    api.force_authenticate(UserFactory(birth_year=now.year - 10))
    response = api.post(f"/api/polls/{adults.pk}/vote/", answers(adults), format="json")
    assert (response.status_code, response.json()["code"]) == (403, "too_young")
    district = three_question_poll(scope=Scope.AREAS, districts=[BuildingFactory().district])
    api.force_authenticate(UserFactory(home_building=None))
    response = api.post(f"/api/polls/{district.pk}/vote/", answers(district), format="json")
    assert (response.status_code, response.json()["code"]) == (403, "no_address")


def test_a_huge_body_is_a_400(api, resident):
    """Bodies over Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) are refused unread."""
    poll = three_question_poll()
    huge = (
        '{"answers": [' + ",".join(['{"question": 1, "text": "' + "x" * 1000 + '"}'] * 3000) + "]}"
    )
    response = api.post(f"/api/polls/{poll.pk}/vote/", huge, content_type="application/json")
    assert response.status_code == 400
    assert not Ballot.objects.exists()
