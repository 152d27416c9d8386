"""Open data of a city poll: its logged ballots, signed tree heads and results, as JSON and
CSV, in the shapes ``civic_verify`` reads. Ballots stream in log order, a batch at a time."""

import json
from collections.abc import Iterator
from itertools import chain

from django.conf import settings

from polls.ballot_log import logged_ballots, public_key_hex
from polls.exports import csv_stream
from polls.models import Dimension, OptionTally, Poll, PollTally, QuestionKind, TreeHead

JSON, CSV = "application/json", "text/csv; charset=utf-8"
# Tree heads are public from the first checkpoint (the participation curve); ballots and
# results once the final results are published.
PUBLIC_WHILE_OPEN = {"tree_heads.json"}


def file_available(poll: Poll, name: str) -> bool:
    return name in PUBLIC_WHILE_OPEN or poll.results_published_at is not None


def open_data_stream(poll: Poll, name: str) -> Iterator[bytes]:
    _content_type, write = FILES[name]
    return write(poll)


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def ballots_json(poll: Poll) -> Iterator[bytes]:
    yield f'{{"poll":{poll.pk},"licence":{_dumps(settings.OPEN_DATA_LICENCE)},"ballots":['.encode()
    for position, ballot in enumerate(logged_ballots(poll_id=poll.pk)):
        yield (("," if position else "") + _dumps(ballot)).encode()
    yield b"]}"


def ballots_csv(poll: Poll) -> Iterator[bytes]:
    rows = (
        [b["index"], b["receipt"], b["okrug"] or "", b["age_band"], _dumps(b["answers"])]
        for b in logged_ballots(poll_id=poll.pk)
    )
    header = [["index", "receipt", "okrug", "age_band", "answers [question, option, value]"]]
    return csv_stream(chain(header, rows), separator=",")


def tree_heads_json(poll: Poll) -> Iterator[bytes]:
    heads = [
        {
            "size": head.size,
            "root": head.root,
            "time": head.time,
            "signature": head.signature,
            "consistency_proof": head.consistency_proof,
        }
        for head in TreeHead.objects.filter(poll=poll).order_by("size")
    ]
    yield _dumps({"poll": poll.pk, "public_key": public_key_hex(), "heads": heads}).encode()


def results_counts(poll: Poll) -> list[dict]:
    """The final count per [question, option, value], as the ballots' answers spell them."""
    return [
        {"question": question, "option": option, "value": value, "count": count}
        for question, option, value, count in OptionTally.objects.filter(
            poll=poll, dimension=Dimension.CITY
        )
        .order_by("question_id", "option_id", "value")
        .values_list("question_id", "option_id", "value", "count")
    ]


def results_json(poll: Poll) -> Iterator[bytes]:
    tally = PollTally.objects.filter(poll=poll).first()
    questions = [
        {
            "id": question.pk,
            "text": question.text,
            "kind": question.kind,
            "options": [
                {"id": option.pk, "text": option.text} for option in question.options.all()
            ],
        }
        for question in poll.questions.exclude(kind=QuestionKind.TEXT).prefetch_related("options")
    ]
    yield _dumps(
        {
            "poll": poll.pk,
            "title": poll.title,
            "licence": settings.OPEN_DATA_LICENCE,
            "participants": tally.participants if tally else 0,
            "questions": questions,
            "counts": results_counts(poll),
        }
    ).encode()


def results_csv(poll: Poll) -> Iterator[bytes]:
    rows = (
        [c["question"], c["option"] or "", c["value"] if c["value"] is not None else "", c["count"]]
        for c in results_counts(poll)
    )
    return csv_stream(chain([["question", "option", "value", "count"]], rows), separator=",")


# Each published file: its content type and what writes it.
FILES = {
    "ballots.json": (JSON, ballots_json),
    "ballots.csv": (CSV, ballots_csv),
    "tree_heads.json": (JSON, tree_heads_json),
    "results.json": (JSON, results_json),
    "results.csv": (CSV, results_csv),
}
