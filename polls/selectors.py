"""Reads of polls shared by the pages, the API and (later) the exports.

Results and breakdowns read the stored tallies (``PollTally`` and friends), which the
scheduled tasks refresh (services.poll_tally); nothing here counts ballots.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    prefetch_related_objects,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Gender, User
from accounts.selectors import building_residency
from civic.codes import apartment_number
from civic.models import District, Okrug
from civic.precompiled import RowByKey
from polls.models import (
    CHOICE_KINDS,
    AgeBand,
    Answer,
    Ballot,
    Decision,
    DecisionStatus,
    DecisionUpdate,
    Dimension,
    ExportRecord,
    GroupTally,
    Option,
    OptionTally,
    Participation,
    Phase,
    Poll,
    PollStatus,
    PollTally,
    Question,
    QuestionKind,
    QuestionTally,
    Scope,
    SurveyReport,
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


def published_polls(
    *, user: User, phase: Phase | None = None, now: datetime | None = None
) -> QuerySet[Poll]:
    """City polls (not building surveys) that are published — citywide ones only for
    anonymous visitors — optionally in one ``phase``, with scope prefetched and
    ``has_voted`` annotated for ``user``: the same queryset for the home page and the API."""
    polls = (
        Poll.objects.filter(status=PollStatus.PUBLISHED)
        .exclude(scope=Scope.BUILDING)
        .prefetch_related("okrugs", "districts")
        .order_by("closes_at", "pk")
    )
    if phase is not None:
        polls = polls.filter(_phase_condition(phase, now or timezone.now()))
    if user.is_authenticated:
        voted = Participation.objects.filter(poll=OuterRef("pk"), user_id=user.pk)
        return polls.annotate(has_voted=Exists(voted))
    return polls.filter(scope=Scope.CITY).annotate(has_voted=Q(pk__in=[]))


def _phase_condition(phase: Phase, now: datetime) -> Q:
    """``Poll.phase`` for published polls, as a database condition."""
    return {
        Phase.UPCOMING: Q(opens_at__gt=now),
        Phase.OPEN: Q(opens_at__lte=now, closes_at__gt=now),
        Phase.CLOSED: Q(closes_at__lte=now),
    }[phase]


def public_poll(*, poll_id: int, include_drafts: bool = False) -> Poll | None:
    """A city poll with its questions, as residents may see it: None for building surveys,
    unknown ids and (unless ``include_drafts``, for an admin's preview) drafts."""
    poll = visible_poll(user=None, poll_id=poll_id, include_drafts=include_drafts)
    return None if poll is None or poll.is_survey else poll


def visible_poll(*, user: User | None, poll_id: int, include_drafts: bool = False) -> Poll | None:
    """The poll with its questions if ``user`` may see it: a published city poll (or a
    draft, with ``include_drafts``, for an admin's preview), or a building survey they may
    see (``survey_visible``). None otherwise, unknown ids included."""
    try:
        poll = poll_with_questions(poll_id=poll_id)
    except Poll.DoesNotExist:
        return None
    if poll.is_survey:
        return poll if user is not None and survey_visible(user=user, poll=poll) else None
    if poll.status == PollStatus.DRAFT and not include_drafts:
        return None
    return poll


def poll_cards(*, user: User, polls: QuerySet[Poll], now: datetime | None = None) -> list[PollCard]:
    now = now or timezone.now()
    return [
        PollCard(
            poll=poll,
            has_voted=poll.has_voted,
            refusal=vote_refusal(
                user=user,
                poll=poll,
                has_voted=poll.has_voted,
                apartment_voted=getattr(poll, "apartment_voted", False),
                now=now,
            ),
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


def home_polls(*, user: User, now: datetime | None = None) -> HomePolls:
    now = now or timezone.now()
    home = HomePolls()
    for card in poll_cards(user=user, polls=published_polls(user=user), now=now):
        phase = card.poll.phase(now)
        if phase == Phase.CLOSED:
            home.closed.append(card)
        elif phase == Phase.UPCOMING:
            home.upcoming.append(card)
        elif card.has_voted:
            home.voted.append(card)
        elif card.can_vote:
            home.can_vote.append(card)
        else:
            home.cannot_vote.append(card)
    home.closed.sort(key=lambda card: card.poll.closes_at, reverse=True)
    return home


POLL_STRUCTURE = (
    "okrugs",
    "districts",
    Prefetch("questions", queryset=Question.objects.prefetch_related("options")),
)
STRUCTURE_CACHE_SIZE = 256
_structures: dict[tuple[int, datetime], dict] = {}


def poll_with_questions(*, poll_id: int) -> Poll:
    """The poll with its scope, questions and options.

    The poll row is always read afresh (its schedule decides whether a vote counts), by a
    statement built once (``civic.precompiled``); the structure is remembered per process
    once the poll has opened, when it can no longer change (``services.poll_is_locked``).
    The key holds ``updated_at``, which every admin save moves, so an unpublished and
    edited poll is read again. This saves five queries on every vote of a popular poll
    (bench/vote_load.py).
    """
    poll = POLL_ROWS.get(poll_id)
    if poll is None:
        raise Poll.DoesNotExist(f"No poll {poll_id}")
    key = (poll.pk, poll.updated_at)
    cached = _structures.get(key)
    if cached is not None:
        poll._prefetched_objects_cache = dict(cached)  # evaluated querysets, only read
        return poll
    prefetch_related_objects([poll], *POLL_STRUCTURE)
    if poll.status == PollStatus.PUBLISHED and poll.opens_at <= timezone.now():
        if len(_structures) >= STRUCTURE_CACHE_SIZE:
            _structures.clear()
        _structures[key] = {
            name: _as_queryset(poll, name, list(getattr(poll, name).all()))
            for name in ("okrugs", "districts", "questions")
        }
    return poll


POLL_ROWS = RowByKey(Poll.objects.all)


def _as_queryset(poll: Poll, name: str, rows: list) -> QuerySet:
    """A related manager's queryset already evaluated to ``rows``, as a prefetch leaves it."""
    queryset = getattr(poll, name).all()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    return queryset


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
    computed_at: datetime | None  # None: not counted yet
    final: bool
    turnout: "SurveyTurnout | None" = None  # building surveys, for the API
    decisions: list[Decision] = field(default_factory=list)  # city polls: poll_decisions


def poll_results(*, poll: Poll) -> PollResults:
    """Counts, percentages, averages and rankings per question, from the stored tally.

    ``poll`` from ``poll_with_questions``; three queries whatever the number of questions
    or ballots.
    """
    tally = PollTally.objects.filter(poll=poll).first()
    counts: dict[int, dict[tuple[int | None, int | None], int]] = defaultdict(dict)
    for question_id, option_id, value, count in OptionTally.objects.filter(
        poll=poll, dimension=Dimension.CITY
    ).values_list("question_id", "option_id", "value", "count"):
        counts[question_id][(option_id, value)] = count
    per_question = {row.question_id: row for row in QuestionTally.objects.filter(poll=poll)}
    return PollResults(
        poll=poll,
        participants=tally.participants if tally else 0,
        computed_at=tally.computed_at if tally else None,
        final=tally.final if tally else False,
        questions=[
            _question_result(question, counts[question.pk], per_question.get(question.pk))
            for question in poll.questions.all()
        ],
    )


def _question_result(
    question: Question, counts: dict, stored: QuestionTally | None
) -> QuestionResult:
    answered = stored.answered if stored else 0
    result = QuestionResult(question=question, answered=answered)
    options = list(question.options.all())
    if question.kind in CHOICE_KINDS:
        result.shares = [
            Share(option.text, n := counts.get((option.pk, None), 0), percent(n, answered), option)
            for option in options
        ]
    elif question.kind == QuestionKind.SCALE:
        result.shares, _average = _distribution(question, counts, option_id=None)
        result.average = round(stored.average, 2) if stored and stored.average is not None else None
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

BREAKDOWN_DIMENSIONS = [Dimension.OKRUG, Dimension.DISTRICT, Dimension.AGE_BAND, Dimension.GENDER]


@dataclass
class BreakdownGroup:
    label: str
    ballots: int
    hidden: bool
    shares: dict[int, dict[int, float]]  # question id -> option id -> percent
    counts: dict[int, dict[int, int]]  # question id -> option id -> answers


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
    question, from the final tally (live breakdowns would let anyone see how the last
    voter of a small group voted). Groups with fewer than ``MIN_BREAKDOWN_CELL`` ballots are
    hidden, with enough others that the hidden ones cannot be worked out by subtraction;
    their counts are not even handed to the page. Five queries."""
    if not PollTally.objects.filter(poll=poll, final=True).exists():
        return []
    ballots: dict[str, dict[str, int]] = defaultdict(dict)
    for dimension, group, count in GroupTally.objects.filter(poll=poll).values_list(
        "dimension", "group", "ballots"
    ):
        ballots[dimension][group] = count
    chosen: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(dict)))
    for dimension, group, question_id, option_id, count in (
        OptionTally.objects.filter(poll=poll)
        .exclude(dimension=Dimension.CITY)
        .values_list("dimension", "group", "question_id", "option_id", "count")
    ):
        chosen[dimension][group][question_id][option_id] = count
    names, okrug_of = _area_names(ballots)
    breakdowns = []
    for dimension in BREAKDOWN_DIMENSIONS:
        if dimension == Dimension.DISTRICT:
            hidden = _hidden_districts(ballots[dimension], okrug_of)
        else:
            hidden = hidden_groups(ballots[dimension])
        groups = [
            _breakdown_group(
                _group_label(dimension, group, names),
                count,
                chosen[dimension][group],
                hidden=group in hidden,
            )
            for group, count in sorted(ballots[dimension].items())
        ]
        breakdowns.append(Breakdown(dimension=dimension, groups=groups))
    return breakdowns


def hidden_groups(ballots: dict[str, int], already: frozenset[str] = frozenset()) -> set[str]:
    """The groups to hide: ``already`` hidden ones, those under ``MIN_BREAKDOWN_CELL``
    ballots, and then the next smallest ones until no hidden group can be recovered as
    "total minus the shown ones" (at least two hidden, together at least
    ``MIN_BREAKDOWN_CELL`` ballots)."""
    small = {group for group, count in ballots.items() if count < MIN_BREAKDOWN_CELL}
    hidden = small | (already & ballots.keys())
    shown = sorted((count, group) for group, count in ballots.items() if group not in hidden)
    while (
        hidden
        and shown
        and (len(hidden) == 1 or sum(ballots[group] for group in hidden) < MIN_BREAKDOWN_CELL)
    ):
        hidden.add(shown.pop(0)[1])
    return hidden


def _hidden_districts(ballots: dict[str, int], okrug_of: dict[str, str]) -> set[str]:
    """Districts are hidden okrug by okrug and across the city: neither an okrug's count nor
    the city's, minus the shown districts, may give away a hidden one."""
    by_okrug: dict[str, dict[str, int]] = defaultdict(dict)
    for group, count in ballots.items():
        by_okrug[okrug_of.get(group, "")][group] = count
    hidden: set[str] = set()
    while True:  # each pass may hide more; stop when both the okrugs and the city agree
        per_okrug = set().union(
            *(hidden_groups(districts, frozenset(hidden)) for districts in by_okrug.values())
        )
        citywide = hidden_groups(ballots, frozenset(per_okrug))
        if citywide == hidden:
            return hidden
        hidden = citywide


def _breakdown_group(label: str, ballots: int, chosen: dict, *, hidden: bool) -> BreakdownGroup:
    shares = (
        {}
        if hidden
        else {
            question_id: {option_id: percent(n, ballots) for option_id, n in options.items()}
            for question_id, options in chosen.items()
        }
    )
    counts = (
        {} if hidden else {question_id: dict(options) for question_id, options in chosen.items()}
    )
    return BreakdownGroup(label=label, ballots=ballots, hidden=hidden, shares=shares, counts=counts)


def _area_names(
    ballots: dict[str, dict[str, int]],
) -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """Labels for okrug and district groups, and each district group's okrug group."""
    okrugs = [int(g) for g in ballots[Dimension.OKRUG] if g]
    districts = [int(g) for g in ballots[Dimension.DISTRICT] if g]
    rows = list(District.objects.filter(pk__in=districts).values_list("pk", "name", "okrug_id"))
    okrug_names = Okrug.objects.filter(pk__in=okrugs).values_list("pk", "name")
    names = {(Dimension.OKRUG, str(pk)): name for pk, name in okrug_names}
    names |= {(Dimension.DISTRICT, str(pk)): name for pk, name, _okrug in rows}
    return names, {str(pk): str(okrug_id) for pk, _name, okrug_id in rows}


def _group_label(dimension: str, key: str, names: dict[tuple[str, str], str]) -> str:
    if not key:
        return str(NOT_GIVEN)
    if dimension == Dimension.AGE_BAND:
        return str(AgeBand(key).label)
    if dimension == Dimension.GENDER:
        return str(Gender(key).label)
    return names.get((dimension, key), key)


PARTICIPATION_SQL = """
    SELECT to_char(date_trunc('hour', p.voted_at AT TIME ZONE %(tz)s), 'YYYY-MM-DD HH24:00'),
           COALESCE(d.name, ''), count(*)
    FROM polls_participation p
    JOIN accounts_user u ON u.id = p.user_id
    LEFT JOIN civic_building b ON b.id = u.home_building_id
    LEFT JOIN civic_district d ON d.id = b.district_id
    WHERE p.poll_id = %(poll)s
    GROUP BY 1, 2
    ORDER BY 1, 2
"""


def participation_by_hour(*, poll: Poll, time_zone: str) -> list[tuple[str, str, int]]:
    """(hour, district, participants) over the poll's life: for the dashboard and the export."""
    with connection.cursor() as cursor:
        cursor.execute(PARTICIPATION_SQL, {"poll": poll.pk, "tz": time_zone})
        return cursor.fetchall()


# --- building surveys -------------------------------------------------------------------------


@dataclass(frozen=True)
class VoteState:
    has_voted: bool
    apartment_voted: bool  # another resident of the voter's apartment voted (per-apartment)


def vote_state(*, user: User, poll: Poll) -> VoteState:
    """Has ``user`` voted in ``poll`` — and, in a one-vote-per-apartment survey, has anyone
    from their apartment? One query."""
    if not user.is_authenticated:
        return VoteState(has_voted=False, apartment_voted=False)
    mine = Q(user_id=user.pk)
    if poll.per_apartment and user.verified_apartment:
        mine |= Q(one_per_apartment=True, apartment=user.verified_apartment)
    voters = set(Participation.objects.filter(mine, poll=poll).values_list("user_id", flat=True))
    return VoteState(has_voted=user.pk in voters, apartment_voted=bool(voters - {user.pk}))


def survey_visible(*, user: User, poll: Poll) -> bool:
    """Verified residents of its building see a published survey; a hidden one only its
    author (to read why)."""
    return (
        user.is_authenticated
        and poll.status == PollStatus.PUBLISHED
        and user.verified_building_id is not None
        and user.verified_building_id == poll.building_id
        and (poll.hidden_at is None or poll.created_by_id == user.pk)
    )


def survey_for_resident(*, user: User, poll_id: int) -> Poll | None:
    """A building survey with its questions, if ``user`` may see it; else None."""
    poll = visible_poll(user=user, poll_id=poll_id)
    return poll if poll is not None and poll.is_survey else None


@dataclass
class BuildingSurveys:
    open: list[PollCard] = field(default_factory=list)
    upcoming: list[PollCard] = field(default_factory=list)
    closed: list[PollCard] = field(default_factory=list)


def building_surveys_visible(*, user: User) -> QuerySet[Poll]:
    """The surveys of the resident's verified building that they may see, newest first,
    with ``has_voted`` and ``apartment_voted`` (a flatmate's vote counts for the apartment);
    empty for residents who are not verified."""
    voted = Participation.objects.filter(poll=OuterRef("pk"), user_id=user.pk)
    flatmate_voted = Participation.objects.filter(
        poll=OuterRef("pk"), one_per_apartment=True, apartment=user.verified_apartment
    ).exclude(user_id=user.pk)
    return (
        Poll.objects.filter(
            scope=Scope.BUILDING,
            status=PollStatus.PUBLISHED,
            building_id=user.verified_building_id,
            building__isnull=False,
        )
        .filter(Q(hidden_at__isnull=True) | Q(created_by_id=user.pk))
        .annotate(has_voted=Exists(voted), apartment_voted=Exists(flatmate_voted))
        .order_by("-opens_at", "-pk")
    )


def building_surveys(*, user: User, now: datetime | None = None) -> BuildingSurveys:
    """The "My building" lists: open, upcoming and closed surveys, two queries in all."""
    now = now or timezone.now()
    surveys = BuildingSurveys()
    for card in poll_cards(user=user, polls=building_surveys_visible(user=user), now=now):
        phase = card.poll.phase(now)
        bucket = {Phase.UPCOMING: surveys.upcoming, Phase.CLOSED: surveys.closed}
        bucket.get(phase, surveys.open).append(card)
    return surveys


@dataclass(frozen=True)
class SurveyTurnout:
    """Turnout of a building survey, against the apartments and the verified residents."""

    voters: int
    apartments_voted: int
    apartments: int
    verified_residents: int
    quorum_percent: int | None

    @property
    def apartments_percent(self) -> float:
        return percent(self.apartments_voted, self.apartments)

    @property
    def residents_percent(self) -> float:
        return percent(self.voters, self.verified_residents)

    @property
    def quorum_apartments(self) -> int | None:
        """Apartments needed for the quorum (rounded up)."""
        if self.quorum_percent is None:
            return None
        return -(-self.apartments * self.quorum_percent // 100)

    @property
    def quorum_reached(self) -> bool | None:
        if self.quorum_percent is None:
            return None
        return self.apartments_voted >= self.quorum_apartments


def survey_turnout(*, poll: Poll) -> SurveyTurnout:
    """Counted from the participations (a building's are few): two queries."""
    voted = Participation.objects.filter(poll=poll).aggregate(
        voters=Count("pk"), apartments=Count("apartment", distinct=True)
    )
    residency = building_residency(building_id=poll.building_id)
    return SurveyTurnout(
        voters=voted["voters"],
        apartments_voted=voted["apartments"],
        apartments=poll.building.apartments,
        verified_residents=residency.verified_residents,
        quorum_percent=poll.quorum_percent,
    )


@dataclass(frozen=True)
class OpenVote:
    """One neighbour's ballot in an open-ballot survey: who, which apartment, what."""

    name: str
    apartment: str
    answers: list[str]


def open_ballot_votes(*, poll: Poll) -> list[OpenVote]:
    """Who voted for what, in apartment order; two queries whatever the number of ballots.

    ``poll`` from ``survey_for_resident`` (questions and options prefetched)."""
    questions = list(poll.questions.all())
    options = {option.pk: option for question in questions for option in question.options.all()}
    ballots = (
        Ballot.objects.filter(poll=poll, voter__isnull=False)
        .select_related("voter")
        .prefetch_related("answers")
    )
    votes = [
        OpenVote(
            name=ballot.voter.get_full_name() or str(_("Neighbour")),
            apartment=ballot.apartment,
            answers=_answers_in_words(questions, options, list(ballot.answers.all())),
        )
        for ballot in ballots
    ]
    return sorted(votes, key=lambda vote: (apartment_number(vote.apartment), vote.apartment))


def _answers_in_words(questions: list[Question], options: dict, answers: list) -> list[str]:
    """Each question's answer on one ballot as a short text, in question order."""
    by_question = defaultdict(list)
    for answer in answers:
        by_question[answer.question_id].append(answer)
    return [_answer_in_words(question, options, by_question[question.pk]) for question in questions]


def _answer_in_words(question: Question, options: dict, answers: list) -> str:
    if not answers:
        return "—"
    if question.kind == QuestionKind.SCALE:
        return str(answers[0].value)
    if question.kind == QuestionKind.TEXT:
        return answers[0].text
    if question.kind == QuestionKind.RANKING:
        ranked = sorted(answers, key=lambda answer: answer.value)
        return " › ".join(options[answer.option_id].text for answer in ranked)
    if question.kind == QuestionKind.MATRIX:
        return "; ".join(f"{options[a.option_id].text}: {a.value}" for a in answers)
    return ", ".join(
        f"{options[a.option_id].text}: {a.text}" if a.text else options[a.option_id].text
        for a in answers
    )


# --- decisions taken after polls --------------------------------------------------------------

DECISION_TIMELINE = Prefetch("updates", queryset=DecisionUpdate.objects.order_by("pk"))


def poll_decisions(*, poll: Poll) -> list[Decision]:
    """The decisions taken after ``poll``, oldest first, each with its timeline of updates
    (``decision.updates.all()``, in order); two queries."""
    return list(poll.decisions.order_by("decided_on", "pk").prefetch_related(DECISION_TIMELINE))


@dataclass(frozen=True)
class DecisionFilters:
    """What the Decisions page and the API may filter on. The poll has no topic, so its
    scope stands in for one: citywide, or chosen okrugs and districts."""

    status: str = ""
    okrug: Okrug | None = None
    scope: str = ""
    poll_id: int | None = None


def decisions_public(*, filters: DecisionFilters = DecisionFilters()) -> QuerySet[Decision]:
    """Decisions taken after published city polls, newest first, with their poll (and its
    tally and areas) and timeline: the one queryset of the Decisions page and the API.

    ``okrug`` finds decisions after polls held in that okrug or one of its districts;
    citywide polls concern every okrug and are found with ``scope`` "city"."""
    decisions = Decision.objects.filter(poll__status=PollStatus.PUBLISHED).exclude(
        poll__scope=Scope.BUILDING
    )
    if filters.status:
        decisions = decisions.filter(status=filters.status)
    if filters.scope:
        decisions = decisions.filter(poll__scope=filters.scope)
    if filters.poll_id is not None:
        decisions = decisions.filter(poll_id=filters.poll_id)
    if filters.okrug is not None:
        in_okrug = Poll.objects.filter(
            Q(okrugs=filters.okrug) | Q(districts__okrug=filters.okrug)
        ).values("pk")
        decisions = decisions.filter(poll__in=in_okrug)
    return (
        decisions.select_related("poll__tally")
        .prefetch_related(DECISION_TIMELINE, "poll__okrugs", "poll__districts")
        .order_by("-decided_on", "-pk")
    )


@dataclass(frozen=True)
class DecisionCounts:
    decisions: int
    polls: int
    planned: int
    in_progress: int
    done: int
    declined: int


def decision_counts(*, decisions: QuerySet[Decision]) -> DecisionCounts:
    """The headline over every decision ``decisions`` holds (not one page): how many were
    taken, after how many polls, and how many are in each status. One query."""
    by_status = {status: Count("pk", filter=Q(status=status)) for status in DecisionStatus.values}
    counts = decisions.order_by().aggregate(
        decisions=Count("pk"), polls=Count("poll", distinct=True), **by_status
    )
    return DecisionCounts(**counts)


# --- the resident's personal data (accounts/privacy.py) ---------------------------------------


def personal_data(*, user: User) -> dict:
    """The polls the resident took part in and when; never what they chose in a secret
    ballot (nothing links the two: docs/decisions/0004). Their open-ballot votes, which
    their neighbours see with their name, are theirs too; and the surveys they created, the
    surveys they reported and, for staff, the exports they downloaded."""
    participations = (
        Participation.objects.filter(user=user).select_related("poll").order_by("voted_at", "pk")
    )
    open_ballots = (
        Ballot.objects.filter(voter=user)
        .select_related("poll")
        .prefetch_related(
            Prefetch(
                "answers",
                queryset=Answer.objects.select_related("question", "option").order_by(
                    "question__position", "question_id", "value"
                ),
            )
        )
        .order_by("poll_id")
    )
    return {
        "participations": [
            {
                "poll": participation.poll_id,
                "title": participation.poll.title,
                "building_survey": participation.poll.is_survey,
                "voted_at": participation.voted_at,
            }
            for participation in participations
        ],
        "open_ballot_votes": [
            {
                "poll": ballot.poll_id,
                "title": ballot.poll.title,
                "apartment": ballot.apartment,
                "answers": [
                    {
                        "question": answer.question.text,
                        "option": answer.option.text if answer.option else None,
                        "value": answer.value,
                        "text": answer.text,
                    }
                    for answer in ballot.answers.all()
                ],
            }
            for ballot in open_ballots
        ],
        "surveys_created": list(
            Poll.objects.filter(created_by=user, scope=Scope.BUILDING)
            .order_by("pk")
            .values("id", "title", "created_at", "opens_at", "closes_at")
        ),
        "survey_reports": list(
            SurveyReport.objects.filter(user=user)
            .order_by("pk")
            .values("poll_id", "reason", "created_at")
        ),
        "exports_downloaded": list(
            ExportRecord.objects.filter(user=user)
            .order_by("pk")
            .values("poll_id", "kind", "file_name", "created_at")
        ),
    }
