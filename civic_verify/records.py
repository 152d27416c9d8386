"""What is hashed and signed, byte for byte: a ballot as a log leaf, and a tree head."""

import json


def canonical(value) -> bytes:
    """JSON with sorted keys, no spaces, UTF-8: one spelling for one value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def ballot_record(*, poll: int, receipt: str, okrug: int | None, age_band: str, answers) -> dict:
    """A ballot as it is logged and published: the receipt, the coarse area and age band,
    and the answers as sorted [question, option, value] triples (free text is left out)."""
    return {
        "poll": poll,
        "receipt": receipt,
        "okrug": okrug,
        "age_band": age_band,
        "answers": sorted([list(answer) for answer in answers], key=_answer_order),
    }


def _answer_order(answer: list) -> tuple:
    """Absent (None) sorts before any number, negative scale values included."""
    question, option, value = answer
    return (question, option is not None, option or 0, value is not None, value or 0)


def tree_head_message(*, poll: int, size: int, root: str, time: str) -> bytes:
    """The bytes a tree head's signature covers."""
    return canonical(
        {"type": "civic-tree-head-v1", "poll": poll, "size": size, "root": root, "time": time}
    )
