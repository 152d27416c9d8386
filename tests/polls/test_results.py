import pytest

from accounts.selectors import resident_with_home
from polls.models import GroupTally, OptionTally, QuestionKind, QuestionTally
from polls.selectors import (
    MIN_BREAKDOWN_CELL,
    hidden_groups,
    poll_breakdown,
    poll_results,
    poll_with_questions,
)
from polls.services import ballot_cast, poll_tally
from polls.validation import AnswerInput
from tests.accounts.factories import UserFactory
from tests.civic.factories import BuildingFactory, DistrictFactory, OkrugFactory
from tests.polls.factories import PollFactory, QuestionFactory, question_with_options


def vote(poll, answers, **user_fields):
    ballot_cast(
        user=resident_with_home(user_id=UserFactory(**user_fields).pk),
        poll=poll_with_questions(poll_id=poll.pk),
        answers=answers,
    )


def results(poll):
    poll_tally(poll_id=poll.pk, final=False)
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
    for index in range(20):
        choice = yes if index < 14 else no
        vote(poll, [AnswerInput(single.pk, (choice.pk,))], home_building=big)
    vote(poll, [AnswerInput(single.pk, (no.pk,))], home_building=small)
    # a third district of 10, hidden as well: one hidden group alone could be subtracted
    third = BuildingFactory()
    for _ in range(MIN_BREAKDOWN_CELL):
        vote(poll, [AnswerInput(single.pk, (yes.pk,))], home_building=third)
    poll_tally(poll_id=poll.pk, final=False)
    assert poll_breakdown(poll=poll) == []  # no breakdowns before the final count
    poll_tally(poll_id=poll.pk, final=True)

    by_district = {b.dimension: b for b in poll_breakdown(poll=poll)}["district"]
    groups = {group.label: group for group in by_district.groups}
    shown, hidden = groups[big.district.name], groups[small.district.name]
    assert (shown.hidden, shown.ballots, shown.shares[single.pk]) == (
        False,
        20,
        {yes.pk: 70.0, no.pk: 30.0},
    )
    assert hidden.hidden and hidden.shares == {}
    assert groups[third.district.name].hidden and by_district.hidden_count == 2


@pytest.mark.django_db
def test_results_take_a_fixed_number_of_queries(django_assert_max_num_queries):
    poll = PollFactory()
    questions = [question_with_options(poll, QuestionKind.SINGLE, options=2) for _ in range(5)]
    for _ in range(3):
        vote(poll, [AnswerInput(q.pk, (q.options.first().pk,)) for q in questions])
    poll_tally(poll_id=poll.pk, final=True)
    full_poll = poll_with_questions(poll_id=poll.pk)
    with django_assert_max_num_queries(3):
        poll_results(poll=full_poll)
    with django_assert_max_num_queries(5):
        poll_breakdown(poll=full_poll)


@pytest.mark.parametrize(
    ("ballots", "hidden"),
    [
        ({"a": 50, "b": 30}, set()),
        ({"a": 50, "b": 30, "c": 4}, {"c", "b"}),  # one hidden alone = total minus the rest
        ({"a": 50, "b": 30, "c": 4, "d": 3}, {"c", "d", "b"}),  # 7 together: still too few
        ({"a": 50, "b": 30, "c": 9, "d": 8}, {"c", "d"}),
        ({"a": 5}, {"a"}),
    ],
)
def test_hidden_groups_cannot_be_worked_out_by_subtraction(ballots, hidden):
    assert hidden_groups(ballots) == hidden


@pytest.mark.django_db
def test_tally_twice_stores_the_same_rows():
    poll = PollFactory()
    single = question_with_options(poll, QuestionKind.SINGLE, options=2)
    for _ in range(3):
        vote(poll, [AnswerInput(single.pk, (single.options.first().pk,))])
    poll_tally(poll_id=poll.pk, final=True)
    first = stored_rows(poll)
    poll_tally(poll_id=poll.pk, final=True)
    assert stored_rows(poll) == first
    assert first[0] == [(single.pk, single.options.first().pk, None, "", "", 3)]


def stored_rows(poll):
    return (
        sorted(
            OptionTally.objects.filter(poll=poll, dimension="").values_list(
                "question_id", "option_id", "value", "dimension", "group", "count"
            )
        ),
        sorted(GroupTally.objects.filter(poll=poll).values_list("dimension", "group", "ballots")),
        list(QuestionTally.objects.filter(poll=poll).values_list("question_id", "answered")),
    )


@pytest.mark.django_db
def test_a_hidden_district_cannot_be_recovered_from_its_okrug():
    """Okrug A: districts of 30 and 5 voters; okrug B: 30 and 6. Hiding only the small ones
    would let "okrug minus its shown district" give them away: their big neighbours hide too."""
    poll = PollFactory()
    single = question_with_options(poll, QuestionKind.SINGLE, options=2)
    yes, no = single.options.all()
    for okrug_index, (big, small) in enumerate(((30, 5), (30, 6))):
        okrug = OkrugFactory(name=f"Округ {okrug_index}")
        for size in (big, small):
            building = BuildingFactory(district=DistrictFactory(okrug=okrug))
            for _ in range(size):
                vote(
                    poll,
                    [AnswerInput(single.pk, (yes.pk if size > 10 else no.pk,))],
                    home_building=building,
                )
    poll_tally(poll_id=poll.pk, final=True)
    by_district = {b.dimension: b for b in poll_breakdown(poll=poll)}["district"]
    assert by_district.shown_groups == []
    by_okrug = {b.dimension: b for b in poll_breakdown(poll=poll)}["okrug"]
    assert len(by_okrug.shown_groups) == 2
