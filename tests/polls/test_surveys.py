"""Building surveys: created by verified residents, private to their building, voted on
through the same ``ballot_cast`` as city polls (once only; one vote per apartment where
chosen; open or secret ballot), with turnout, quorum, reports and moderation."""

import re
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification, User
from accounts.notifications import notifications_email_batch
from accounts.selectors import resident_with_home
from polls.models import Ballot, Participation, Poll, PollStatus, Scope, SurveyReport
from polls.selectors import poll_with_questions
from polls.services import (
    SurveyError,
    VoteRefused,
    ballot_cast,
    poll_results_publish,
    poll_tally,
    survey_create,
    survey_hide,
    survey_report,
    survey_unhide,
)
from polls.validation import AnswerInput
from tests.accounts.factories import UserFactory, verified_resident
from tests.civic.factories import BuildingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(client, settings):
    """These tests read the pages' English text (the site defaults to Russian)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def building():
    return BuildingFactory(apartments=10)


@pytest.fixture
def author(building):
    return verified_resident(building, "1", first_name="Анна", last_name="Петрова")


def survey_input(**overrides) -> dict:
    now = timezone.now()
    return {
        "title": "Ставить ли шлагбаум?",
        "description": "",
        "opens_at": None,
        "closes_at": now + timedelta(days=7),
        "vote_unit": "resident",
        "open_ballot": False,
        "quorum_percent": None,
        "questions": [
            {
                "text": "Ставим шлагбаум?",
                "kind": "single",
                "required": True,
                "options": [{"text": "Да"}, {"text": "Нет"}],
            }
        ],
        **overrides,
    }


def make_survey(author, **overrides) -> Poll:
    return survey_create(author=author, data=survey_input(**overrides))


def yes_no(survey: Poll):
    question = survey.questions.get()
    yes, no = question.options.order_by("position")
    return question, yes, no


def cast(user, survey, choice) -> str:
    question = survey.questions.get()
    return ballot_cast(
        user=resident_with_home(user_id=user.pk),
        poll=poll_with_questions(poll_id=survey.pk),
        answers=[AnswerInput(question.pk, (choice.pk,))],
    ).receipt


def close(survey: Poll) -> None:
    """Move the survey into the past and count it finally, as the scheduled tasks do."""
    now = timezone.now()
    Poll.objects.filter(pk=survey.pk).update(
        opens_at=now - timedelta(days=2), closes_at=now - timedelta(days=1), closed_at=now
    )
    poll_tally(poll_id=survey.pk, final=True)
    poll_results_publish(poll_id=survey.pk)


# --- creating -------------------------------------------------------------------------------


def test_a_verified_resident_publishes_a_survey_and_neighbours_are_notified(author, building):
    neighbour = verified_resident(building, "2")
    silent = verified_resident(building, "3", email_notifications=False)
    unverified = UserFactory(home_building=building)
    survey = make_survey(author)
    assert (survey.status, survey.scope, survey.building) == (
        PollStatus.PUBLISHED,
        Scope.BUILDING,
        building,
    )
    assert survey.created_by == author
    notified = set(
        Notification.objects.filter(kind="survey_created").values_list("user", flat=True)
    )
    assert notified == {neighbour.pk, silent.pk}  # not the author, not the unverified
    assert unverified.pk not in notified
    mail.outbox.clear()
    notifications_email_batch()
    assert [message.to for message in mail.outbox] == [[neighbour.email]]  # silent opted out
    assert building.address in mail.outbox[0].body or "шлагбаум" in mail.outbox[0].subject


def test_only_verified_residents_create_surveys(building):
    with pytest.raises(SurveyError) as refused:
        make_survey(UserFactory(home_building=building))
    assert refused.value.code == "not_verified_resident"


@pytest.mark.parametrize(
    ("opens_in", "runs_for", "message"),
    [
        (timedelta(0), timedelta(days=31), "at most 30 days"),
        (timedelta(days=31), timedelta(days=1), "open at most 30 days ahead"),
        (timedelta(days=2), -timedelta(days=1), "close after it opens"),
    ],
)
def test_the_schedule_is_limited(author, opens_in, runs_for, message):
    opens_at = timezone.now() + opens_in + timedelta(minutes=1)
    with pytest.raises(SurveyError, match=message):
        make_survey(author, opens_at=opens_at, closes_at=opens_at + runs_for)


def test_a_resident_has_at_most_n_open_surveys(author, settings):
    settings.BUILDING_SURVEY_MAX_OPEN = 2
    first = make_survey(author)
    make_survey(author)
    with pytest.raises(SurveyError) as refused:
        make_survey(author)
    assert refused.value.code == "too_many_surveys"
    close(first)  # a closed survey no longer counts
    make_survey(author)


def test_a_choice_question_needs_two_options(author):
    question = {"text": "?", "kind": "single", "options": [{"text": "Да"}]}
    with pytest.raises(SurveyError, match="at least two options"):
        make_survey(author, questions=[question])
    assert not Poll.objects.exists()  # nothing half-written


# --- visibility ---------------------------------------------------------------------------


def test_surveys_are_404_outside_the_building(client, author, building):
    survey = make_survey(author)
    urls = [
        reverse("poll_detail", args=[survey.pk]),
        reverse("poll_results", args=[survey.pk]),
        reverse("api_poll", args=[survey.pk]),
        reverse("api_results", args=[survey.pk]),
    ]
    outsiders = [
        verified_resident(BuildingFactory(), "1"),  # verified elsewhere
        UserFactory(home_building=building),  # lives there, not verified
    ]
    for outsider in outsiders:
        client.force_login(outsider)
        for url in urls:
            assert client.get(url).status_code == 404, url
        vote = client.post(
            reverse("api_vote", args=[survey.pk]), {"answers": []}, "application/json"
        )
        assert vote.status_code == 404
    client.logout()
    assert client.get(urls[0]).status_code == 404
    client.force_login(verified_resident(building, "5"))
    assert client.get(urls[0]).status_code == 200


def test_surveys_never_appear_among_city_polls(client, author):
    survey = make_survey(author)
    client.force_login(author)
    assert survey.title not in client.get(reverse("home")).content.decode()
    assert survey.pk not in [
        poll["id"] for poll in client.get(reverse("api_polls")).json()["results"]
    ]


def test_the_building_api_lists_surveys_for_its_verified_residents_only(client, author, building):
    survey = make_survey(author)
    url = reverse("api_building_surveys", args=[building.pk])
    client.force_login(author)
    listed = client.get(url).json()["results"]
    assert [(item["id"], item["can_vote"]) for item in listed] == [(survey.pk, True)]
    client.force_login(verified_resident(BuildingFactory(), "1"))
    assert client.get(url).status_code == 404


# --- voting -----------------------------------------------------------------------------------


def test_one_vote_per_apartment_the_first_counts(client, author, building):
    survey = make_survey(author, vote_unit="apartment")
    _question, yes, no = yes_no(survey)
    husband, wife = verified_resident(building, "4"), verified_resident(building, "4")
    cast(husband, survey, yes)
    with pytest.raises(VoteRefused) as refused:
        cast(wife, survey, no)
    assert refused.value.refusal.code == "apartment_voted"
    client.force_login(wife)
    page = client.get(reverse("poll_detail", args=[survey.pk])).content.decode()
    assert "A resident of your apartment has already voted" in page
    assert Ballot.objects.filter(poll=survey).count() == 1
    cast(verified_resident(building, "5"), survey, no)  # another apartment votes


def test_per_resident_surveys_take_every_flatmate(author, building):
    survey = make_survey(author)
    _question, yes, no = yes_no(survey)
    cast(verified_resident(building, "4"), survey, yes)
    cast(verified_resident(building, "4"), survey, no)
    assert Participation.objects.filter(poll=survey).count() == 2


@pytest.mark.django_db(transaction=True)
def test_flatmates_voting_at_once_get_one_vote_in(city_groups):
    """Six residents of one apartment vote at the same moment from six connections: the
    database's unique constraint lets exactly one ballot in."""
    building = BuildingFactory(apartments=10)
    author = verified_resident(building, "1")
    survey = make_survey(author, vote_unit="apartment")
    _question, yes, _no = yes_no(survey)
    flatmates = [verified_resident(building, "7") for _ in range(6)]
    barrier = threading.Barrier(len(flatmates))
    outcomes = []

    def vote(user):
        barrier.wait()
        try:
            cast(user, survey, yes)
            outcomes.append("voted")
        except VoteRefused as refused:
            outcomes.append(refused.refusal.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=vote, args=(user,)) for user in flatmates]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["apartment_voted"] * 5 + ["voted"]
    assert Ballot.objects.filter(poll=survey).count() == 1


