"""CSV exports for city staff: results, breakdown, anonymised ballots and participation.

Every file is UTF-8 with a BOM (Excel then shows Cyrillic), comma- or semicolon-separated
(Excel in Russian locales expects ";"), quoted as RFC 4180 says, and protected against
CSV injection: a text cell starting with = + - @ (or a tab or carriage return) gets a
leading apostrophe, so a spreadsheet shows it instead of running it. Files stream: the
ballots come straight out of PostgreSQL's COPY, chunk by chunk, so memory stays flat
however many ballots there are.
"""

import csv
import io
from collections.abc import Iterable, Iterator

from django.db import connection
from psycopg import sql

from polls.models import CHOICE_KINDS, Dimension, Poll, QuestionKind
from polls.selectors import participation_by_hour, poll_breakdown, poll_results

BOM = "\ufeff".encode()
SEPARATORS = {"comma": ",", "semicolon": ";"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 2000
CHUNK_BYTES = 256 * 1024  # COPY sends a message a row; the response gets pieces this big
LINE_END = "\n"  # as PostgreSQL's COPY writes it, so a file never mixes two line endings


def escape_formula(value):
    """Text that a spreadsheet would read as a formula, made plain text (numbers, such as a
    scale's "-2", stay numbers)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _is_number(value):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _cell(value, *, separator: str):
    """A cell as the file's audience reads it: decimal commas in the semicolon variant
    (Excel in Russian locales), formulas defused."""
    if isinstance(value, float) and separator == ";":
        return f"{value}".replace(".", ",")
    return escape_formula(value)


def csv_stream(rows: Iterable[list], *, separator: str) -> Iterator[bytes]:
    """Encode rows as CSV, a chunk of ``CHUNK_ROWS`` rows at a time, after the BOM. Every
    text cell is quoted, so a stray carriage return inside one cannot break a row."""
    yield BOM
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, delimiter=separator, lineterminator=LINE_END, quoting=csv.QUOTE_NONNUMERIC
    )
    for number, row in enumerate(rows, start=1):
        writer.writerow([_cell(value, separator=separator) for value in row])
        if number % CHUNK_ROWS == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


# --- results and breakdown, from the stored tallies --------------------------------------------


def results_rows(poll: Poll) -> Iterator[list]:
    """poll, dimension, area, question, option, count, percent, Borda score: the whole
    city (with the participants and, for rankings, first preferences and Borda scores),
    then each okrug and district that is shown (the same suppression as the results page).
    Area percentages are shares of the area's ballots."""
    yield ["poll", "dimension", "area", "question", "option", "count", "percent", "borda_score"]
    results = poll_results(poll=poll)
    yield [poll.title, "city", "", "participants", "", results.participants, 100.0, ""]
    for result in results.questions:
        question = result.question.text
        for share in result.shares:
            yield [poll.title, "city", "", question, share.label, share.count, share.percent, ""]
        for row in result.rows:
            for share in row.distribution:
                label = f"{row.option.text}: {share.label}"
                yield [poll.title, "city", "", question, label, share.count, share.percent, ""]
        for ranked in result.ranking:
            first = [ranked.first_preferences, ranked.first_percent, ranked.borda]
            yield [poll.title, "city", "", question, ranked.option.text, *first]
    areas = [
        breakdown
        for breakdown in poll_breakdown(poll=poll)
        if breakdown.dimension in (Dimension.OKRUG, Dimension.DISTRICT)
    ]
    for breakdown in areas:
        for group, question, option, count, share in _shown_cells(results, breakdown):
            row = [group.label, question.text, option.text, count, share, ""]
            yield [poll.title, breakdown.dimension, *row]


def _shown_cells(results, breakdown):
    """(group, question, option, count, percent) for every shown group and choice option."""
    questions = [r.question for r in results.questions if r.question.kind in CHOICE_KINDS]
    for group in breakdown.shown_groups:
        for question in questions:
            for option in question.options.all():
                yield (
                    group,
                    question,
                    option,
                    group.counts.get(question.pk, {}).get(option.pk, 0),
                    group.shares.get(question.pk, {}).get(option.pk, 0.0),
                )


def breakdown_rows(poll: Poll) -> Iterator[list]:
    """dimension, group, ballots, question, option, count, percent; hidden groups are left
    out (fewer than 10 ballots, and those that would reveal them)."""
    yield ["dimension", "group", "ballots", "question", "option", "count", "percent"]
    results = poll_results(poll=poll)
    for breakdown in poll_breakdown(poll=poll):
        for group, question, option, count, share in _shown_cells(results, breakdown):
            row = [group.label, group.ballots, question.text, option.text, count, share]
            yield [breakdown.dimension, *row]


# --- participation ------------------------------------------------------------------------------


def participation_rows(poll: Poll, *, time_zone: str) -> Iterator[list]:
    """hour, district, participants: who took part when and where (never what they chose)."""
    yield ["hour", "district", "participants"]
    yield from (list(row) for row in participation_by_hour(poll=poll, time_zone=time_zone))


# --- ballots, through COPY ----------------------------------------------------------------------


def _safe(expression: sql.Composable) -> sql.Composable:
    """The SQL twin of ``escape_formula``, for text that leaves by COPY."""
    return sql.SQL(
        "CASE WHEN left({e}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) "
        "THEN '''' || {e} ELSE {e} END"
    ).format(e=expression)


def ballots_query(poll: Poll, *, include_text: bool) -> tuple[sql.Composable, list[str]]:
    """One row per ballot: receipt, okrug, district, age band, gender, then one column per
    question (chosen options joined with "; ", ranking in order, matrix as "row: value",
    scale values). No user, no time. Without ``include_text`` (exports for people other
    than city staff) free text, "Other" texts and the voter snapshot are left out too."""
    questions = list(poll.questions.all())
    columns = []
    for question in questions:
        aggregate, is_text = _answer_aggregate(question, include_text=include_text)
        column = sql.SQL("{aggregate} FILTER (WHERE a.question_id = {question})").format(
            aggregate=aggregate, question=sql.Literal(question.pk)
        )
        columns.append(_safe(column) if is_text else column)
    snapshot = ["okrug", "district", "age_band", "gender"] if include_text else []
    header = ["receipt", *snapshot, *[q.text for q in questions]]
    answers = sql.SQL(", ").join(columns) if columns else sql.SQL("NULL")
    query = sql.SQL(
        """
        SELECT b.receipt, {snapshot}{answers}
        FROM polls_ballot b
        LEFT JOIN civic_okrug o ON o.id = b.okrug_id
        LEFT JOIN civic_district d ON d.id = b.district_id
        LEFT JOIN polls_answer a ON a.ballot_id = b.id
        LEFT JOIN polls_option opt ON opt.id = a.option_id
        WHERE b.poll_id = {poll}
        GROUP BY b.id, b.receipt, o.name, d.name, b.age_band, b.gender
        """
    ).format(
        snapshot=sql.SQL("{okrug}, {district}, b.age_band, b.gender, ").format(
            okrug=_safe(sql.SQL("COALESCE(o.name, '')")),
            district=_safe(sql.SQL("COALESCE(d.name, '')")),
        )
        if include_text
        else sql.SQL(""),
        answers=answers,
        poll=sql.Literal(poll.pk),
    )
    return query, header


def _answer_aggregate(question, *, include_text: bool) -> tuple[sql.Composable, bool]:
    """The aggregate that spells one question's answer on a ballot, and whether it is text
    (to be defused against formulas)."""
    if question.kind == QuestionKind.TEXT:
        return sql.SQL("string_agg(a.text, '; ')" if include_text else "max(NULL::text)"), True
    if question.kind == QuestionKind.SCALE:
        return sql.SQL("string_agg(a.value::text, '; ')"), False
    if question.kind == QuestionKind.RANKING:
        return sql.SQL("string_agg(opt.text, '; ' ORDER BY a.value)"), True
    if question.kind == QuestionKind.MATRIX:
        return sql.SQL("string_agg(opt.text || ': ' || a.value, '; ' ORDER BY opt.position)"), True
    if not include_text:
        return sql.SQL("string_agg(opt.text, '; ' ORDER BY opt.position)"), True
    return (
        sql.SQL(
            "string_agg(CASE WHEN opt.is_other AND a.text <> '' "
            "THEN opt.text || ' (' || a.text || ')' ELSE opt.text END, '; ' ORDER BY opt.position)"
        ),
        True,
    )


def ballots_stream(poll: Poll, *, separator: str, include_text: bool) -> Iterator[bytes]:
    """The ballots as CSV bytes straight from COPY: BOM and header, then PostgreSQL's own
    RFC 4180 output as it arrives."""
    query, header = ballots_query(poll, include_text=include_text)
    first = io.StringIO()
    csv.writer(first, delimiter=separator, lineterminator=LINE_END, quoting=csv.QUOTE_ALL).writerow(
        [escape_formula(value) for value in header]
    )
    yield BOM + first.getvalue().encode()
    copy = sql.SQL("COPY ({query}) TO STDOUT (FORMAT csv, DELIMITER {separator})").format(
        query=query, separator=sql.Literal(separator)
    )
    piece = bytearray()
    with connection.cursor() as cursor, cursor.copy(copy) as stream:
        for row in stream:
            piece += row
            if len(piece) >= CHUNK_BYTES:
                yield bytes(piece)
                piece.clear()
    yield bytes(piece)


def export_file_name(poll: Poll, kind: str, *, today) -> str:
    return f"poll-{poll.pk}-{kind}-{today:%Y-%m-%d}.csv"
