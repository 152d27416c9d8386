"""Writes to polls: casting a ballot, and the admin's publish / unpublish / duplicate."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import NotificationKind, User
from accounts.notifications import notifications_create
from accounts.services import resident_lock
from audit.models import AuditAction
from audit.services import audit_record
from civic.models import Building
from polls.ballot_log import ballot_log_checkpoint
from polls.escrow import receipt_seal
from polls.models import (
    CHOICE_KINDS,
    KINDS_WITH_OPTIONS,
    AgeBand,
    Answer,
    Ballot,
    Decision,
    DecisionStatus,
    DecisionUpdate,
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
    ResultsVisibility,
    Scope,
    SurveyReport,
    new_receipt,
)
from polls.rules import (
    ALREADY_VOTED,
    APARTMENT_VOTED,
    Refusal,
    resident_age,
    suspended_refusal,
    vote_refusal,
)
from polls.selectors import vote_state
from polls.validation import AnswerInput, InvalidBallot, ballot_answers
from rewards.models import Reason
from rewards.services import VOTE_CREDITS_SQL, vote_credits

# A vote's statements may run this long; closing waits longer than that after closes_at, so a
# vote that was accepted just before closes_at has committed before the final tally reads.
VOTE_STATEMENT_TIMEOUT_MS = 5_000
CLOSE_GRACE = timedelta(seconds=30)

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


def age_band(*, user: User, now: datetime) -> str:
    age = resident_age(user=user, now=now)
    if age is None:
        return AgeBand.UNKNOWN
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
    """Record that ``user`` voted and, unlinkably, what they chose; in one statement.

    ``poll`` comes from ``selectors.poll_with_questions``; ``user`` from
    ``accounts.selectors.resident_with_home``. Raises ``VoteRefused`` (suspended, time,
    scope, age, already voted) or ``InvalidBallot``; writes nothing then. The unique
    constraint on participation, not a lock, stops a second vote, even a simultaneous one.
    The participation keeps the receipt sealed to the audit key (docs/decisions/0009).

    The vote is one round trip to the database (bench/vote_load.py). Whether the resident
    voted before is not asked first — the participation's insert finds out — but only when
    a vote is refused, so that a resident who voted hears that before any reason that
    ``vote_refusal`` ranks after it, or before a mistake in the ballot.
    """
    now = timezone.now()
    if vote_refusal(user=user, poll=poll, has_voted=False, now=now):
        raise VoteRefused(_refusal(user=user, poll=poll, now=now))
    try:
        rows = ballot_answers(questions=list(poll.questions.all()), answers=answers)
    except InvalidBallot:
        refusal = _refusal(user=user, poll=poll, now=now)
        if refusal:
            raise VoteRefused(refusal) from None
        raise
    receipt = new_receipt()
    with connection.cursor() as cursor:
        cursor.execute(VOTE_SQL, _vote_parameters(user, poll, rows, receipt=receipt, now=now))
        cursor.nextset()  # past the statement timeout's SELECT
        if not cursor.fetchone()[0]:
            raise VoteRefused(_refusal_of_the_insert(user=user, poll=poll))
    return CastBallot(receipt=receipt, points=poll.points)


def _refusal(*, user: User, poll: Poll, now: datetime) -> Refusal | None:
    voted = vote_state(user=user, poll=poll)
    return vote_refusal(
        user=user,
        poll=poll,
        has_voted=voted.has_voted,
        apartment_voted=voted.apartment_voted,
        now=now,
    )


# The whole vote in one round trip: PostgreSQL runs a query string of several statements as
# one transaction, so it is written whole or not at all. The first statement bounds the
# second's time (closing waits a grace period longer than that, CLOSE_GRACE). The unique
# constraints on participation (one per resident; one per apartment where chosen) decide: a
# refused insert returns no row, and then nothing else is written. The voter's row is read
# with a KEY SHARE lock (the foreign key takes it anyway): a suspension (FOR UPDATE) either
# waits for this vote or, if first, leaves no unsuspended row to insert. The ballot and its
# answers get random ids and no time; the participation holds the receipt only sealed.
VOTE_SQL = (
    """
    SELECT set_config('statement_timeout', %(timeout)s, true);
    WITH participation AS (
        INSERT INTO polls_participation
            (user_id, poll_id, voted_at, apartment, one_per_apartment, sealed_receipt)
        SELECT u.id, %(poll)s, %(now)s, %(apartment)s, %(per_apartment)s, %(sealed_receipt)s
        FROM accounts_user u
        WHERE u.id = %(user)s AND u.suspended_at IS NULL
        FOR KEY SHARE
        ON CONFLICT DO NOTHING
        RETURNING id
    ),
    ballot AS (
        INSERT INTO polls_ballot
            (id, poll_id, receipt, okrug_id, district_id, age_band, gender, voter_id, apartment)
        SELECT gen_random_uuid(), %(poll)s, %(receipt)s, %(okrug)s, %(district)s,
               %(age_band)s, %(gender)s, %(voter)s, %(voter_apartment)s
        FROM participation
        RETURNING id
    ),
    answers AS (
        INSERT INTO polls_answer (id, ballot_id, question_id, option_id, value, text)
        SELECT gen_random_uuid(), ballot.id, a.question, a.option, a.value, a.text
        FROM ballot, unnest(
            %(questions)s::bigint[], %(options)s::bigint[], %(values)s::smallint[],
            %(texts)s::text[]
        ) AS a (question, option, value, text)
    ),
    """  # noqa: S608 (constants only)
    + VOTE_CREDITS_SQL.format(counted="participation")
    + """
    SELECT count(*) FROM participation
