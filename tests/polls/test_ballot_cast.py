from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.selectors import resident_with_home
from polls.models import Answer, Ballot, Participation, PollStatus, QuestionKind, Scope
from polls.selectors import poll_with_questions
from polls.services import VoteRefused, ballot_cast
from polls.validation import AnswerInput, InvalidBallot
from tests.accounts.factories import UserFactory
from tests.civic.factories import BuildingFactory, DistrictFactory
from tests.polls.factories import (
    OptionFactory,
    PollFactory,
    QuestionFactory,
    question_with_options,
    three_question_poll,
)


def cast(user, poll, answers):
    return ballot_cast(
        user=resident_with_home(user_id=user.pk),
        poll=poll_with_questions(poll_id=poll.pk),
        answers=answers,
    )


def valid_answers(poll) -> list[AnswerInput]:
    single, multiple, scale = poll.questions.all()
    return [
        AnswerInput(question=single.pk, options=(single.options.first().pk,)),
        AnswerInput(question=multiple.pk, options=tuple(o.pk for o in multiple.options.all()[:2])),
        AnswerInput(question=scale.pk, value=4),
    ]


def nothing_written(poll) -> bool:
    return not (
        Participation.objects.filter(poll=poll).exists()
        or Ballot.objects.filter(poll=poll).exists()
        or Answer.objects.filter(question__poll=poll).exists()
    )


@pytest.fixture
def poll(db):
    return three_question_poll()


@pytest.fixture
def resident(db):
    return UserFactory()


def test_a_vote_writes_participation_ballot_answers_and_returns_a_receipt(poll, resident):
    """A valid vote records who took part, an anonymous ballot with a receipt, and the answers."""
    result = cast(resident, poll, valid_answers(poll))
    assert len(result.receipt) == 12 and result.points == 20
    assert Participation.objects.filter(poll=poll, user=resident).count() == 1
    ballot = Ballot.objects.get(poll=poll)
    assert ballot.receipt == result.receipt
    assert ballot.district_id == resident.home_building.district_id
    assert ballot.okrug_id == resident.home_building.district.okrug_id
    assert (ballot.age_band, ballot.gender) == ("35-44", "female")
    assert ballot.answers.count() == 4  # one single, two multiple, one scale
    assert set(ballot.answers.filter(value=4).values_list("question__kind", flat=True)) == {"scale"}


def test_ballot_and_participation_cannot_be_joined(poll, resident):
    """Secret ballot: the ballot and its answers carry no user, no time and no sequential key.
    (``voter`` and ``apartment`` are filled only in open-ballot building surveys.)"""
    cast(resident, poll, valid_answers(poll))
    assert Ballot.objects.filter(poll=poll, voter__isnull=True, apartment="").count() == 1
    ballot_columns = {field.column for field in Ballot._meta.concrete_fields}
    answer_columns = {field.column for field in Answer._meta.concrete_fields}
    assert ballot_columns == {
        "id",
        "poll_id",
        "receipt",
        "okrug_id",
        "district_id",
        "age_band",
        "gender",
        "voter_id",
        "apartment",
    }
    assert answer_columns == {"id", "ballot_id", "question_id", "option_id", "value", "text"}
    for model in (Ballot, Answer):
        assert model._meta.pk.get_internal_type() == "UUIDField"  # random, not insertion order
    participation_columns = {field.column for field in Participation._meta.concrete_fields}
    assert participation_columns == {
        "id",
        "user_id",
        "poll_id",
        "voted_at",
        "apartment",
        "one_per_apartment",
        "sealed_receipt",  # only the offline audit key opens it (docs/decisions/0009)
    }


def test_query_count_does_not_grow_with_the_number_of_questions(resident):
    """Voting on a 3-question and on a 12-question poll takes the same number of queries."""

    def queries_for(question_count: int) -> int:
        poll = PollFactory()
        for _ in range(question_count):
            question_with_options(poll, QuestionKind.SINGLE, options=2)
        full_poll = poll_with_questions(poll_id=poll.pk)
        answers = [
            AnswerInput(question=q.pk, options=(q.options.all()[0].pk,))
            for q in full_poll.questions.all()
        ]
        voter = resident_with_home(user_id=UserFactory().pk)
        with CaptureQueriesContext(connection) as queries:
            ballot_cast(user=voter, poll=full_poll, answers=answers)
        return len(queries)

    assert queries_for(3) == queries_for(12)


def test_second_vote_is_refused_as_already_voted(poll, resident):
    cast(resident, poll, valid_answers(poll))
    with pytest.raises(VoteRefused) as refused:
        cast(resident, poll, valid_answers(poll))
    assert refused.value.refusal.code == "already_voted"
    assert Ballot.objects.filter(poll=poll).count() == 1