def test_a_secret_survey_keeps_no_voter_and_shows_results_after_closing(client, author, building):
    survey = make_survey(author)
    _question, yes, _no = yes_no(survey)
    neighbour = verified_resident(building, "2", birth_year=1950, gender="male")
    cast(neighbour, survey, yes)
    ballot = Ballot.objects.get(poll=survey)
    assert (ballot.voter, ballot.apartment, ballot.age_band, ballot.gender) == (
        None,
        "",
        "unknown",
        "",
    )  # nothing that would single a neighbour out
    client.force_login(neighbour)
    detail = client.get(reverse("poll_detail", args=[survey.pk])).content.decode()
    assert "Secret ballot:" not in detail or "nobody, the author included" in detail
    assert client.get(reverse("poll_results", args=[survey.pk])).status_code == 403
    close(survey)
    page = client.get(reverse("poll_results", args=[survey.pk])).content.decode()
    assert "How neighbours voted" not in page


def test_an_open_survey_shows_who_voted_for_what(client, author, building):
    survey = make_survey(author, open_ballot=True)
    _question, yes, no = yes_no(survey)
    client.force_login(author)
    detail = client.get(reverse("poll_detail", args=[survey.pk])).content.decode()
    assert "Open ballot:" in detail  # said before anyone votes
    cast(author, survey, yes)
    cast(verified_resident(building, "3", first_name="Иван", last_name="Сидоров"), survey, no)
    poll_tally(poll_id=survey.pk, final=False)
    page = client.get(reverse("poll_results", args=[survey.pk])).content.decode()
    assert "How neighbours voted" in page
    assert page.index("Анна Петрова") < page.index("Иван Сидоров")  # by apartment
    table = page[page.index("How neighbours voted") :]
    assert "Да" in table and "Нет" in table