"""
)


def _vote_parameters(
    user: User, poll: Poll, rows: list[Answer], *, receipt: str, now: datetime
) -> dict:
    reason = Reason.BUILDING_SURVEY if poll.is_survey else Reason.VOTE
    return {
        "timeout": str(VOTE_STATEMENT_TIMEOUT_MS),
        "user": user.pk,
        "poll": poll.pk,
        "now": now,
        "apartment": user.verified_apartment if poll.is_survey else "",
        "per_apartment": poll.per_apartment,  # only surveys have it (a CHECK)
        "sealed_receipt": receipt_seal(receipt),
        "receipt": receipt,
        **_voter_snapshot(user=user, poll=poll, now=now),
        "questions": [row.question_id for row in rows],
        "options": [row.option_id for row in rows],
        "values": [row.value for row in rows],
        "texts": [row.text for row in rows],
        **vote_credits(user=user, poll_id=poll.pk, points=poll.points, reason=reason),
    }


def _refusal_of_the_insert(*, user: User, poll: Poll) -> Refusal:
    """Why the participation's insert found no place: suspended on the way, voted, or a
    flatmate voted first in a one-vote-per-apartment survey."""
    if User.objects.filter(pk=user.pk, suspended_at__isnull=False).exists():
        return suspended_refusal()
    if Participation.objects.filter(user=user, poll=poll).exists():
        return Refusal("already_voted", str(ALREADY_VOTED))
    return Refusal("apartment_voted", str(APARTMENT_VOTED))


def _voter_snapshot(*, user: User, poll: Poll, now: datetime) -> dict:
    """The coarse facts a ballot keeps for breakdowns: never who, never when.

    A building survey keeps only the district (age and gender would single neighbours out),
    and an open-ballot survey keeps who voted, for the neighbours to see.
    """
    district = user.home_building.district if user.home_building else None
    snapshot = {
        "district": district.pk if district else None,
        "okrug": district.okrug_id if district else None,
        "age_band": AgeBand.UNKNOWN,
        "gender": "",
        "voter": None,
        "voter_apartment": "",
    }
    if not poll.is_survey:
        return snapshot | {"age_band": age_band(user=user, now=now), "gender": user.gender}
    if poll.open_ballot:
        snapshot |= {"voter": user.pk, "voter_apartment": user.verified_apartment}
    return snapshot


# --- the admin's operations -----------------------------------------------------------------


def poll_has_votes(*, poll_id: int) -> bool:
    return Participation.objects.filter(poll_id=poll_id).exists()


def poll_is_locked(*, poll_id: int) -> bool:
    """Questions, options and scope are frozen once a published poll has opened (a vote may
    be in flight) or anyone has voted."""
    opened = Poll.objects.filter(
        pk=poll_id, status=PollStatus.PUBLISHED, opens_at__lte=timezone.now()
    ).exists()
    return opened or poll_has_votes(poll_id=poll_id)


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
    """Back to draft; only while nobody has voted (votes cannot be taken back).

    The poll row is locked FOR UPDATE first, which waits for votes in flight (they hold a
    KEY SHARE lock on it through the participation's foreign key), so none slips in
    between the check and the update.
    """
    with transaction.atomic():
        Poll.objects.select_for_update().filter(pk=poll.pk).exists()
        if poll_has_votes(poll_id=poll.pk):
            raise PollError(_("Residents have voted in this poll: it cannot be unpublished."))
        Poll.objects.filter(pk=poll.pk).update(status=PollStatus.DRAFT)
    poll.status = PollStatus.DRAFT


def poll_duplicate(*, poll: Poll, created_by: User | None = None) -> Poll:
    """A draft copy of ``poll`` with its questions, options and scope, and no votes."""
    with transaction.atomic():
        copy = Poll.objects.get(pk=poll.pk)
        copy.pk = None
        title_length = Poll._meta.get_field("title").max_length
        copy.title = (_("Copy of %(title)s") % {"title": poll.title})[:title_length]
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


NON_ANSWERS_ONLY_FOR_CHOICES = gettext_lazy(
    "Standard non-answers fit single and multiple choice questions only."
)


def takes_non_answers(*, kind: str) -> bool:
    """Only choice questions: a scale, ranking, matrix or text has no place for them."""
    return kind in CHOICE_KINDS


def question_add_non_answers(*, question: Question) -> None:
    """Add the standard non-answers ("Затрудняюсь ответить"...) that the question lacks."""
    if not takes_non_answers(kind=question.kind):
        raise PollError(NON_ANSWERS_ONLY_FOR_CHOICES)
    existing = set(question.options.values_list("text", flat=True))
    last = max(question.options.values_list("position", flat=True), default=0)
    Option.objects.bulk_create(
        [
            Option(question=question, text=text, position=last + index, is_non_answer=True)
            for index, text in enumerate(NON_ANSWERS, start=1)
            if text not in existing
        ]
    )


# --- the schedule: open, close, tally, publish -------------------------------------------------


def polls_open_due(*, now: datetime | None = None) -> list[int]:
    """Stamp published polls whose opening time has come; each once (conditional UPDATE)."""
    now = now or timezone.now()
    return _stamp(Poll.objects.filter(opens_at__lte=now), field="opened_at", now=now)


def polls_close_due(*, now: datetime | None = None) -> list[int]:
    """Stamp published polls closed once ``CLOSE_GRACE`` has passed after ``closes_at``;
    deleted accounts' apartments, kept while they stopped a second vote from the
    apartment, are cleared (``personal_data_erase``)."""
    now = now or timezone.now()
    due = Poll.objects.filter(closes_at__lte=now - CLOSE_GRACE)
    closed = _stamp(due, field="closed_at", now=now)
    Participation.objects.filter(poll_id__in=closed, user__erased_at__isnull=False).exclude(
        apartment=""
    ).update(apartment="")
    return closed


def _stamp(polls, *, field: str, now: datetime) -> list[int]:
    """Set ``field`` on the published polls of ``polls`` that lack it; return their ids.

    The rows are locked as they are read and others' locked rows skipped, so two beats or
    two workers at once stamp each poll once. NO KEY UPDATE locks do not block votes.
    """
    with transaction.atomic():
        ids = list(
            polls.filter(status=PollStatus.PUBLISHED, **{f"{field}__isnull": True})
            .select_for_update(skip_locked=True, no_key=True)
            .values_list("pk", flat=True)
        )
        Poll.objects.filter(pk__in=ids).update(**{field: now})
    return ids


def polls_due_for_final_tally() -> list[int]:
    return list(
        Poll.objects.filter(closed_at__isnull=False, tallied_at__isnull=True).values_list(
            "pk", flat=True
        )
    )


def polls_live_open(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(
        Poll.objects.filter(
            status=PollStatus.PUBLISHED,
            results_visibility=ResultsVisibility.LIVE,
            opens_at__lte=now,
            closed_at__isnull=True,
        ).values_list("pk", flat=True)
    )


# The tally: GROUP BY in the database, written straight into the tally tables.
# bench/tally.py times these same SELECTs bare, next to poll_tally.
TALLY_OPTIONS_SQL = """
    SELECT a.question_id, a.option_id, a.value, count(*)
    FROM polls_answer a
    WHERE a.question_id = ANY(%(questions)s)
    GROUP BY a.question_id, a.option_id, a.value
"""
TALLY_QUESTIONS_SQL = """
    SELECT a.question_id, count(DISTINCT a.ballot_id),
           avg(a.value) FILTER (WHERE a.question_id = ANY(%(scales)s))
    FROM polls_answer a
    WHERE a.question_id = ANY(%(answered)s)
    GROUP BY a.question_id
"""
# One pass over the choice answers for all four breakdowns. In a grouping set's rows the
# other three columns are NULL, so COALESCE picks the set's own value.
TALLY_BREAKDOWN_SQL = """
    SELECT a.question_id, a.option_id,
           CASE WHEN GROUPING(b.okrug_id) = 0 THEN 'okrug'
                WHEN GROUPING(b.district_id) = 0 THEN 'district'
                WHEN GROUPING(b.age_band) = 0 THEN 'age_band'
                ELSE 'gender' END,
           COALESCE(b.okrug_id::text, b.district_id::text, b.age_band, b.gender, ''),
           count(*)
    FROM polls_answer a JOIN polls_ballot b ON b.id = a.ballot_id
    WHERE a.question_id = ANY(%(choices)s)
    GROUP BY GROUPING SETS (
        (a.question_id, a.option_id, b.okrug_id),
        (a.question_id, a.option_id, b.district_id),
        (a.question_id, a.option_id, b.age_band),
        (a.question_id, a.option_id, b.gender)
    )
"""
TALLY_GROUPS_SQL = """
    SELECT CASE WHEN GROUPING(okrug_id) = 0 THEN 'okrug'
                WHEN GROUPING(district_id) = 0 THEN 'district'
                WHEN GROUPING(age_band) = 0 THEN 'age_band'
                ELSE 'gender' END,
           COALESCE(okrug_id::text, district_id::text, age_band, gender, ''),
           count(*)
    FROM polls_ballot
    WHERE poll_id = %(poll)s
    GROUP BY GROUPING SETS ((okrug_id), (district_id), (age_band), (gender))
"""
TALLY_PARTICIPANTS_SQL = "SELECT count(*) FROM polls_ballot WHERE poll_id = %(poll)s"


def tally_parameters(*, poll_id: int) -> dict:
    """Question ids by role, for the tally statements."""
    kinds = dict(Question.objects.filter(poll_id=poll_id).values_list("pk", "kind"))
    return {
        "poll": poll_id,
        "questions": [pk for pk, kind in kinds.items() if kind != QuestionKind.TEXT],
        "answered": list(kinds),
        "scales": [pk for pk, kind in kinds.items() if kind == QuestionKind.SCALE],
        "choices": [pk for pk, kind in kinds.items() if kind in CHOICE_KINDS],
    }


def poll_tally(*, poll_id: int, final: bool) -> None:
    """Replace the poll's stored tally with a fresh count, in one transaction.

    Idempotent: running it twice, or twice at once (the poll row is locked), stores the
    same rows. A process killed half-way leaves the previous tally, since nothing is
    committed. ``final`` marks the count after closing and stamps ``tallied_at`` once; after
    that, live recounts are skipped.
    """
    parameters = tally_parameters(poll_id=poll_id)
    with transaction.atomic():
        # A final count waits for votes still in flight (FOR UPDATE conflicts with the KEY
        # SHARE lock a vote's participation holds on the poll); a live one does not.
        locked = Poll.objects.select_for_update(no_key=not final).filter(pk=poll_id)
        tallied_at = locked.values_list("tallied_at", flat=True).get()
        if not final and tallied_at is not None:
            return  # a late live recount must not replace the final count
        for model in (OptionTally, QuestionTally, GroupTally):
            model.objects.filter(poll_id=poll_id).delete()
        with connection.cursor() as cursor:
            _insert_tallies(cursor, parameters)
            cursor.execute(TALLY_PARTICIPANTS_SQL, parameters)
            participants = cursor.fetchone()[0]
        now = timezone.now()
        PollTally.objects.update_or_create(
            poll_id=poll_id,
            defaults={"participants": participants, "computed_at": now, "final": final},
        )
        if final:
            Poll.objects.filter(pk=poll_id, tallied_at__isnull=True).update(tallied_at=now)


# Only the constant statements above are spliced in; values are bound as parameters.
INSERT_TALLIES = [
    'INSERT INTO polls_optiontally (poll_id, question_id, option_id, value, dimension, "group", '  # noqa: S608
    "count) SELECT %(poll)s, q.question_id, q.option_id, q.value, '', '', q.count "
    f"FROM ({TALLY_OPTIONS_SQL}) q",
    "INSERT INTO polls_questiontally (poll_id, question_id, answered, average) "  # noqa: S608
    f"SELECT %(poll)s, q.* FROM ({TALLY_QUESTIONS_SQL}) q",
    'INSERT INTO polls_optiontally (poll_id, question_id, option_id, dimension, "group", count) '  # noqa: S608
    f"SELECT %(poll)s, q.* FROM ({TALLY_BREAKDOWN_SQL}) q",
    'INSERT INTO polls_grouptally (poll_id, dimension, "group", ballots) '  # noqa: S608
    f"SELECT %(poll)s, q.* FROM ({TALLY_GROUPS_SQL}) q",
]


def _insert_tallies(cursor, parameters: dict) -> None:
    for statement in INSERT_TALLIES:
        cursor.execute(statement, parameters)


def poll_results_publish(*, poll_id: int) -> bool:
    """Publish the final results of a tallied poll and notify every participant, once.

    Returns whether this call published them (False if already published or not tallied).
    The ballot log is checkpointed first, so the published log holds every counted ballot.
    """
    if Poll.objects.filter(pk=poll_id, results_published_at__isnull=True).exists():
        ballot_log_checkpoint(poll_id=poll_id)
    now = timezone.now()
    with transaction.atomic():
        published = Poll.objects.filter(
            pk=poll_id, tallied_at__isnull=False, results_published_at__isnull=True
        ).update(results_published_at=now)
        if published:
            poll = Poll.objects.get(pk=poll_id)
            notifications_create(
                user_ids=Participation.objects.filter(poll_id=poll_id).values_list(
                    "user_id", flat=True
                ),
                kind=NotificationKind.RESULTS_PUBLISHED,
                key=f"poll:{poll_id}:results",
                params={"poll_id": poll_id, "title": poll.title},
                url=reverse("poll_results", args=[poll_id]),
            )
    return bool(published)


def export_record(*, user: User, poll: Poll, kind: str, file_name: str) -> None:
    """Remember who took which export of which poll: in the poll's list of exports and in
    the audit log (which, unlike that list, outlives the poll and cannot be edited)."""
    with transaction.atomic():
        ExportRecord.objects.create(user=user, poll=poll, kind=kind, file_name=file_name)
        audit_record(actor=user, action=AuditAction.DOWNLOAD, obj=poll, detail=file_name)


def poll_create(*, data: dict, created_by: User) -> Poll:
    """A draft poll with its questions and options, from validated API input, in one
    transaction (city integrations build polls this way; admins use the admin)."""
    questions = data.pop("questions")
    okrugs, districts = data.pop("okrugs", []), data.pop("districts", [])
    with transaction.atomic():
        poll = Poll.objects.create(status=PollStatus.DRAFT, created_by=created_by, **data)
        poll.okrugs.set(okrugs)
        poll.districts.set(districts)
        for position, fields in enumerate(questions, start=1):
            options = fields.pop("options", [])
            question = Question.objects.create(poll=poll, position=position, **fields)
            Option.objects.bulk_create(
                Option(question=question, position=index, **option)
                for index, option in enumerate(options, start=1)
            )
    return poll


# --- building surveys -------------------------------------------------------------------------

SURVEY_POINTS = 5  # for a vote in a building survey: its authors do not choose


class SurveyError(Exception):
    """A building-survey step the rules refuse: a stable ``code`` and a message."""

    def __init__(self, message: str, *, code: str = "invalid", status: int = 400):
        self.code, self.status = code, status
        super().__init__(message)


def survey_create(*, author: User, data: dict) -> Poll:
    """Publish a survey for the author's building from validated input (the page's form and
    the API give the same shape as ``poll_create``), and tell the verified neighbours.

    The author must be a verified resident, may have at most ``BUILDING_SURVEY_MAX_OPEN``
    surveys open or upcoming (their row is locked while counting), and may schedule it to
    open within and run for at most ``BUILDING_SURVEY_MAX_DAYS`` days.
    """
    now = timezone.now()
    data = {**data, "opens_at": max(data.get("opens_at") or now, now)}
    _survey_schedule_check(opens_at=data["opens_at"], closes_at=data["closes_at"], now=now)
    with transaction.atomic():
        resident = resident_lock(author.pk)
        if resident.verified_building_id is None:
            raise SurveyError(
                _("Only verified residents create surveys for their building."),
                code="not_verified_resident",
                status=403,
            )
        _survey_limit_check(author=resident, now=now)
        poll = poll_create(
            data={
                **data,
                "scope": Scope.BUILDING,
                "building_id": resident.verified_building_id,
                "points": SURVEY_POINTS,
                "results_visibility": (
                    ResultsVisibility.LIVE
                    if data.get("open_ballot")
                    else ResultsVisibility.AFTER_CLOSE
                ),
            },
            created_by=resident,
        )
        try:
            poll_publish(poll=poll)
        except PollError as error:
            raise SurveyError(str(error)) from error
        _survey_announce(poll=poll, author=resident)
    return poll


def _survey_schedule_check(*, opens_at: datetime, closes_at: datetime, now: datetime) -> None:
    longest = timedelta(days=settings.BUILDING_SURVEY_MAX_DAYS)
    if closes_at <= opens_at:
        raise SurveyError(_("The survey must close after it opens."))
    if opens_at - now > longest:
        raise SurveyError(
            ngettext(
                "A survey may be scheduled to open at most %(days)d day ahead.",
                "A survey may be scheduled to open at most %(days)d days ahead.",
                longest.days,
            )
            % {"days": longest.days}
        )
    if closes_at - opens_at > longest:
        raise SurveyError(
            ngettext(
                "A survey may run for at most %(days)d day.",
                "A survey may run for at most %(days)d days.",
                longest.days,
            )
            % {"days": longest.days}
        )


def _survey_limit_check(*, author: User, now: datetime) -> None:
    limit = settings.BUILDING_SURVEY_MAX_OPEN
    running = Poll.objects.filter(
        created_by=author, scope=Scope.BUILDING, closes_at__gt=now, hidden_at__isnull=True
    ).count()
    if running >= limit:
        raise SurveyError(
            ngettext(
                "You already have %(count)d survey open or upcoming, the most allowed.",
                "You already have %(count)d surveys open or upcoming, the most allowed.",
                limit,
            )
            % {"count": limit},
            code="too_many_surveys",
            status=409,
        )


def _survey_announce(*, poll: Poll, author: User) -> None:
    """Notify the building's verified residents (in-app; emailed unless they turned it off)."""
    building = Building.objects.get(pk=poll.building_id)
    notifications_create(
        user_ids=User.objects.filter(verified_building_id=poll.building_id, is_active=True)
        .exclude(pk=author.pk)
        .values_list("pk", flat=True),
        kind=NotificationKind.SURVEY_CREATED,
        key=f"poll:{poll.pk}:new",
        params={
            "poll_id": poll.pk,
            "title": poll.title,
            "address": building.address,
            "closes": poll.closes_at.isoformat(),
        },
        url=reverse("poll_detail", args=[poll.pk]),
    )