# --- time -----------------------------------------------------------------------------------


def test_vote_one_second_before_closing_is_accepted(resident):
    closes_at = timezone.now() + timedelta(hours=1)
    poll = three_question_poll(closes_at=closes_at)
    with time_machine.travel(closes_at - timedelta(seconds=1), tick=False):
        cast(resident, poll, valid_answers(poll))
    assert Ballot.objects.filter(poll=poll).count() == 1


def test_vote_at_closing_time_is_refused(resident):
    """closes_at itself is already closed: opens_at <= now < closes_at."""
    closes_at = timezone.now() + timedelta(hours=1)
    poll = three_question_poll(closes_at=closes_at)
    with time_machine.travel(closes_at, tick=False), pytest.raises(VoteRefused) as refused:
        cast(resident, poll, valid_answers(poll))
    assert refused.value.refusal.code == "poll_closed"
    assert nothing_written(poll)


def test_vote_at_opening_time_is_accepted_and_a_second_before_is_refused(resident):
    opens_at = timezone.now() + timedelta(hours=1)
    poll = three_question_poll(opens_at=opens_at, closes_at=opens_at + timedelta(days=1))
    with time_machine.travel(opens_at - timedelta(seconds=1), tick=False):
        with pytest.raises(VoteRefused) as refused:
            cast(resident, poll, valid_answers(poll))
        assert refused.value.refusal.code == "poll_not_open"
    with time_machine.travel(opens_at, tick=False):
        cast(resident, poll, valid_answers(poll))


def test_draft_poll_refuses_votes(resident):
    poll = three_question_poll(status=PollStatus.DRAFT)
    with pytest.raises(VoteRefused) as refused:
        cast(resident, poll, valid_answers(poll))
    assert refused.value.refusal.code == "poll_not_published"
    assert nothing_written(poll)


# --- scope and age --------------------------------------------------------------------------


def test_district_poll_accepts_its_residents_and_refuses_others(db):
    home = BuildingFactory()
    poll = three_question_poll(scope=Scope.AREAS, districts=[home.district])
    cast(UserFactory(home_building=home), poll, valid_answers(poll))
    with pytest.raises(VoteRefused) as refused:
        cast(UserFactory(), poll, valid_answers(poll))
    assert refused.value.refusal.code == "out_of_scope"
    assert home.district.name in refused.value.refusal.message


def test_okrug_poll_accepts_every_district_of_the_okrug(db):
    home = BuildingFactory()
    neighbour_district = DistrictFactory(okrug=home.district.okrug)
    poll = three_question_poll(scope=Scope.AREAS, okrugs=[home.district.okrug])
    cast(
        UserFactory(home_building=BuildingFactory(district=neighbour_district)),
        poll,
        valid_answers(poll),
    )
    assert Ballot.objects.get(poll=poll).district == neighbour_district


def test_area_poll_refuses_a_resident_without_an_address(db):
    poll = three_question_poll(scope=Scope.AREAS, districts=[DistrictFactory()])
    with pytest.raises(VoteRefused) as refused:
        cast(UserFactory(home_building=None), poll, valid_answers(poll))
    assert refused.value.refusal.code == "no_address"


def test_citywide_poll_needs_no_address(db):
    poll = three_question_poll()
    cast(UserFactory(home_building=None), poll, valid_answers(poll))
    assert Ballot.objects.get(poll=poll).district is None


@pytest.mark.parametrize(
    ("birth_year", "code"),
    [(2009, "too_young"), (2008, None), (None, "no_birth_year")],
)
def test_minimum_age_counts_the_age_reached_this_year(db, birth_year, code):
    resident = UserFactory(birth_year=birth_year)
    with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 6, 1)), tick=False):
        poll = three_question_poll(min_age=18)
        if code is None:
            cast(resident, poll, valid_answers(poll))
        else:
            with pytest.raises(VoteRefused) as refused:
                cast(resident, poll, valid_answers(poll))
            assert refused.value.refusal.code == code


# --- invalid ballots ------------------------------------------------------------------------


def invalid(poll, resident, answers) -> dict:
    with pytest.raises(InvalidBallot) as raised:
        cast(resident, poll, answers)
    assert nothing_written(poll)
    return raised.value.errors


def test_unknown_question_is_refused(poll, resident):
    errors = invalid(poll, resident, [*valid_answers(poll), AnswerInput(question=999999, value=1)])
    assert errors[None] == ["Question 999999 is not in this poll."]


def test_duplicate_question_entries_are_refused(poll, resident):
    answers = valid_answers(poll)
    errors = invalid(poll, resident, [*answers, answers[2]])
    assert "answered more than once" in errors[None][0]