# --- results --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("apartments_voting", "reached"), [(5, True), (4, False)])
def test_results_show_turnout_and_whether_the_quorum_was_reached(
    client, author, building, apartments_voting, reached
):
    """10 apartments, quorum 50%: five apartments reach it, four do not."""
    survey = make_survey(author, quorum_percent=50)
    _question, yes, _no = yes_no(survey)
    cast(author, survey, yes)  # apartment 1
    cast(verified_resident(building, "1"), survey, yes)  # apartment 1 again: one apartment
    for apartment in range(2, apartments_voting + 1):
        cast(verified_resident(building, str(apartment)), survey, yes)
    verified_resident(building, "9")  # verified, did not vote
    close(survey)
    client.force_login(author)
    response = client.get(reverse("poll_results", args=[survey.pk]))
    turnout = response.context["turnout"]
    assert (turnout.apartments_voted, turnout.apartments, turnout.quorum_apartments) == (
        apartments_voting,
        10,
        5,
    )
    assert turnout.voters == apartments_voting + 1
    assert turnout.verified_residents == apartments_voting + 2
    assert turnout.quorum_reached is reached
    assert ("Reached" if reached else "Not reached") in response.content.decode()
    api = client.get(reverse("api_results", args=[survey.pk])).json()
    assert api["turnout"]["quorum_reached"] is reached


# --- moderation ---------------------------------------------------------------------------------