def survey_report(*, user: User, poll: Poll, reason: str) -> None:
    """A neighbour reports a survey to the city's moderators; once each."""
    reason = reason.strip()
    if not reason:
        raise SurveyError(_("Say what is wrong with this survey."))
    try:
        with transaction.atomic():
            SurveyReport.objects.create(poll=poll, user=user, reason=reason[:500])
    except IntegrityError as error:
        raise SurveyError(
            _("You have already reported this survey."), code="already_reported", status=409
        ) from error


def survey_hide(*, poll: Poll, reason: str) -> None:
    """A city admin hides a survey; its author sees the reason (page and notification)."""
    reason = reason.strip()
    if not reason:
        raise SurveyError(_("Give the reason for hiding the survey: its author will read it."))
    with transaction.atomic():
        Poll.objects.filter(pk=poll.pk).update(hidden_at=timezone.now(), hidden_reason=reason)
        if poll.created_by_id:
            notifications_create(
                user_ids=[poll.created_by_id],
                kind=NotificationKind.SURVEY_HIDDEN,
                key=f"poll:{poll.pk}:hidden:{timezone.now():%Y%m%d%H%M%S}",
                params={"poll_id": poll.pk, "title": poll.title, "reason": reason},
                url=reverse("poll_detail", args=[poll.pk]),
            )