def test_unknown_option_and_option_of_another_question_are_refused(poll, resident):
    single, multiple, _scale = poll.questions.all()
    answers = valid_answers(poll)
    answers[0] = AnswerInput(question=single.pk, options=(multiple.options.first().pk,))
    errors = invalid(poll, resident, answers)
    assert "is not an option of this question" in errors[single.pk][0]
    answers[0] = AnswerInput(question=single.pk, options=(987654,))
    assert "987654" in invalid(poll, resident, answers)[single.pk][0]


def test_single_choice_takes_exactly_one_option(poll, resident):
    single = poll.questions.first()
    answers = valid_answers(poll)
    answers[0] = AnswerInput(
        question=single.pk, options=tuple(o.pk for o in single.options.all()[:2])
    )
    assert invalid(poll, resident, answers)[single.pk] == ["Choose exactly one option."]


@pytest.mark.parametrize(("count", "message"), [(3, "Choose at most 2 options.")])
def test_multiple_choice_counts_are_enforced(poll, resident, count, message):
    multiple = poll.questions.all()[1]
    answers = valid_answers(poll)
    answers[1] = AnswerInput(
        question=multiple.pk, options=tuple(o.pk for o in multiple.options.all()[:count])
    )
    assert invalid(poll, resident, answers)[multiple.pk] == [message]


def test_multiple_choice_minimum_is_enforced(resident):
    poll = PollFactory()
    question = question_with_options(
        poll, QuestionKind.MULTIPLE, options=18, min_choices=5, max_choices=5
    )
    answer = AnswerInput(
        question=question.pk, options=tuple(o.pk for o in question.options.all()[:4])
    )
    assert invalid(poll, resident, [answer])[question.pk] == ["Choose at least 5 options."]


def test_required_question_unanswered_is_refused(poll, resident):
    answers = valid_answers(poll)[:2]
    scale = poll.questions.all()[2]
    assert invalid(poll, resident, answers)[scale.pk] == ["This question needs an answer."]


def test_optional_question_may_be_skipped(resident):
    poll = three_question_poll()
    scale = poll.questions.all()[2]
    scale.required = False
    scale.save(update_fields=["required"])
    cast(resident, poll, valid_answers(poll)[:2])
    assert not Answer.objects.filter(question=scale).exists()


@pytest.mark.parametrize("value", [0, 6, -1])
def test_scale_value_out_of_range_is_refused(poll, resident, value):
    scale = poll.questions.all()[2]
    answers = valid_answers(poll)
    answers[2] = AnswerInput(question=scale.pk, value=value)
    assert invalid(poll, resident, answers)[scale.pk] == ["Choose a value from 1 to 5."]


def test_text_longer_than_allowed_is_refused(resident):
    poll = PollFactory()
    question = QuestionFactory(poll=poll, kind=QuestionKind.TEXT, max_length=10)
    errors = invalid(poll, resident, [AnswerInput(question=question.pk, text="x" * 11)])
    assert errors[question.pk] == ["The answer is too long: at most 10 characters, you wrote 11."]


def test_other_option_needs_its_text_and_text_needs_the_other_option(poll, resident):
    single = poll.questions.first()
    other = single.options.get(is_other=True)
    answers = valid_answers(poll)
    answers[0] = AnswerInput(question=single.pk, options=(other.pk,))
    assert invalid(poll, resident, answers)[single.pk] == ["Please specify your “other” answer."]
    answers[0] = AnswerInput(
        question=single.pk, options=(single.options.first().pk,), other_text="x"
    )
    assert "needs the “Other” option" in invalid(poll, resident, answers)[single.pk][0]
    answers[0] = AnswerInput(question=single.pk, options=(other.pk,), other_text="Сквер")
    cast(resident, poll, answers)
    assert Answer.objects.get(option=other).text == "Сквер"


def test_non_answer_cannot_be_combined_with_other_options(resident):
    poll = PollFactory()
    question = question_with_options(poll, QuestionKind.MULTIPLE, options=3)
    hard_to_say = OptionFactory(question=question, text="Затрудняюсь ответить", is_non_answer=True)
    first = question.options.first()
    errors = invalid(
        poll, resident, [AnswerInput(question=question.pk, options=(first.pk, hard_to_say.pk))]
    )
    assert errors[question.pk] == ["“Затрудняюсь ответить” cannot be combined with other options."]
    cast(resident, poll, [AnswerInput(question=question.pk, options=(hard_to_say.pk,))])


def test_fields_of_another_kind_are_refused(poll, resident):
    single = poll.questions.first()
    answers = valid_answers(poll)
    answers[0] = AnswerInput(question=single.pk, options=(single.options.first().pk,), value=3)
    assert invalid(poll, resident, answers)[single.pk] == ["This question does not take: value."]