def test_a_neighbour_reports_once_and_admins_hide_with_a_reason(
    client, author, building, city_groups
):
    from django.contrib.auth.models import Group

    survey = make_survey(author)
    neighbour = verified_resident(building, "2")
    client.force_login(neighbour)
    url = reverse("survey_report", args=[survey.pk])
    assert client.post(url, {"reason": ""}).status_code == 400
    assert client.post(url, {"reason": "Реклама"}).status_code == 302
    assert client.post(url, {"reason": "Реклама"}).status_code == 409
    assert SurveyReport.objects.get().reason == "Реклама"

    admin = UserFactory(is_staff=True)
    admin.groups.add(Group.objects.get(name="City admins"))
    client.force_login(admin)
    listing = client.get(reverse("admin:polls_buildingsurvey_changelist")).content.decode()
    assert survey.title in listing
    change = reverse("admin:polls_buildingsurvey_change", args=[survey.pk])
    report = SurveyReport.objects.get()
    inline = {  # the read-only list of reports on the page
        "reports-TOTAL_FORMS": "1",
        "reports-INITIAL_FORMS": "1",
        "reports-0-id": str(report.pk),
        "reports-0-poll": str(survey.pk),
    }
    refused = client.post(change, {"hide": "on", "reason": "", **inline})
    assert "Give the reason" in refused.content.decode()
    hidden = client.post(change, {"hide": "on", "reason": "Реклама, не опрос", **inline})
    assert hidden.status_code == 302

    client.force_login(neighbour)
    assert client.get(reverse("poll_detail", args=[survey.pk])).status_code == 404
    client.force_login(author)
    page = client.get(reverse("poll_detail", args=[survey.pk])).content.decode()
    assert "Реклама, не опрос" in page
    assert Notification.objects.get(user=author, kind="survey_hidden").params["reason"] == (
        "Реклама, не опрос"
    )
    with pytest.raises(VoteRefused) as refused:
        cast(author, survey, yes_no(survey)[1])
    assert refused.value.refusal.code == "survey_hidden"

    survey_unhide(poll=survey)
    client.force_login(neighbour)
    assert client.get(reverse("poll_detail", args=[survey.pk])).status_code == 200


def test_hiding_needs_a_reason_and_a_hidden_survey_frees_the_authors_quota(author, settings):
    settings.BUILDING_SURVEY_MAX_OPEN = 1
    survey = make_survey(author)
    with pytest.raises(SurveyError, match="reason"):
        survey_hide(poll=survey, reason="  ")
    survey_hide(poll=survey, reason="Спам")
    make_survey(author)


def test_reporting_needs_a_reason(author, building):
    with pytest.raises(SurveyError):
        survey_report(user=verified_resident(building, "2"), poll=make_survey(author), reason=" ")


# --- pages ----------------------------------------------------------------------------------------


def test_my_building_lists_surveys_with_constant_queries(
    client, author, building, django_assert_max_num_queries
):
    client.force_login(author)

    def page_queries() -> int:
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("my_building"))
        assert response.status_code == 200
        return len(captured)

    make_survey(author)
    one = page_queries()
    make_survey(author, open_ballot=True)
    close(make_survey(author))
    assert page_queries() == one
    page = client.get(reverse("my_building")).content.decode()
    assert "Open surveys" in page and "Closed surveys" in page
    assert re.search(r"1 verified resident,\s+in 1 apartment<", page)


def test_my_building_asks_unverified_residents_to_verify(client, building):
    client.force_login(UserFactory(home_building=building))
    page = client.get(reverse("my_building")).content.decode()
    assert "Verify that you live here" in page
    assert client.get(reverse("survey_new")).status_code == 302