def survey_unhide(*, poll: Poll) -> None:
    Poll.objects.filter(pk=poll.pk).update(hidden_at=None, hidden_reason="")


# --- decisions taken after polls (docs/decisions/0008) ---------------------------------------


class DecisionError(Exception):
    """A decision step the rules refuse: a stable ``code``, the form ``field`` it concerns
    (None: the whole step) and a message."""

    def __init__(self, message: str, *, code: str, field: str | None = None):
        self.code, self.field = code, field
        super().__init__(message)


@dataclass(frozen=True)
class DecisionStep:
    """A status from a date on, with a note (the reason, for a decline)."""

    status: str
    on: date
    note: str = ""


def decision_poll_problem(*, poll: Poll, now: datetime | None = None) -> DecisionError | None:
    """Why no decision may be recorded after ``poll`` yet (None: it may): only city polls
    that have closed — building surveys decide for themselves."""
    if poll.is_survey:
        return DecisionError(
            _("Decisions are recorded for city polls, not building surveys."),
            code="not_a_city_poll",
            field="poll",
        )
    if poll.phase(now) != Phase.CLOSED:
        return DecisionError(
            _("The poll has not closed yet: a decision follows its results."),
            code="poll_not_closed",
            field="poll",
        )
    return None


def decision_step_problem(
    *, poll: Poll, step: DecisionStep, previous: DecisionUpdate | None
) -> DecisionError | None:
    """Why ``step`` cannot follow ``previous`` (None for the first step, the recording):
    the page, the admin's form and the services ask this one function."""
    if step.status not in DecisionStatus.values:
        return DecisionError(_("Choose a known status."), code="unknown_status", field="status")
    if step.status == DecisionStatus.DECLINED and not step.note.strip():
        return DecisionError(
            _("A declined decision needs its reason: residents will read it."),
            code="reason_required",
            field="note",
        )
    if step.on > timezone.localdate():
        return DecisionError(_("The date cannot be in the future."), code="future_date", field="on")
    if previous is None:
        if step.on < timezone.localdate(poll.opens_at):
            return DecisionError(
                _("The decision cannot be dated before its poll opened."),
                code="date_before_poll",
                field="on",
            )
        return None
    if step.on < previous.date:
        return DecisionError(
            _("The date cannot be before the last update (%(date)s).")
            % {"date": date_format(previous.date)},
            code="date_before_last_update",
            field="on",
        )
    if step.status == previous.status and not step.note.strip():
        return DecisionError(
            _("Nothing to record: change the status or write a note."), code="nothing_changed"
        )
    return None


