"""A recount with and without the ballots flagged as cast from suspended accounts
(docs/decisions/0009). Counted from the stored ballots each time it is asked for, never
stored: ballots and the published tally stay as they are."""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import connection
from django.utils.translation import gettext as _

from polls.models import CHOICE_KINDS, BallotFlagRun, Poll, Question, QuestionKind
from polls.selectors import percent

# Every answer of the poll's questions with whether its ballot is flagged in the run; free
# text is not counted (as in the results).
RECOUNT_SQL = """
    SELECT a.question_id, a.option_id, a.value,
           count(*), count(*) FILTER (WHERE f.id IS NULL)
    FROM polls_answer a
    LEFT JOIN polls_ballotflag f ON f.ballot_id = a.ballot_id AND f.run_id = %(run)s
    WHERE a.question_id = ANY(%(questions)s)
    GROUP BY a.question_id, a.option_id, a.value
"""
ANSWERED_SQL = """
    SELECT a.question_id, count(DISTINCT a.ballot_id),
           count(DISTINCT a.ballot_id) FILTER (WHERE f.id IS NULL)
    FROM polls_answer a
    LEFT JOIN polls_ballotflag f ON f.ballot_id = a.ballot_id AND f.run_id = %(run)s
    WHERE a.question_id = ANY(%(questions)s)
    GROUP BY a.question_id
"""
BALLOTS_SQL = """
    SELECT count(*), count(*) FILTER (WHERE f.id IS NULL)
    FROM polls_ballot b
    LEFT JOIN polls_ballotflag f ON f.ballot_id = b.id AND f.run_id = %(run)s
    WHERE b.poll_id = %(poll)s
"""


@dataclass(frozen=True)
class RecountCell:
    """One answer: its count among all ballots and without the flagged ones."""

    label: str
    count: int
    percent: float
    kept: int
    kept_percent: float


@dataclass
class RecountQuestion:
    question: Question
    answered: int
    kept_answered: int
    cells: list[RecountCell] = field(default_factory=list)


@dataclass
class Recount:
    poll: Poll
    run: BallotFlagRun | None
    ballots: int
    kept: int
    questions: list[RecountQuestion]

    @property
    def flagged(self) -> int:
        return self.ballots - self.kept


def poll_recount(*, poll: Poll, run: BallotFlagRun | None) -> Recount:
    """Count ``poll`` (from ``poll_with_questions``) twice in three queries: every ballot,
    and every ballot not flagged in ``run`` (None: nothing is left out)."""
    questions = [q for q in poll.questions.all() if q.kind != QuestionKind.TEXT]
    parameters = {
        "poll": poll.pk,
        "run": run.pk if run else None,
        "questions": [q.pk for q in questions],
    }
    counts: dict[int, dict] = defaultdict(dict)
    answered: dict[int, tuple[int, int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(RECOUNT_SQL, parameters)
        for question_id, option_id, value, count, kept in cursor.fetchall():
            counts[question_id][(option_id, value)] = (count, kept)
        cursor.execute(ANSWERED_SQL, parameters)
        for question_id, count, kept in cursor.fetchall():
            answered[question_id] = (count, kept)
        cursor.execute(BALLOTS_SQL, parameters)
        ballots, kept_ballots = cursor.fetchone()
    return Recount(
        poll=poll,
        run=run,
        ballots=ballots,
        kept=kept_ballots,
        questions=[
            _recount_question(q, counts[q.pk], answered.get(q.pk, (0, 0))) for q in questions
        ],
    )


def _recount_question(question: Question, counts: dict, answered: tuple) -> RecountQuestion:
    """Cells as the results page shows them: choice options; scale values; matrix rows by
    rating; ranking options by place. Percentages are of the ballots that answered."""
    result = RecountQuestion(question, *answered)
    options = list(question.options.all())
    if question.kind in CHOICE_KINDS:
        keys = [(option.text, (option.pk, None)) for option in options]
    elif question.kind == QuestionKind.SCALE:
        keys = [(str(value), (None, value)) for value in question.scale_values]
    elif question.kind == QuestionKind.MATRIX:
        keys = [
            (f"{option.text}: {value}", (option.pk, value))
            for option in options
            for value in question.scale_values
        ]
    else:  # ranking: how often each option took each place
        keys = [
            (
                _("%(option)s: place %(place)d") % {"option": option.text, "place": place},
                (option.pk, place),
            )
            for option in options
            for place in range(1, len(options) + 1)
        ]
    for label, key in keys:
        count, kept = counts.get(key, (0, 0))
        result.cells.append(
            RecountCell(
                label,
                count,
                percent(count, result.answered),
                kept,
                percent(kept, result.kept_answered),
            )
        )
    return result


def recount_rows(recount: Recount) -> Iterator[list]:
    """The recount as CSV rows (``polls.exports.csv_stream``)."""
    yield [
        "poll",
        "question",
        "answer",
        "count",
        "percent",
        "count_without_flagged",
        "percent_without_flagged",
    ]
    title = recount.poll.title
    yield [title, "ballots", "", recount.ballots, 100.0, recount.kept, 100.0]
    for question in recount.questions:
        for cell in question.cells:
            yield [
                title,
                question.question.text,
                cell.label,
                cell.count,
                cell.percent,
                cell.kept,
                cell.kept_percent,
            ]
