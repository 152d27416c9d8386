from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from polls.models import Ballot, Participation, PollStatus, ResultsVisibility, Scope
from polls.services import poll_results_publish, poll_tally
from tests.accounts.factories import UserFactory
from tests.civic.factories import BuildingFactory
from tests.polls.factories import PollFactory, question_with_options, three_question_poll


def form_data(poll) -> dict:
    single, multiple, scale = poll.questions.all()
    first_two = [str(o.pk) for o in multiple.options.all()[:2]]
    return {
        f"q{single.pk}": str(single.options.first().pk),
        f"q{multiple.pk}": first_two,
        f"q{scale.pk}": "4",
    }


@pytest.fixture
def resident(db, client):
    """A signed-in resident reading the site in English (the messages asserted here)."""
    user = UserFactory(language="en")
    client.force_login(user)
    return user


def test_resident_votes_in_the_browser_and_sees_the_receipt(client, resident):
    poll = three_question_poll(results_visibility=ResultsVisibility.LIVE)
    page = client.get(reverse("poll_detail", args=[poll.pk]))
    assert page.status_code == 200
    assert "A vote cannot be changed once it is cast" in page.content.decode()

    thanks = client.post(reverse("poll_detail", args=[poll.pk]), form_data(poll))
    assert thanks.status_code == 201
    receipt = Ballot.objects.get(poll=poll).receipt
    assert receipt in thanks.content.decode()
    assert thanks.context["results"].computed_at is None  # live results: counted every minute
    assert receipt not in str(dict(client.session))  # nothing ties the receipt to the resident

    poll_tally(poll_id=poll.pk, final=False)
    results = client.get(reverse("poll_results", args=[poll.pk]))
    assert results.context["results"].participants == 1


def test_invalid_vote_is_a_400_with_errors_next_to_questions_and_answers_kept(client, resident):
    poll = three_question_poll()
    single, multiple, scale = poll.questions.all()
    data = form_data(poll)
    data[f"q{multiple.pk}"] = [str(o.pk) for o in multiple.options.all()[:3]]  # too many
    del data[f"q{scale.pk}"]  # required, missing
    response = client.post(reverse("poll_detail", args=[poll.pk]), data)
    assert response.status_code == 400
    assert response.context["errors"] == {
        multiple.pk: ["Choose at most 2 options."],
        scale.pk: ["This question needs an answer."],
    }
    page = response.content.decode()
    assert f'id="q{multiple.pk}-errors"' in page and f'id="q{scale.pk}-errors"' in page
    assert f'value="{single.options.first().pk}" checked' in page  # the resident's answer kept
    assert not Participation.objects.exists()


def test_garbage_in_the_form_is_a_400_not_a_500(client, resident):
    poll = three_question_poll()
    single = poll.questions.first()
    response = client.post(reverse("poll_detail", args=[poll.pk]), {f"q{single.pk}": "abc"})
    assert response.status_code == 400
    assert single.pk in response.context["errors"]


def test_second_vote_is_a_409_saying_already_voted(client, resident):
    poll = three_question_poll()
    client.post(reverse("poll_detail", args=[poll.pk]), form_data(poll))
    response = client.post(reverse("poll_detail", args=[poll.pk]), form_data(poll))
    assert response.status_code == 409
    assert response.context["refusal"].code == "already_voted"
    assert Ballot.objects.filter(poll=poll).count() == 1


def test_out_of_scope_resident_is_told_why(client, resident):
    """Not a bare 403: the page names the poll's areas and the resident's district."""
    elsewhere = BuildingFactory()
    poll = three_question_poll(scope=Scope.AREAS, districts=[elsewhere.district])
    page = client.get(reverse("poll_detail", args=[poll.pk]))
    assert page.context["refusal"].code == "out_of_scope"
    text = page.content.decode()
    assert elsewhere.district.name in text and resident.home_building.district.name in text
    response = client.post(reverse("poll_detail", args=[poll.pk]), form_data(poll))
    assert response.status_code == 403
    assert not Ballot.objects.exists()


def test_closed_poll_refuses_with_409(client, resident):
    now = timezone.now()
    poll = three_question_poll(opens_at=now - timedelta(days=3), closes_at=now - timedelta(days=1))
    response = client.post(reverse("poll_detail", args=[poll.pk]), form_data(poll))
    assert response.status_code == 409
    assert response.context["refusal"].code == "poll_closed"


def test_anonymous_visitor_sees_the_poll_and_is_asked_to_sign_in(client, db):
    poll = three_question_poll()
    page = client.get(reverse("poll_detail", args=[poll.pk]))
    assert page.context["refusal"].code == "not_signed_in"
    response = client.post(reverse("poll_detail", args=[poll.pk]), form_data(poll))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


def test_drafts_and_building_surveys_are_404_for_residents(client, resident):
    draft = three_question_poll(status=PollStatus.DRAFT)
    survey = PollFactory(scope=Scope.BUILDING, building=resident.home_building)
    assert client.get(reverse("poll_detail", args=[draft.pk])).status_code == 404
    assert client.get(reverse("poll_detail", args=[survey.pk])).status_code == 404
    assert client.get(reverse("poll_detail", args=[999999])).status_code == 404


def test_admin_previews_a_draft(admin_client, db):
    draft = three_question_poll(status=PollStatus.DRAFT)
    page = admin_client.get(reverse("poll_detail", args=[draft.pk]))
    assert page.status_code == 200
    assert page.context["refusal"].code == "poll_not_published"