def decision_record(
    *,
    poll: Poll,
    text: str,
    responsible_body: str,
    step: DecisionStep,
    recorded_by: User | None,
) -> Decision:
    """Record what the city decided after a closed city poll, with its first status (the
    step's date is the decision's date); in one transaction. The participants are told
    within a minute (``decision_announce``). Raises ``DecisionError``."""
    text, responsible_body = text.strip(), responsible_body.strip()
    if not text:
        raise DecisionError(_("Say what was decided."), code="text_required", field="text")
    if not responsible_body:
        raise DecisionError(
            _("Name the body responsible for the decision."),
            code="responsible_body_required",
            field="responsible_body",
        )
    step = DecisionStep(status=step.status, on=step.on, note=step.note.strip())
    problem = decision_poll_problem(poll=poll) or decision_step_problem(
        poll=poll, step=step, previous=None
    )
    if problem:
        raise problem
    with transaction.atomic():
        decision = Decision.objects.create(
            poll=poll,
            text=text,
            responsible_body=responsible_body,
            decided_on=step.on,
            status=step.status,
            recorded_by=recorded_by,
        )
        DecisionUpdate.objects.create(
            decision=decision,
            status=step.status,
            note=step.note,
            date=step.on,
            created_by=recorded_by,
        )
    return decision


