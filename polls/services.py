"""Writes to polls: casting a ballot, and the admin's publish / unpublish / duplicate."""

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from polls.models import (
    KINDS_WITH_OPTIONS,
    AgeBand,
    Answer,
    Ballot,
    Option,
    Participation,
    Poll,
    PollStatus,
    Question,
)
from polls.rules import Refusal, vote_refusal
from polls.validation import AnswerInput, ballot_answers

NON_ANSWERS = (
    "Затрудняюсь ответить",
    "Оставить решение на усмотрение специалистов",
)


class VoteRefused(Exception):
    """The resident may not vote (closed, out of scope, already voted...); see ``refusal``."""

    def __init__(self, refusal: Refusal):
        self.refusal = refusal
        super().__init__(refusal.message)


class PollError(Exception):
    """An admin operation on a poll that the rules refuse; ``str()`` says why."""


@dataclass(frozen=True)
class CastBallot:
    receipt: str
    points: int


def age_band(*, birth_year: int | None, now: datetime) -> str:
    if birth_year is None:
        return AgeBand.UNKNOWN
    age = now.year - birth_year
    for upper, band in (
        (18, AgeBand.UNDER_18),
        (25, AgeBand.FROM_18),
        (35, AgeBand.FROM_25),
        (45, AgeBand.FROM_35),
        (55, AgeBand.FROM_45),
        (65, AgeBand.FROM_55),
    ):
        if age < upper:
            return band
    return AgeBand.FROM_65


def ballot_cast(*, user: User, poll: Poll, answers: list[AnswerInput]) -> CastBallot:
    """Record that ``user`` voted and, unlinkably, what they chose; in one transaction.

    ``poll`` comes from ``selectors.poll_with_questions``; ``user`` with its home district.
    Raises ``VoteRefused`` (time, scope, age, already voted) or ``InvalidBallot``; writes
    nothing then. The query count does not depend on the number of questions. The unique
    constraint on participation, not a lock, stops a second vote, even a simultaneous one.
    """
    now = timezone.now()
    has_voted = Participation.objects.filter(user=user, poll=poll).exists()
    refusal = vote_refusal(user=user, poll=poll, has_voted=has_voted, now=now)
    if refusal:
        raise VoteRefused(refusal)
    rows = ballot_answers(questions=list(poll.questions.all()), answers=answers)
    with transaction.atomic():
        _participation_create(user=user, poll=poll, now=now)
        ballot = Ballot.objects.create(poll=poll, **_voter_snapshot(user=user, now=now))
        for row in rows:
            row.ballot = ballot
        Answer.objects.bulk_create(rows)
        # The rewards issue credits poll.points to the resident here, in this transaction.
    return CastBallot(receipt=ballot.receipt, points=poll.points)


def _participation_create(*, user: User, poll: Poll, now: datetime) -> None:
    try:
        with transaction.atomic():
            Participation.objects.create(user=user, poll=poll, voted_at=now)
    except IntegrityError as error:
        raise VoteRefused(
            Refusal("already_voted", _("You have already voted in this poll."))
        ) from error


def _voter_snapshot(*, user: User, now: datetime) -> dict:
    """The coarse facts a ballot keeps for breakdowns: never who, never when."""
    district = user.home_building.district if user.home_building else None
    return {
        "district": district,
        "okrug_id": district.okrug_id if district else None,
        "age_band": age_band(birth_year=user.birth_year, now=now),
        "gender": user.gender,
    }


# --- the admin's operations -----------------------------------------------------------------


def poll_has_votes(*, poll_id: int) -> bool:
    return Participation.objects.filter(poll_id=poll_id).exists()


def poll_publish(*, poll: Poll) -> None:
    """Publish a complete draft; refuses polls a resident could not answer."""
    problems = poll_publish_problems(poll=poll)
    if problems:
        raise PollError(" ".join(problems))
    Poll.objects.filter(pk=poll.pk, status=PollStatus.DRAFT).update(status=PollStatus.PUBLISHED)
    poll.status = PollStatus.PUBLISHED


def poll_publish_problems(*, poll: Poll) -> list[str]:
    questions = list(poll.questions.prefetch_related("options"))
    problems = []
    if not questions:
        problems.append(_("A poll needs at least one question."))
    for question in questions:
        if question.kind in KINDS_WITH_OPTIONS and len(question.options.all()) < 2:
            problems.append(
                _("Question “%(question)s” needs at least two options.") % {"question": question}
            )
    if poll.scope == "areas" and not (poll.okrugs.exists() or poll.districts.exists()):
        problems.append(_("Choose at least one okrug or district for an area poll."))
    return problems


def poll_unpublish(*, poll: Poll) -> None:
    """Back to draft; only while nobody has voted (votes cannot be taken back)."""
    with transaction.atomic():
        if poll_has_votes(poll_id=poll.pk):
            raise PollError(_("Residents have voted in this poll: it cannot be unpublished."))
        Poll.objects.filter(pk=poll.pk).update(status=PollStatus.DRAFT)
    poll.status = PollStatus.DRAFT


def poll_duplicate(*, poll: Poll, created_by: User | None = None) -> Poll:
    """A draft copy of ``poll`` with its questions, options and scope, and no votes."""
    with transaction.atomic():
        copy = Poll.objects.get(pk=poll.pk)
        copy.pk = None
        copy.title = _("Copy of %(title)s") % {"title": poll.title}
        copy.status = PollStatus.DRAFT
        copy.created_by = created_by
        copy.save()
        copy.okrugs.set(poll.okrugs.all())
        copy.districts.set(poll.districts.all())
        for question in poll.questions.prefetch_related("options"):
            options = list(question.options.all())
            question.pk = None
            question.poll = copy
            question.save()
            for option in options:
                option.pk = None
                option.question = question
            Option.objects.bulk_create(options)
    return copy


def question_add_non_answers(*, question: Question) -> None:
    """Add the standard non-answers ("Затрудняюсь ответить"...) that the question lacks."""
    existing = set(question.options.values_list("text", flat=True))
    last = max(question.options.values_list("position", flat=True), default=0)
    Option.objects.bulk_create(
        [
            Option(question=question, text=text, position=last + index, is_non_answer=True)
            for index, text in enumerate(NON_ANSWERS, start=1)
            if text not in existing
        ]
    )