def test_the_survey_form_creates_a_survey_with_several_question_kinds(client, author):
    client.force_login(author)
    closes = (timezone.localtime() + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    data = {
        "title": "Субботник",
        "description": "",
        "opens_at": "",
        "closes_at": closes,
        "vote_unit": "apartment",
        "open_ballot": "true",
        "quorum_percent": "30",
        "questions-TOTAL_FORMS": "3",
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "1",
        "questions-MAX_NUM_FORMS": "30",
        "questions-0-text": "Когда?",
        "questions-0-kind": "single",
        "questions-0-required": "on",
        "questions-0-options": "Суббота\nВоскресенье",
        "questions-0-other": "on",
        "questions-0-scale_min": "1",
        "questions-0-scale_max": "5",
        "questions-1-text": "Насколько важно?",
        "questions-1-kind": "scale",
        "questions-1-required": "on",
        "questions-1-options": "",
        "questions-1-scale_min": "1",
        "questions-1-scale_max": "10",
        # the third form is left as the page shows it: skipped
        "questions-2-text": "",
        "questions-2-kind": "single",
        "questions-2-required": "on",
        "questions-2-options": "",
        "questions-2-scale_min": "1",
        "questions-2-scale_max": "5",
    }
    response = client.post(reverse("survey_new"), data)
    assert response.status_code == 302
    survey = Poll.objects.get(title="Субботник")
    assert (survey.vote_unit, survey.open_ballot, survey.quorum_percent) == ("apartment", True, 30)
    questions = list(survey.questions.all())
    assert [q.kind for q in questions] == ["single", "scale"]
    assert [o.text for o in questions[0].options.all()] == ["Суббота", "Воскресенье", "Other"]
    assert questions[0].options.last().is_other
    assert questions[1].scale_max == 10

    bad = dict(data, **{"questions-0-options": "Только одна", "questions-0-other": ""})
    bad["title"] = "Плохой"
    response = client.post(reverse("survey_new"), bad)
    assert response.status_code == 400
    assert "Give at least two options" in response.content.decode()
    too_long = dict(
        data, closes_at=(timezone.localtime() + timedelta(days=40)).strftime("%Y-%m-%dT%H:%M")
    )
    response = client.post(reverse("survey_new"), too_long)
    assert response.status_code == 400
    assert "at most 30 days" in response.content.decode()


def test_api_creates_surveys_and_refuses_bad_ones_with_the_reason(client, author, building):
    url = reverse("api_building_surveys", args=[building.pk])
    client.force_login(author)
    body = survey_input(
        closes_at=(timezone.now() + timedelta(days=3)).isoformat(), open_ballot=True
    )
    created = client.post(url, body, "application/json")
    assert created.status_code == 201
    assert created.json()["open_ballot"] is True
    too_long = dict(body, closes_at=(timezone.now() + timedelta(days=45)).isoformat())
    refused = client.post(url, too_long, "application/json")
    assert refused.status_code == 400 and "30 days" in refused.json()["detail"]
    other = reverse("api_building_surveys", args=[BuildingFactory().pk])
    assert client.post(other, body, "application/json").status_code == 404
    report = reverse("api_report", args=[created.json()["id"]])
    client.force_login(verified_resident(building, "2"))
    assert client.post(report, {"reason": "Спам"}, "application/json").status_code == 204
    assert client.post(report, {"reason": "Спам"}, "application/json").status_code == 409


def test_an_author_who_moved_away_loses_the_surveys_exports(client, author, building):
    survey = make_survey(author)
    close(survey)
    url = reverse("staff_export", args=[survey.pk, "ballots"])
    client.force_login(author)
    assert client.get(url).status_code == 200
    User.objects.filter(pk=author.pk).update(
        home_building=BuildingFactory(), verified_building=None, verified_apartment=""
    )
    assert client.get(url).status_code == 403


def test_a_survey_page_costs_no_more_queries_than_a_city_poll_page(client, author, building):
    """The survey is read once, by the same selector as city polls (not looked up as a
    city poll first and again as a survey)."""
    from django.test.utils import CaptureQueriesContext

    from tests.polls.factories import PollFactory, question_with_options

    survey = make_survey(author)
    city_poll = PollFactory()
    question_with_options(city_poll)
    client.force_login(author)

    def queries(poll) -> int:
        client.get(reverse("poll_detail", args=[poll.pk]))  # the structure is remembered
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("poll_detail", args=[poll.pk])).status_code == 200
        return len(captured)

    assert queries(survey) <= queries(city_poll)


def test_my_building_tells_a_flatmate_that_the_apartment_has_voted(client, author, building):
    """The list says what the survey page and the vote say: in a one-vote-per-apartment
    survey, a flatmate of someone who voted is not offered a vote."""
    survey = make_survey(author, vote_unit="apartment")
    husband, wife = verified_resident(building, "4"), verified_resident(building, "4")
    cast(husband, survey, yes_no(survey)[1])
    client.force_login(wife)
    card = client.get(reverse("my_building")).context["surveys"].open[0]
    assert card.refusal.code == "apartment_voted"
    page = client.get(reverse("my_building")).content.decode()
    assert "A resident of your apartment has already voted" in page
