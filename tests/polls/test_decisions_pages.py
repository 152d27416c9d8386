"""Decisions on the site, in the API and in the admin: the Decisions page and its API twin
(filters, headline counts, pages, constant queries), the poll's results with the decisions'
progress, and a city admin recording and moving a decision on in the Django admin."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.groups import CITY_ADMINS, CITY_STAFF
from polls.models import Decision, DecisionUpdate, Poll, PollTally
from polls.selectors import DecisionFilters, decision_counts, decisions_public
from polls.services import DecisionStep, decision_update
from tests.accounts.factories import UserFactory
from tests.civic.factories import BuildingFactory, DistrictFactory, OkrugFactory
from tests.polls.factories import closed_poll, decision_recorded, three_question_poll

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def moved(decision, *statuses, note=""):
    for status in statuses:
        decision_update(
            decision=decision,
            step=DecisionStep(status=status, on=TODAY(), note=note or f"{status}: причина"),
            updated_by=None,
        )
    return decision


@pytest.fixture
def city():
    """Decisions after three polls: a citywide one (done, in progress, planned), one of
    okrug North (declined) and one of a district of okrug North (done); and one in okrug
    South (planned). Also a building survey and a draft, which never show."""
    north, south = OkrugFactory(name="Северный"), OkrugFactory(name="Южный")
    citywide = closed_poll(title="Библиотеки")
    moved(decision_recorded(citywide, text="Работать до 22:00"), "in_progress", "done")
    moved(decision_recorded(citywide, text="Коворкинги"), "in_progress")
    decision_recorded(citywide, text="Лекторий")
    in_north = closed_poll(title="Парки севера", scope="areas", okrugs=[north])
    moved(decision_recorded(in_north, text="Каток"), "declined", note="Нет места")
    district = DistrictFactory(okrug=north)
    in_district = closed_poll(title="Двор района", scope="areas", districts=[district])
    moved(decision_recorded(in_district, text="Детская площадка"), "done")
    in_south = closed_poll(title="Парки юга", scope="areas", okrugs=[south])
    decision_recorded(in_south, text="Велодорожка")
    return {"north": north, "south": south, "citywide": citywide, "in_north": in_north}


def texts(decisions) -> set[str]:
    return {decision.text for decision in decisions}


def test_filters_and_counts_agree_poll_by_poll(city):
    everything = decisions_public()
    assert decision_counts(decisions=everything).__dict__ == {
        "decisions": 6,
        "polls": 4,
        "planned": 2,
        "in_progress": 1,
        "done": 2,
        "declined": 1,
    }
    north = decisions_public(filters=DecisionFilters(okrug=city["north"]))
    assert texts(north) == {"Каток", "Детская площадка"}  # the okrug and its districts
    assert decision_counts(decisions=north).done == 1
    done = decisions_public(filters=DecisionFilters(status="done"))
    assert texts(done) == {"Работать до 22:00", "Детская площадка"}
    citywide = decisions_public(filters=DecisionFilters(scope="city"))
    assert texts(citywide) == {"Работать до 22:00", "Коворкинги", "Лекторий"}
    one_poll = decisions_public(filters=DecisionFilters(poll_id=city["in_north"].pk))
    assert texts(one_poll) == {"Каток"}
    both = decisions_public(filters=DecisionFilters(okrug=city["north"], status="declined"))
    assert decision_counts(decisions=both).__dict__ == {
        "decisions": 1,
        "polls": 1,
        "planned": 0,
        "in_progress": 0,
        "done": 0,
        "declined": 1,
    }


def test_unpublished_polls_and_building_surveys_never_show(city):
    survey = closed_poll(scope="building", building=BuildingFactory(), points=5)
    decision = Decision.objects.create(  # as if recorded past the service's rule
        poll=survey, text="Покрасить подъезд", responsible_body="УК", decided_on=TODAY()
    )
    DecisionUpdate.objects.create(decision=decision, status="planned", date=TODAY())
    Poll.objects.filter(pk=city["citywide"].pk).update(status="draft")
    assert texts(decisions_public()) == {"Каток", "Детская площадка", "Велодорожка"}


# --- the Decisions page -------------------------------------------------------------------------


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_the_page_shows_the_headline_the_filters_and_each_decisions_progress(english, city):
    page = english.get(reverse("decisions"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "6 decisions taken, 2 implemented" in html
    assert "Нет места" in html  # the reason of the decline, in its timeline
    assert f'href="{reverse("poll_results", args=[city["in_north"].pk])}#decision-' in html
    north = english.get(reverse("decisions"), {"okrug": city["north"].pk, "status": "done"})
    assert "1 decision taken, 1 implemented" in north.content.decode()
    assert [d.text for d in north.context["page"]] == ["Детская площадка"]
    one_poll = english.get(reverse("decisions"), {"poll": city["citywide"].pk})
    assert "Decisions after the poll “Библиотеки”" in one_poll.content.decode()


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"status": "maybe"}, "status", "Select a valid choice"),
        ({"okrug": "999999"}, "okrug", "Select a valid choice"),
        ({"okrug": "north"}, "okrug", "Select a valid choice"),
        ({"scope": "building"}, "scope", "Select a valid choice"),
        ({"poll": "0"}, "poll", "greater than or equal to 1"),
    ],
)
def test_bad_filters_are_a_400_naming_the_filter(english, city, query, field, message):
    page = english.get(reverse("decisions"), query)
    assert page.status_code == 400
    assert message in " ".join(page.context["form"].errors[field])
    assert len(page.context["page"]) == 6  # everything, with the error shown

    api = APIClient().get(reverse("api_decisions"), query, HTTP_ACCEPT_LANGUAGE="en")
    assert api.status_code == 400
    assert api.json()["code"] == "invalid" and field in api.json()["errors"]
    assert message in " ".join(api.json()["errors"][field])


def test_the_page_pages_and_keeps_its_filters(english, city):
    poll = closed_poll(title="Много решений")
    for number in range(21):
        decision_recorded(poll, text=f"Решение {number}")
    first = english.get(reverse("decisions"), {"scope": "city"})
    assert len(first.context["page"]) == 20
    assert "24 decisions taken" in first.content.decode()
    assert 'href="?scope=city&amp;page=2"' in first.content.decode()
    second = english.get(reverse("decisions"), {"scope": "city", "page": 2})
    assert len(second.context["page"]) == 4
    assert english.get(reverse("decisions"), {"page": "last-but-one"}).status_code == 200


def many_decisions(count: int) -> None:
    okrug = OkrugFactory()
    for number in range(count):
        poll = closed_poll(scope="areas", okrugs=[okrug], districts=[DistrictFactory()])
        PollTally.objects.create(poll=poll, participants=10, computed_at=timezone.now())
        moved(decision_recorded(poll, text=f"Решение {number}"), "in_progress", "done")


@pytest.mark.parametrize("count", [2, 12])
def test_the_page_costs_the_same_queries_for_2_or_12_decisions(
    client, count, django_assert_max_num_queries
):
    many_decisions(count)
    client.force_login(UserFactory())
    with django_assert_max_num_queries(14):
        page = client.get(reverse("decisions"), {"status": "done"})
    assert len(page.context["page"]) == count


@pytest.mark.parametrize("count", [2, 12])
def test_the_api_costs_the_same_queries_for_2_or_12_decisions(count, django_assert_max_num_queries):
    many_decisions(count)
    with django_assert_max_num_queries(7):
        response = APIClient().get(reverse("api_decisions"), {"status": "done"})
    assert len(response.json()["results"]) == count


# --- the API ---------------------------------------------------------------------------------


def test_the_api_lists_with_the_same_filters_and_counts(city):
    api = APIClient()
    body = api.get(reverse("api_decisions"), {"okrug": city["north"].pk}).json()
    assert body["count"] == 2
    assert body["summary"] == {
        "decisions": 2,
        "polls": 2,
        "planned": 0,
        "in_progress": 0,
        "done": 1,
        "declined": 1,
    }
    declined = next(d for d in body["results"] if d["status"] == "declined")
    assert declined["poll"] == city["in_north"].pk
    assert declined["poll_title"] == "Парки севера"
    assert [(s["status"], s["note"]) for s in declined["timeline"]] == [
        ("planned", ""),
        ("declined", "Нет места"),
    ]
    paged = api.get(reverse("api_decisions"), {"page_size": 2}).json()
    assert paged["count"] == 6 and len(paged["results"]) == 2 and paged["next"]
    assert paged["summary"]["decisions"] == 6  # over every page
    assert api.get(reverse("api_decisions"), {"page": 99}).status_code == 404


def test_the_schema_documents_the_decisions_endpoint():
    schema = APIClient().get(reverse("api_schema"), {"format": "json"}).json()
    operation = schema["paths"]["/api/decisions/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"status", "okrug", "scope", "poll"}
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    fields = schema["components"]["schemas"][page.rsplit("/", 1)[1]]["properties"]
    assert {"count", "next", "previous", "summary", "results"} <= set(fields)


# --- the results of a poll -----------------------------------------------------------------------


def test_results_page_and_api_show_the_decisions_with_their_progress(english):
    poll = closed_poll(title="Библиотеки", results_visibility="live")
    moved(decision_recorded(poll, text="Работать до 22:00"), "in_progress", "done")
    decision_recorded(poll, text="Лекторий")
    page = english.get(reverse("poll_results", args=[poll.pk]))
    html = page.content.decode()
    assert "What the city decided" in html
    assert html.index("Работать до 22:00") < html.index("Лекторий")
    assert html.count('<ol class="timeline"') == 2
    results = APIClient().get(reverse("api_results", args=[poll.pk])).json()
    assert [d["text"] for d in results["decisions"]] == ["Работать до 22:00", "Лекторий"]
    assert [s["status"] for s in results["decisions"][0]["timeline"]] == [
        "planned",
        "in_progress",
        "done",
    ]


def test_a_poll_without_decisions_says_nothing_about_them(english):
    poll = three_question_poll(results_visibility="live")
    assert (
        "What the city decided"
        not in english.get(reverse("poll_results", args=[poll.pk])).content.decode()
    )
    assert APIClient().get(reverse("api_results", args=[poll.pk])).json()["decisions"] == []


# --- the admin ---------------------------------------------------------------------------------


@pytest.fixture
def city_admin(client, city_groups):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=CITY_ADMINS))
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return user


def record_form(poll, **fields) -> dict:
    return {
        "poll": poll.pk,
        "text": "Продлить часы работы библиотек",
        "responsible_body": "Департамент культуры",
        "decided_on": TODAY().isoformat(),
        "status": "planned",
        "note": "",
        **fields,
    }


def test_a_city_admin_records_a_decision_in_the_admin(client, city_admin):
    poll = closed_poll()
    add = reverse("admin:polls_decision_add")
    assert client.get(add, {"poll": poll.pk}).context["adminform"].form.initial["poll"] == str(
        poll.pk
    )
    response = client.post(add, record_form(poll, status="in_progress"))
    assert response.status_code == 302
    decision = Decision.objects.get()
    assert (decision.status, decision.recorded_by) == ("in_progress", city_admin)
    assert list(decision.updates.values_list("status", "created_by")) == [
        ("in_progress", city_admin.pk)
    ]
    poll_page = client.get(reverse("admin:polls_poll_change", args=[poll.pk])).content.decode()
    assert reverse("admin:polls_decision_change", args=[decision.pk]) in poll_page
    assert f"{add}?poll={poll.pk}" in poll_page


@pytest.mark.parametrize(
    ("poll_kind", "fields", "field", "message"),
    [
        ("open", {}, "poll", "has not closed yet"),
        ("closed", {"status": "declined"}, "note", "needs its reason"),
        ("closed", {"decided_on": "2001-01-01"}, "decided_on", "before its poll opened"),
        ("closed", {"text": "  "}, "text", "This field is required"),
    ],
)
def test_the_admins_form_refuses_what_the_service_refuses(
    client, city_admin, poll_kind, fields, field, message
):
    poll = closed_poll() if poll_kind == "closed" else three_question_poll()
    response = client.post(reverse("admin:polls_decision_add"), record_form(poll, **fields))
    assert response.status_code == 200
    assert message in " ".join(response.context["adminform"].form.errors[field])
    assert not Decision.objects.exists()


def progress_form(**fields) -> dict:
    return {
        "new_status": "in_progress",
        "on": TODAY().isoformat(),
        "note": "",
        "updates-TOTAL_FORMS": "1",
        "updates-INITIAL_FORMS": "1",
        "updates-MIN_NUM_FORMS": "0",
        "updates-MAX_NUM_FORMS": "1000",
        **fields,
    }


def test_a_city_admin_moves_a_decision_on_and_sees_its_history(client, city_admin):
    decision = decision_recorded(closed_poll())
    change = reverse("admin:polls_decision_change", args=[decision.pk])
    page = client.get(change)
    assert page.status_code == 200
    assert "history" in page.content.decode().lower()
    assert client.post(change, progress_form()).status_code == 302
    refused = client.post(change, progress_form(new_status="declined"))
    assert "needs its reason" in " ".join(refused.context["adminform"].form.errors["note"])
    unchanged = client.post(change, progress_form(new_status="in_progress", on=TODAY()))
    assert unchanged.status_code == 302  # nothing new: no step recorded
    client.post(change, progress_form(new_status="declined", note="Нет средств"))
    decision.refresh_from_db()
    assert decision.status == "declined"
    assert list(decision.updates.values_list("status", "note", "created_by")) == [
        ("planned", "", None),
        ("in_progress", "", city_admin.pk),
        ("declined", "Нет средств", city_admin.pk),
    ]
    assert client.get(change).context["adminform"].form.fields["new_status"].initial == "declined"


def test_the_admin_never_deletes_decisions_and_staff_only_look(client, city_admin, city_groups):
    decision = decision_recorded(closed_poll())
    assert client.get(reverse("admin:polls_decision_delete", args=[decision.pk])).status_code == 403
    analyst = UserFactory(is_staff=True)
    analyst.groups.add(Group.objects.get(name=CITY_STAFF))
    client.force_login(analyst)
    change = reverse("admin:polls_decision_change", args=[decision.pk])
    page = client.get(change)
    assert page.status_code == 200 and "new_status" not in page.content.decode()
    assert client.post(change, progress_form()).status_code == 403
    assert client.get(reverse("admin:polls_decision_add")).status_code == 403
    assert decision.updates.count() == 1


def test_the_poll_picker_offers_closed_polls_only(client, city_admin):
    closed, still_open = closed_poll(title="Закрытый опрос"), three_question_poll(title="Открытый")
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "polls", "model_name": "decision", "field_name": "poll", "term": ""},
    )
    assert [row["text"] for row in response.json()["results"]] == [closed.title]
    assert still_open.title not in response.content.decode()


def test_the_changelist_costs_the_same_queries_for_2_or_12(
    client, city_admin, django_assert_max_num_queries
):
    many_decisions(2)
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("admin:polls_decision_changelist"))
    many_decisions(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("admin:polls_decision_changelist"))
    assert response.status_code == 200
