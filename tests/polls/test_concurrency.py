import threading

import pytest
from django.db import connection

from accounts.selectors import resident_with_home
from polls.models import Answer, Ballot, Participation
from polls.selectors import poll_with_questions
from polls.services import VoteRefused, ballot_cast
from polls.validation import AnswerInput
from tests.accounts.factories import UserFactory
from tests.polls.factories import three_question_poll

SUBMISSIONS = 20


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_submissions_make_one_vote():
    """The same resident submitting 20 times at once, on 20 connections: exactly one
    participation and one ballot; every other submission is told "already voted"."""
    poll = three_question_poll()
    resident = UserFactory()
    single, multiple, scale = poll.questions.all()
    answers = [
        AnswerInput(question=single.pk, options=(single.options.first().pk,)),
        AnswerInput(question=multiple.pk, options=(multiple.options.first().pk,)),
        AnswerInput(question=scale.pk, value=3),
    ]
    barrier = threading.Barrier(SUBMISSIONS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def submit():
        try:
            voter = resident_with_home(user_id=resident.pk)
            full_poll = poll_with_questions(poll_id=poll.pk)
            barrier.wait(timeout=60)
            try:
                ballot_cast(user=voter, poll=full_poll, answers=answers)
                outcome = "voted"
            except VoteRefused as refused:
                outcome = refused.refusal.code
            with lock:
                outcomes.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(SUBMISSIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["already_voted"] * (SUBMISSIONS - 1) + ["voted"]
    assert Participation.objects.filter(poll=poll).count() == 1
    assert Ballot.objects.filter(poll=poll).count() == 1
    assert Answer.objects.filter(question__poll=poll).count() == 3