def test_every_problem_is_reported_at_once(poll, resident):
    single, multiple, scale = poll.questions.all()
    errors = invalid(poll, resident, [AnswerInput(question=scale.pk, value=9)])
    assert set(errors) == {single.pk, multiple.pk, scale.pk}


# --- ranking and matrix ---------------------------------------------------------------------


def test_ranking_top_k_stores_places(resident):
    poll = PollFactory()
    question = question_with_options(poll, QuestionKind.RANKING, options=5, max_choices=3)
    order = tuple(o.pk for o in question.options.all()[:3])[::-1]
    cast(resident, poll, [AnswerInput(question=question.pk, options=order)])
    stored = dict(Answer.objects.filter(question=question).values_list("option_id", "value"))
    assert stored == {order[0]: 1, order[1]: 2, order[2]: 3}


def test_ranking_with_the_wrong_number_of_places_is_refused(resident):
    poll = PollFactory()
    question = question_with_options(poll, QuestionKind.RANKING, options=4)
    answer = AnswerInput(
        question=question.pk, options=tuple(o.pk for o in question.options.all()[:3])
    )
    assert invalid(poll, resident, [answer])[question.pk] == ["Rank exactly 4 options."]


def test_matrix_needs_every_row_rated_on_the_scale(resident):
    poll = PollFactory()
    question = question_with_options(poll, QuestionKind.MATRIX, options=3, scale_min=1, scale_max=3)
    rows = [o.pk for o in question.options.all()]
    assert invalid(poll, resident, [AnswerInput(question=question.pk, rows={rows[0]: 1})])[
        question.pk
    ] == ["Rate every row."]
    bad = {rows[0]: 1, rows[1]: 2, rows[2]: 7}
    assert invalid(poll, resident, [AnswerInput(question=question.pk, rows=bad)])[question.pk] == [
        "Choose a value from 1 to 3."
    ]
    cast(
        resident,
        poll,
        [AnswerInput(question=question.pk, rows={rows[0]: 1, rows[1]: 2, rows[2]: 3})],
    )
    assert Answer.objects.filter(question=question).count() == 3


def test_nul_characters_in_text_are_a_clear_error_not_a_500(resident):
    poll = PollFactory()
    question = QuestionFactory(poll=poll, kind=QuestionKind.TEXT)
    errors = invalid(poll, resident, [AnswerInput(question=question.pk, text="a\x00b")])
    assert errors[question.pk] == ["The text contains a character that is not allowed."]


def test_other_text_alone_on_an_optional_question_is_refused(resident):
    poll = PollFactory()
    question = question_with_options(poll, QuestionKind.SINGLE, options=2, required=False)
    errors = invalid(poll, resident, [AnswerInput(question=question.pk, other_text="Сквер")])
    assert errors[question.pk] == ["Choose exactly one option."]


def test_other_text_on_a_scale_question_is_refused(poll, resident):
    scale = poll.questions.all()[2]
    answers = valid_answers(poll)
    answers[2] = AnswerInput(question=scale.pk, value=3, other_text="x")
    assert invalid(poll, resident, answers)[scale.pk] == [
        "This question does not take: other_text."
    ]


def test_age_uses_the_year_in_the_citys_time_zone(db):
    """At 01:30 on 1 January in Moscow (still 31 December in UTC) a resident born 18 years
    before the new year may vote in an 18+ poll."""
    new_year_night = timezone.make_aware(timezone.datetime(2027, 1, 1, 1, 30))
    with time_machine.travel(new_year_night, tick=False):
        poll = three_question_poll(min_age=18)
        cast(UserFactory(birth_year=2009), poll, valid_answers(poll))
        assert Ballot.objects.get(poll=poll).age_band == "18-24"


@pytest.mark.django_db
def test_an_open_polls_structure_is_read_once_and_again_after_an_admin_save(
    django_assert_num_queries,
):
    """Votes of a popular poll read its questions once per process (they are locked once
    it opens); the poll row itself is always read afresh, and a save — as the admin makes
    when it edits a poll — makes the structure be read again."""
    poll = PollFactory()
    question_with_options(poll, QuestionKind.SINGLE, options=2)
    poll_with_questions(poll_id=poll.pk)
    with django_assert_num_queries(1):
        cached = poll_with_questions(poll_id=poll.pk)
        assert len(cached.questions.all()[0].options.all()) == 2
    poll.closes_at += timedelta(days=1)
    poll.save()
    question_with_options(poll, QuestionKind.SINGLE, options=3)
    with django_assert_num_queries(5):
        fresh = poll_with_questions(poll_id=poll.pk)
    assert len(fresh.questions.all()) == 2
    assert fresh.closes_at == poll.closes_at