def decision_update(
    *, decision: Decision, step: DecisionStep, updated_by: User | None
) -> DecisionUpdate:
    """Add a step to a decision's history and make its status the decision's, in one
    transaction; the decision row is locked, so two admins' updates queue one behind the
    other and each is checked against the one before. Raises ``DecisionError``."""
    step = DecisionStep(status=step.status, on=step.on, note=step.note.strip())
    with transaction.atomic():
        locked = Decision.objects.select_for_update().select_related("poll").get(pk=decision.pk)
        previous = DecisionUpdate.objects.filter(decision=locked).order_by("-pk").first()
        problem = decision_step_problem(poll=locked.poll, step=step, previous=previous)
        if problem:
            raise problem
        update = DecisionUpdate.objects.create(
            decision=locked, status=step.status, note=step.note, date=step.on, created_by=updated_by
        )
        Decision.objects.filter(pk=locked.pk).update(status=step.status)
    decision.status = step.status
    return update


ANNOUNCE_BATCH_SIZE = 5_000
ANNOUNCED_TEXT_LENGTH = 300


def decisions_to_announce() -> list[int]:
    """Decisions whose participants have not been told yet that they were taken, or that
    they are done."""
    return list(
        Decision.objects.filter(
            Q(announced_at__isnull=True)
            | Q(status=DecisionStatus.DONE, done_announced_at__isnull=True)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def decision_announce(*, decision_id: int, batch_size: int = ANNOUNCE_BATCH_SIZE) -> str | None:
    """Notify everyone who took part in the decision's poll that it was taken, or that it
    is done; return the notification kind sent, or None if there was nothing to tell.

    A decision already done when first announced is announced once, as done. The
    participants are notified in batches of ``batch_size`` (each one INSERT … SELECT,
    committed on its own), then the decision is stamped. Running it twice, twice at once,
    or again after a crash half-way notifies each participant once per decision and event:
    the notification's key is unique.
    """
    decision = Decision.objects.select_related("poll").get(pk=decision_id)
    done = decision.status == DecisionStatus.DONE
    if done and decision.done_announced_at is None:
        kind, event, stamps = (
            NotificationKind.DECISION_DONE,
            "done",
            ("announced_at", "done_announced_at"),
        )
    elif decision.announced_at is None:
        kind, event, stamps = NotificationKind.DECISION_RECORDED, "recorded", ("announced_at",)
    else:
        return None
    poll = decision.poll
    _participants_notify(
        poll_id=poll.pk,
        batch_size=batch_size,
        kind=kind,
        key=f"decision:{decision.pk}:{event}",
        params={
            "poll_id": poll.pk,
            "title": poll.title,
            "decision": Truncator(decision.text).chars(ANNOUNCED_TEXT_LENGTH),
            "body": decision.responsible_body,
        },
        url=f"{reverse('poll_results', args=[poll.pk])}#decision-{decision.pk}",
    )
    now = timezone.now()
    Decision.objects.filter(pk=decision.pk).update(
        **{stamp: Coalesce(stamp, Value(now)) for stamp in stamps}
    )
    return kind


def _participants_notify(*, poll_id: int, batch_size: int, **notification) -> None:
    """``notifications_create`` for the poll's participants, ``batch_size`` at a time in
    participation order, so no statement or transaction grows with the poll."""
    participations = Participation.objects.filter(poll_id=poll_id).order_by("pk")
    after = 0
    while True:
        rest = participations.filter(pk__gt=after)
        boundary = list(rest.values_list("pk", flat=True)[batch_size - 1 : batch_size])
        batch = rest.filter(pk__lte=boundary[0]) if boundary else rest
        notifications_create(user_ids=batch.values_list("user_id", flat=True), **notification)
        if not boundary:
            return
        after = boundary[0]


# --- erasing a resident's personal data (accounts/privacy.py, docs/decisions/0010) -------------


def personal_data_erase(*, user: User) -> None:
    """Inside the caller's transaction: open-ballot votes forget their voter (the one change
    the append-only ballots allow; the ballot stays counted, as every secret ballot does), and
    reports of surveys keep counting without the resident's words. Participations stay: they
    make the turnout and keep the anonymised account from voting twice. Their apartment
    (with the survey's building, the erased address) is cleared, except where it still stops
    a flatmate voting again: an unclosed one-vote-per-apartment survey clears it on closing
    (``polls_close_due``). An open ballot keeps its apartment (docs/decisions/0010)."""
    Ballot.objects.filter(voter=user).update(voter=None)
    Participation.objects.filter(user=user).exclude(apartment="").exclude(
        one_per_apartment=True, poll__closed_at__isnull=True
    ).update(apartment="")
    SurveyReport.objects.filter(user=user).update(reason="")
