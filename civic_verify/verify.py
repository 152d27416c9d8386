"""Check a poll's published files: the ballots against the signed tree heads, the tree
heads against each other, and the results against a recount of the ballots."""

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from civic_verify import ed25519
from civic_verify.merkle import leaf_hash, root_of, verify_consistency
from civic_verify.records import ballot_record, canonical, tree_head_message

BALLOTS, TREE_HEADS, RESULTS, KEY = "ballots.json", "tree_heads.json", "results.json", "public_key"


@dataclass
class Report:
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_directory(directory: Path, public_key_hex: str | None = None) -> Report:
    """Everything this module checks, for the files of one poll in ``directory``."""
    report = Report()
    ballots = json.loads((directory / BALLOTS).read_text(encoding="utf-8"))
    heads = json.loads((directory / TREE_HEADS).read_text(encoding="utf-8"))
    results = json.loads((directory / RESULTS).read_text(encoding="utf-8"))
    given = public_key_hex or _key_file(directory)
    key = given or heads.get("public_key", "")
    if not given:
        report.checked.append(
            "No key given: using the key inside tree_heads.json. Compare it with the key the "
            "city publishes, or pass --key."
        )
    try:
        leaves = _ballot_leaves(ballots, report)
        _check_tree_heads(heads, leaves, bytes.fromhex(key), report)
        _recount(ballots, results, report)
    except (KeyError, TypeError, ValueError) as error:
        report.problems.append(f"the files are malformed: {error!r}")
    return report


def _key_file(directory: Path) -> str | None:
    path = directory / KEY
    return path.read_text(encoding="utf-8").strip() if path.exists() else None


def _ballot_leaves(ballots: dict, report: Report) -> list[bytes]:
    poll = ballots["poll"]
    leaves, receipts = [], set()
    for position, ballot in enumerate(ballots["ballots"]):
        if ballot.get("index") != position:
            report.problems.append(
                f"ballot {ballot.get('receipt')}: index {ballot.get('index')}, expected {position}"
            )
        if ballot["receipt"] in receipts:
            report.problems.append(f"receipt {ballot['receipt']} appears twice")
        receipts.add(ballot["receipt"])
        record = ballot_record(
            poll=poll,
            receipt=ballot["receipt"],
            okrug=ballot["okrug"],
            age_band=ballot["age_band"],
            answers=ballot["answers"],
        )
        leaves.append(leaf_hash(canonical(record)))
    report.checked.append(f"{len(leaves)} ballots hashed")
    return leaves


def _check_tree_heads(heads: dict, leaves: list[bytes], key: bytes, report: Report) -> None:
    poll, previous = heads["poll"], None
    if not heads["heads"]:
        report.problems.append("no tree heads")
        return
    for head in heads["heads"]:
        message = tree_head_message(
            poll=poll, size=head["size"], root=head["root"], time=head["time"]
        )
        if not ed25519.verify(key, message, bytes.fromhex(head["signature"])):
            report.problems.append(
                f"tree head of size {head['size']}: the signature does not match"
            )
        if previous is not None:
            proof = [bytes.fromhex(h) for h in head["consistency_proof"]]
            if not verify_consistency(
                previous["size"],
                head["size"],
                bytes.fromhex(previous["root"]),
                bytes.fromhex(head["root"]),
                proof,
            ):
                report.problems.append(
                    f"tree head of size {head['size']} is not consistent with size "
                    f"{previous['size']}: earlier ballots were changed, dropped or reordered"
                )
        previous = head
    last = heads["heads"][-1]
    report.checked.append(f"{len(heads['heads'])} signed tree heads and their consistency proofs")
    if last["size"] != len(leaves):
        report.problems.append(
            f"the last tree head holds {last['size']} ballots, the file {len(leaves)}"
        )
    elif root_of(leaves).hex() != last["root"]:
        report.problems.append("the ballots do not hash to the last tree head's root")
    else:
        report.checked.append(
            f"the ballots hash to the root of the last tree head ({last['root'][:16]}…)"
        )


def _recount(ballots: dict, results: dict, report: Report) -> None:
    counted = Counter()
    for ballot in ballots["ballots"]:
        for question, option, value in ballot["answers"]:
            counted[(question, option, value)] += 1
    published = {(c["question"], c["option"], c["value"]): c["count"] for c in results["counts"]}
    if results["participants"] != len(ballots["ballots"]):
        report.problems.append(
            f"results say {results['participants']} participants, "
            f"the log holds {len(ballots['ballots'])} ballots"
        )
    for key in sorted(set(counted) | set(published), key=str):
        if counted.get(key, 0) != published.get(key, 0):
            question, option, value = key
            report.problems.append(
                f"question {question}, option {option}, value {value}: published "
                f"{published.get(key, 0)}, recounted {counted.get(key, 0)}"
            )
    report.checked.append(
        f"recounted {sum(counted.values())} answers against the published results"
    )