def test_results_after_close_appear_once_published(client, resident):
    """ "After closing" results are hidden while the poll is open and while it is being
    counted, and shown once the final results are published; live ones show at once."""
    poll = three_question_poll(results_visibility=ResultsVisibility.AFTER_CLOSE)
    assert client.get(reverse("poll_results", args=[poll.pk])).status_code == 403
    live = three_question_poll(results_visibility=ResultsVisibility.LIVE)
    assert client.get(reverse("poll_results", args=[live.pk])).status_code == 200
    closed = closed_poll()
    assert client.get(reverse("poll_results", args=[closed.pk])).status_code == 403
    poll_tally(poll_id=closed.pk, final=True)
    poll_results_publish(poll_id=closed.pk)
    assert client.get(reverse("poll_results", args=[closed.pk])).status_code == 200


def closed_poll(**fields):
    now = timezone.now()
    return three_question_poll(
        opens_at=now - timedelta(days=3), closes_at=now - timedelta(seconds=1), **fields
    )


def make_polls(count: int, resident) -> None:
    now = timezone.now()
    for index in range(count):
        three_question_poll()
        three_question_poll(scope=Scope.AREAS, districts=[BuildingFactory().district])
        three_question_poll(opens_at=now + timedelta(days=1), closes_at=now + timedelta(days=2))
        closed = three_question_poll(
            opens_at=now - timedelta(days=5), closes_at=now - timedelta(days=index + 1)
        )
        Participation.objects.create(user=resident, poll=closed)


def test_home_page_sorts_polls_for_the_resident(client, resident):
    make_polls(1, resident)
    polls = client.get(reverse("home")).context["polls"]
    assert (
        len(polls.can_vote),
        len(polls.cannot_vote),
        len(polls.upcoming),
        len(polls.closed),
    ) == (1, 1, 1, 1)
    assert polls.closed[0].has_voted


def test_home_page_query_count_is_constant_in_the_number_of_polls(
    client, resident, django_assert_num_queries
):
    make_polls(1, resident)
    with django_assert_num_queries(11) as few:
        client.get(reverse("home"))
    make_polls(4, resident)
    with django_assert_num_queries(len(few)):
        response = client.get(reverse("home"))
    assert len(response.context["polls"].closed) == 5


def test_anonymous_home_shows_only_citywide_polls(client, db):
    city = three_question_poll()
    three_question_poll(scope=Scope.AREAS, districts=[BuildingFactory().district])
    polls = client.get(reverse("home")).context["polls"]
    assert [card.poll for card in polls.cannot_vote] == [city]


def test_results_page_query_count_is_constant_in_the_number_of_questions(
    client, resident, django_assert_num_queries
):
    def published(poll):
        poll_tally(poll_id=poll.pk, final=True)
        poll_results_publish(poll_id=poll.pk)
        return poll

    small = published(closed_poll())
    # session, user, unread badge, points balance, poll + scope + questions + options,
    # 3 result queries, 3 breakdown queries (+2 for area names, none here: no addresses),
    # the decisions taken after the poll (+1 for their timelines, none here)
    with django_assert_num_queries(16) as counted:
        client.get(reverse("poll_results", args=[small.pk]))
    big = closed_poll()
    for _ in range(6):
        question_with_options(big, options=4)
    published(big)
    with django_assert_num_queries(len(counted)):
        assert client.get(reverse("poll_results", args=[big.pk])).status_code == 200


def test_ranking_matrix_text_and_other_answers_through_the_form(client, resident):
    """Every kind of question, answered through the page's own field names."""
    poll = PollFactory()
    single = question_with_options(poll, "single", options=1)
    other = single.options.create(text="Другое", is_other=True, position=9)
    ranking = question_with_options(poll, "ranking", options=3, max_choices=2)
    matrix = question_with_options(poll, "matrix", options=2, scale_min=1, scale_max=3)
    text = poll.questions.create(kind="text", text="Пожелания", max_length=50, position=9)
    first, second, third = ranking.options.all()
    row_a, row_b = matrix.options.all()
    data = {
        f"q{single.pk}": str(other.pk),
        f"q{single.pk}_other": "Сквер",
        f"q{ranking.pk}_rank_{second.pk}": "1",
        f"q{ranking.pk}_rank_{first.pk}": "2",
        f"q{matrix.pk}_row_{row_a.pk}": "3",
        f"q{matrix.pk}_row_{row_b.pk}": "1",
        f"q{text.pk}": "Больше деревьев",
    }
    response = client.post(reverse("poll_detail", args=[poll.pk]), data)
    assert response.status_code == 201
    answers = Ballot.objects.get(poll=poll).answers
    assert answers.get(option=other).text == "Сквер"
    assert dict(answers.filter(question=ranking).values_list("option", "value")) == {
        second.pk: 1,
        first.pk: 2,
    }
    assert dict(answers.filter(question=matrix).values_list("option", "value")) == {
        row_a.pk: 3,
        row_b.pk: 1,
    }
    assert answers.get(question=text).text == "Больше деревьев"


@pytest.mark.parametrize("place", ["0", "3", "-5", "1"])
def test_ranking_places_out_of_range_or_shared_are_a_400(client, resident, place):
    poll = PollFactory()
    ranking = question_with_options(poll, "ranking", options=3, max_choices=2)
    first, second, _third = ranking.options.all()
    data = {f"q{ranking.pk}_rank_{first.pk}": "1", f"q{ranking.pk}_rank_{second.pk}": place}
    response = client.post(reverse("poll_detail", args=[poll.pk]), data)
    assert response.status_code == 400
    assert ranking.pk in response.context["errors"]
