"""The vote is one statement: written whole or not at all, and refused for the same reasons,
in the same order, as when the resident's earlier vote was looked up first."""

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from accounts.selectors import resident_with_home
from polls import services
from polls.models import Answer, Ballot, Participation
from polls.selectors import poll_with_questions
from polls.services import VoteRefused, ballot_cast
from polls.validation import AnswerInput
from rewards.models import LedgerEntry, Wallet
from tests.accounts.factories import UserFactory
from tests.polls.factories import three_question_poll


def answers(poll, value=4) -> list[AnswerInput]:
    single, multiple, scale = poll.questions.all()
    return [
        AnswerInput(question=single.pk, options=(single.options.first().pk,)),
        AnswerInput(question=multiple.pk, options=(multiple.options.first().pk,)),
        AnswerInput(question=scale.pk, value=value),
    ]


def cast(user, poll, ballot):
    return ballot_cast(
        user=resident_with_home(user_id=user.pk),
        poll=poll_with_questions(poll_id=poll.pk),
        answers=ballot,
    )


@pytest.mark.django_db
def test_a_vote_is_one_statement_and_credits_the_points():
    poll, resident = three_question_poll(), UserFactory()
    voter = resident_with_home(user_id=resident.pk)
    full_poll, ballot = poll_with_questions(poll_id=poll.pk), answers(poll)
    with CaptureQueriesContext(connection) as queries:
        ballot_cast(user=voter, poll=full_poll, answers=ballot)
    assert len(queries) == 1
    assert Answer.objects.filter(ballot__poll=poll).count() == 3
    assert Wallet.objects.get(user=resident).balance == poll.points
    assert LedgerEntry.objects.get(user=resident).key == f"vote:{poll.pk}"


@pytest.mark.django_db
def test_a_resident_who_voted_hears_so_before_a_mistake_in_the_ballot():
    poll, resident = three_question_poll(), UserFactory()
    cast(resident, poll, answers(poll))
    with pytest.raises(VoteRefused) as refused:
        cast(resident, poll, answers(poll, value=99))
    assert refused.value.refusal.code == "already_voted"


@pytest.mark.django_db(transaction=True)
def test_a_statement_that_fails_half_way_leaves_nothing_behind(monkeypatch):
    """The ballot's insert fails (a receipt taken): the participation, inserted before it in
    the same statement, is gone too, as are the points; the resident may vote again."""
    poll, first, second = three_question_poll(), UserFactory(), UserFactory()
    taken = cast(first, poll, answers(poll)).receipt
    monkeypatch.setattr(services, "new_receipt", lambda: taken)
    with pytest.raises(IntegrityError):
        cast(second, poll, answers(poll))
    assert not Participation.objects.filter(user=second).exists()
    assert not LedgerEntry.objects.filter(user=second).exists()
    assert Ballot.objects.filter(poll=poll).count() == 1
    monkeypatch.undo()
    cast(second, poll, answers(poll))
    assert Participation.objects.filter(poll=poll).count() == 2
