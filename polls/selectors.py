"""Reads of polls shared by the pages, the API and (later) the exports.

``poll_results`` and ``poll_breakdown`` compute results on request with a fixed number of
GROUP BY queries; the Celery issue replaces them with stored tallies behind the same API.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Gender, User
from polls.models import (
    CHOICE_KINDS,
    AgeBand,
    Answer,
    Ballot,
    Option,
    Participation,
    Poll,
    PollStatus,
    Question,
    QuestionKind,
    Scope,
)
from polls.rules import Refusal, vote_refusal
from polls.validation import ranking_places

MIN_BREAKDOWN_CELL = 10  # groups with fewer ballots are hidden, to protect ballot secrecy
NOT_GIVEN = _("not given")


def percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


# --- lists ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PollCard:
    """A poll as a list shows it to one visitor: can they vote, and if not, why."""

    poll: Poll
    has_voted: bool
    refusal: Refusal | None

    @property
    def can_vote(self) -> bool:
        return self.refusal is None


def published_polls(*, user: User) -> QuerySet[Poll]:
    """City polls (not building surveys) that are published, with scope prefetched and
    ``has_voted`` annotated for ``user``: the same queryset for the home page and the API."""
    polls = (
        Poll.objects.filter(status=PollStatus.PUBLISHED)
        .exclude(scope=Scope.BUILDING)
        .prefetch_related("okrugs", "districts")
        .order_by("closes_at", "pk")
    )
    if user.is_authenticated:
        voted = Participation.objects.filter(poll=OuterRef("pk"), user_id=user.pk)
        return polls.annotate(has_voted=Exists(voted))
    return polls.annotate(has_voted=Q(pk__in=[]))


def poll_cards(*, user: User, polls: QuerySet[Poll], now: datetime | None = None) -> list[PollCard]:
    now = now or timezone.now()
    return [
        PollCard(
            poll=poll,
            has_voted=poll.has_voted,
            refusal=vote_refusal(user=user, poll=poll, has_voted=poll.has_voted, now=now),
        )
        for poll in polls
    ]


@dataclass
class HomePolls:
    can_vote: list[PollCard] = field(default_factory=list)
    cannot_vote: list[PollCard] = field(default_factory=list)
    voted: list[PollCard] = field(default_factory=list)
    upcoming: list[PollCard] = field(default_factory=list)
    closed: list[PollCard] = field(default_factory=list)

    def only_citywide(self) -> "HomePolls":
        """What anonymous visitors see: citywide polls only."""
        return HomePolls(
            **{
                name: [card for card in cards if card.poll.scope == Scope.CITY]
                for name, cards in vars(self).items()
            }
        )


def home_polls(*, user: User, now: datetime | None = None) -> HomePolls:
    now = now or timezone.now()
    home = HomePolls()
    for card in poll_cards(user=user, polls=published_polls(user=user), now=now):
        phase = card.poll.phase(now)
        if phase == "closed":
            home.closed.append(card)
        elif phase == "upcoming":
            home.upcoming.append(card)
        elif card.has_voted:
            home.voted.append(card)
        elif card.can_vote:
            home.can_vote.append(card)
        else:
            home.cannot_vote.append(card)
    home.closed.sort(key=lambda card: card.poll.closes_at, reverse=True)
    return home


def poll_with_questions(*, poll_id: int) -> Poll:
    return Poll.objects.prefetch_related(
        "okrugs",
        "districts",
        Prefetch("questions", queryset=Question.objects.prefetch_related("options")),
    ).get(pk=poll_id)


# --- results --------------------------------------------------------------------------------


@dataclass
class Share:
    label: str
    count: int
    percent: float
    option: Option | None = None


@dataclass
class RankedOption:
    option: Option
    borda: int
    first_preferences: int
    first_percent: float


@dataclass
class RowResult:
    option: Option
    average: float | None
    distribution: list[Share]


@dataclass
class QuestionResult:
    question: Question
    answered: int
    shares: list[Share] = field(default_factory=list)  # options, or scale values
    average: float | None = None  # scale
    ranking: list[RankedOption] = field(default_factory=list)
    rows: list[RowResult] = field(default_factory=list)  # matrix


@dataclass
class PollResults:
    poll: Poll
    participants: int
    questions: list[QuestionResult]


def poll_results(*, poll: Poll) -> PollResults:
    """Counts, percentages, averages and rankings per question. ``poll`` from
    ``poll_with_questions``; three queries whatever the number of questions or ballots."""
    answers = Answer.objects.filter(question__poll=poll)
    participants = Ballot.objects.filter(poll=poll).count()
    counts: dict[int, dict[tuple[int | None, int | None], int]] = defaultdict(dict)
    for row in (
        answers.exclude(question__kind=QuestionKind.TEXT)
        .values("question_id", "option_id", "value")
        .annotate(n=Count("*"))
    ):
        counts[row["question_id"]][(row["option_id"], row["value"])] = row["n"]
    answered = dict(
        answers.values("question_id")
        .annotate(n=Count("ballot_id", distinct=True))
        .values_list("question_id", "n")
    )
    return PollResults(
        poll=poll,
        participants=participants,
        questions=[
            _question_result(question, counts[question.pk], answered.get(question.pk, 0))
            for question in poll.questions.all()
        ],
    )


def _question_result(question: Question, counts: dict, answered: int) -> QuestionResult:
    result = QuestionResult(question=question, answered=answered)
    options = list(question.options.all())
    if question.kind in CHOICE_KINDS:
        result.shares = [
            Share(option.text, n := counts.get((option.pk, None), 0), percent(n, answered), option)
            for option in options
        ]
    elif question.kind == QuestionKind.SCALE:
        result.shares, result.average = _distribution(question, counts, option_id=None)
    elif question.kind == QuestionKind.RANKING:
        result.ranking = _ranking(question, options, counts, answered)
    elif question.kind == QuestionKind.MATRIX:
        result.rows = [
            RowResult(option, *reversed(_distribution(question, counts, option_id=option.pk)))
            for option in options
        ]
    return result


def _distribution(
    question: Question, counts: dict, *, option_id: int | None
) -> tuple[list[Share], float | None]:
    per_value = {value: counts.get((option_id, value), 0) for value in question.scale_values}
    total = sum(per_value.values())
    shares = [Share(str(value), n, percent(n, total)) for value, n in per_value.items()]
    average = round(sum(v * n for v, n in per_value.items()) / total, 2) if total else None
    return shares, average


def _ranking(question, options, counts, answered) -> list[RankedOption]:
    """Borda count: over K places, first place earns K points, the last one 1."""
    places = ranking_places(question)
    ranked = []
    for option in options:
        if option.is_non_answer:
            continue
        by_place = {place: counts.get((option.pk, place), 0) for place in range(1, places + 1)}
        borda = sum((places - place + 1) * n for place, n in by_place.items())
        ranked.append(RankedOption(option, borda, by_place[1], percent(by_place[1], answered)))
    return sorted(ranked, key=lambda item: (-item.borda, -item.first_preferences))


# --- breakdowns -----------------------------------------------------------------------------

BREAKDOWN_DIMENSIONS = {
    "okrug": "ballot__okrug__name",
    "district": "ballot__district__name",
    "age_band": "ballot__age_band",
    "gender": "ballot__gender",
}


@dataclass
class BreakdownGroup:
    label: str
    ballots: int
    hidden: bool
    shares: dict[int, dict[int, float]]  # question id -> option id -> percent


@dataclass
class Breakdown:
    dimension: str
    groups: list[BreakdownGroup]

    @property
    def shown_groups(self) -> list[BreakdownGroup]:
        return [group for group in self.groups if not group.hidden]

    @property
    def hidden_count(self) -> int:
        return sum(group.hidden for group in self.groups)


def poll_breakdown(*, poll: Poll) -> list[Breakdown]:
    """Per okrug, district, age band and gender: the share of each option of every choice
    question. Groups with fewer than ``MIN_BREAKDOWN_CELL`` ballots are hidden."""
    return [_breakdown(poll, dimension, path) for dimension, path in BREAKDOWN_DIMENSIONS.items()]


def _breakdown(poll: Poll, dimension: str, path: str) -> Breakdown:
    ballot_path = path.removeprefix("ballot__")
    ballots = dict(
        Ballot.objects.filter(poll=poll)
        .values(ballot_path)
        .annotate(n=Count("*"))
        .values_list(ballot_path, "n")
    )
    chosen: dict = defaultdict(lambda: defaultdict(dict))
    for row in (
        Answer.objects.filter(question__poll=poll, question__kind__in=CHOICE_KINDS)
        .values(path, "question_id", "option_id")
        .annotate(n=Count("*"))
    ):
        chosen[row[path]][row["question_id"]][row["option_id"]] = row["n"]
    groups = [
        BreakdownGroup(
            label=_group_label(dimension, key),
            ballots=count,
            hidden=count < MIN_BREAKDOWN_CELL,
            shares={}
            if count < MIN_BREAKDOWN_CELL
            else {
                question_id: {option_id: percent(n, count) for option_id, n in options.items()}
                for question_id, options in chosen[key].items()
            },
        )
        for key, count in sorted(ballots.items(), key=lambda item: str(item[0]))
    ]
    return Breakdown(dimension=dimension, groups=groups)


def _group_label(dimension: str, key) -> str:
    if not key:
        return str(NOT_GIVEN)
    if dimension == "age_band":
        return str(AgeBand(key).label)
    if dimension == "gender":
        return str(Gender(key).label)
    return key
