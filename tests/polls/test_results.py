import pytest

from accounts.selectors import resident_with_home
from polls.models import QuestionKind
from polls.selectors import MIN_BREAKDOWN_CELL, poll_breakdown, poll_results, poll_with_questions
from polls.services import ballot_cast
from polls.validation import AnswerInput
from tests.accounts.factories import UserFactory
from tests.civic.factories import BuildingFactory
from tests.polls.factories import PollFactory, QuestionFactory, question_with_options


def vote(poll, answers, **user_fields):
    ballot_cast(
        user=resident_with_home(user_id=UserFactory(**user_fields).pk),
        poll=poll_with_questions(poll_id=poll.pk),
        answers=answers,
    )


def results(poll):
    return poll_results(poll=poll_with_questions(poll_id=poll.pk))


@pytest.mark.django_db
def test_single_and_multiple_choice_counts_and_percentages():
    """Multiple choice is counted per option (percent of respondents), not per combination."""
    poll = PollFactory()
    single = question_with_options(poll, QuestionKind.SINGLE, options=2)
    multiple = question_with_options(poll, QuestionKind.MULTIPLE, options=3)
    a, b = single.options.all()
    x, y, z = multiple.options.all()
    vote(poll, [AnswerInput(single.pk, (a.pk,)), AnswerInput(multiple.pk, (x.pk, y.pk))])
    vote(poll, [AnswerInput(single.pk, (a.pk,)), AnswerInput(multiple.pk, (x.pk,))])
    vote(poll, [AnswerInput(single.pk, (b.pk,)), AnswerInput(multiple.pk, (x.pk, z.pk))])
    vote(poll, [AnswerInput(single.pk, (a.pk,)), AnswerInput(multiple.pk, (y.pk,))])

    outcome = results(poll)
    assert outcome.participants == 4
    first, second = outcome.questions
    assert [(s.count, s.percent) for s in first.shares] == [(3, 75.0), (1, 25.0)]
    assert [(s.count, s.percent) for s in second.shares] == [(3, 75.0), (2, 50.0), (1, 25.0)]


@pytest.mark.django_db
def test_scale_average_and_distribution():
    poll = PollFactory()
    scale = QuestionFactory(poll=poll, kind=QuestionKind.SCALE, scale_min=1, scale_max=5)
    for value in (5, 4, 4, 1):
        vote(poll, [AnswerInput(scale.pk, value=value)])
    result = results(poll).questions[0]
    assert result.average == 3.5
    assert [s.count for s in result.shares] == [1, 0, 0, 2, 1]


@pytest.mark.django_db
def test_ranking_by_borda_score_and_first_preferences():
    """Top 2 of 3: first place earns 2 points, second 1."""
    poll = PollFactory()
    ranking = question_with_options(poll, QuestionKind.RANKING, options=3, max_choices=2)
    park, school, road = ranking.options.all()
    vote(poll, [AnswerInput(ranking.pk, (park.pk, school.pk))])
    vote(poll, [AnswerInput(ranking.pk, (school.pk, park.pk))])
    vote(poll, [AnswerInput(ranking.pk, (road.pk, park.pk))])
    ranked = results(poll).questions[0].ranking
    assert [(r.option, r.borda, r.first_preferences) for r in ranked] == [
        (park, 4, 1),
        (school, 3, 1),
        (road, 2, 1),
    ]


@pytest.mark.django_db
def test_matrix_rows_have_averages():
    poll = PollFactory()
    matrix = question_with_options(poll, QuestionKind.MATRIX, options=2, scale_min=1, scale_max=3)
    light, clean = matrix.options.all()
    vote(poll, [AnswerInput(matrix.pk, rows={light.pk: 3, clean.pk: 1})])
    vote(poll, [AnswerInput(matrix.pk, rows={light.pk: 2, clean.pk: 1})])
    rows = results(poll).questions[0].rows
    assert [(row.option, row.average) for row in rows] == [(light, 2.5), (clean, 1.0)]
    assert [share.count for share in rows[0].distribution] == [0, 1, 1]


@pytest.mark.django_db
def test_free_text_is_counted_but_not_shown():
    poll = PollFactory()
    text = QuestionFactory(poll=poll, kind=QuestionKind.TEXT)
    vote(poll, [AnswerInput(text.pk, text="Почините лифт")])
    result = results(poll).questions[0]
    assert result.answered == 1 and result.shares == []


@pytest.mark.django_db
def test_breakdown_hides_groups_under_ten_ballots():
    poll = PollFactory()
    single = question_with_options(poll, QuestionKind.SINGLE, options=2)
    yes, no = single.options.all()
    big, small = BuildingFactory(), BuildingFactory()
    for index in range(MIN_BREAKDOWN_CELL):
        choice = yes if index < 7 else no
        vote(poll, [AnswerInput(single.pk, (choice.pk,))], home_building=big)
    vote(poll, [AnswerInput(single.pk, (no.pk,))], home_building=small)

    by_district = {b.dimension: b for b in poll_breakdown(poll=poll)}["district"]
    groups = {group.label: group for group in by_district.groups}
    shown, hidden = groups[big.district.name], groups[small.district.name]
    assert (shown.hidden, shown.ballots, shown.shares[single.pk]) == (
        False,
        10,
        {yes.pk: 70.0, no.pk: 30.0},
    )
    assert hidden.hidden and hidden.shares == {}


@pytest.mark.django_db
def test_results_take_a_fixed_number_of_queries(django_assert_max_num_queries):
    poll = PollFactory()
    questions = [question_with_options(poll, QuestionKind.SINGLE, options=2) for _ in range(5)]
    for _ in range(3):
        vote(poll, [AnswerInput(q.pk, (q.options.first().pk,)) for q in questions])
    full_poll = poll_with_questions(poll_id=poll.pk)
    with django_assert_max_num_queries(3):
        poll_results(poll=full_poll)
    with django_assert_max_num_queries(8):
        poll_breakdown(poll=full_poll)
