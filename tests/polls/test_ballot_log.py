"""The ballot log: checkpoints in receipt order, signed tree heads, inclusion proofs for
every ballot, consistency across checkpoints, append-only tables, and the independent
verifier over the published files."""

import json

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from civic_verify import ed25519
from civic_verify.merkle import (
    leaf_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)
from civic_verify.records import tree_head_message
from civic_verify.verify import verify_directory
from polls.ballot_log import ballot_check, ballot_log_checkpoint, public_key_hex
from polls.models import Ballot, LogLeaf, Poll
from polls.services import poll_results_publish, poll_tally
from polls.validation import AnswerInput
from tests.polls.factories import OptionFactory, PollFactory, QuestionFactory
from tests.polls.test_results import vote

pytestmark = pytest.mark.django_db


@pytest.fixture
def poll():
    poll = PollFactory()
    choice = QuestionFactory(poll=poll, kind="single")
    OptionFactory.create_batch(3, question=choice)
    QuestionFactory(poll=poll, kind="scale")
    QuestionFactory(poll=poll, kind="text", required=False)
    return poll


def cast(poll, n: int) -> None:
    choice, scale, text = poll.questions.order_by("position")
    options = list(choice.options.all())
    for i in range(n):
        vote(
            poll,
            [
                AnswerInput(choice.pk, (options[i % 3].pk,)),
                AnswerInput(scale.pk, value=i % 5 + 1),
                AnswerInput(text.pk, text="личное мнение"),
            ],
        )


def check(receipt: str) -> bool:
    """What the "Check my vote" page proves, done here in Python."""
    found = ballot_check(receipt=receipt)
    return verify_inclusion(
        found.index,
        found.head.size,
        leaf_hash(found.record.encode()),
        [bytes.fromhex(p) for p in found.proof],
        bytes.fromhex(found.head.root),
    )


def test_a_checkpoint_logs_the_new_ballots_in_receipt_order_and_signs_the_head(poll):
    cast(poll, 7)
    head = ballot_log_checkpoint(poll_id=poll.pk)
    assert head.size == 7
    logged = list(LogLeaf.objects.filter(poll=poll).order_by("index").select_related("ballot"))
    receipts = [leaf.ballot.receipt for leaf in logged]
    assert receipts == sorted(receipts)
    assert head.root == root_of([bytes(leaf.hash) for leaf in logged]).hex()
    message = tree_head_message(poll=poll.pk, size=7, root=head.root, time=head.time)
    assert ed25519.verify(bytes.fromhex(public_key_hex()), message, bytes.fromhex(head.signature))
    assert ballot_log_checkpoint(poll_id=poll.pk) is None  # nothing new, no new head


def test_every_ballot_has_an_inclusion_proof_across_several_checkpoints(poll):
    for batch in (1, 2, 5, 8, 3):
        cast(poll, batch)
        ballot_log_checkpoint(poll_id=poll.pk)
    receipts = list(Ballot.objects.filter(poll=poll).values_list("receipt", flat=True))
    assert len(receipts) == 19
    assert all(check(receipt) for receipt in receipts)


def test_consecutive_tree_heads_are_consistent(poll):
    heads = []
    for batch in (3, 1, 4, 1, 5, 9):
        cast(poll, batch)
        heads.append(ballot_log_checkpoint(poll_id=poll.pk))
    for old, new in zip(heads, heads[1:], strict=False):
        proof = [bytes.fromhex(p) for p in new.consistency_proof]
        assert verify_consistency(
            old.size, new.size, bytes.fromhex(old.root), bytes.fromhex(new.root), proof
        )


def test_free_text_stays_out_of_the_log(poll):
    cast(poll, 1)
    ballot_log_checkpoint(poll_id=poll.pk)
    record = json.loads(ballot_check(receipt=Ballot.objects.get().receipt).record)
    assert len(record["answers"]) == 2 and "личное" not in json.dumps(record, ensure_ascii=False)


def test_a_ballot_waits_for_the_next_checkpoint(poll):
    cast(poll, 1)
    found = ballot_check(receipt=Ballot.objects.get().receipt)
    assert found.index is None and found.head is None


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE polls_ballot SET age_band = 'u18'",
        "DELETE FROM polls_ballot",
        "UPDATE polls_answer SET value = 5",
        "DELETE FROM polls_answer",
        "UPDATE polls_logleaf SET index = index + 1",
        "DELETE FROM polls_lognode",
        "UPDATE polls_treehead SET size = 0",
        "DELETE FROM polls_treehead",
    ],
)
def test_ballots_and_the_log_refuse_update_and_delete(poll, statement):
    from django.db import connection

    cast(poll, 3)
    ballot_log_checkpoint(poll_id=poll.pk)
    refused = pytest.raises(DatabaseError, match="append-only")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)


def test_an_open_ballot_may_only_forget_its_voter():
    """The one change the database allows: the voter of an open ballot set to NULL (for
    when an account is erased); any other change of the row is refused."""
    from django.db import connection

    from tests.accounts.factories import verified_resident
    from tests.civic.factories import BuildingFactory
    from tests.polls.test_surveys import cast as survey_cast
    from tests.polls.test_surveys import make_survey, yes_no

    author = verified_resident(BuildingFactory(), "1")
    survey = make_survey(author, open_ballot=True)
    survey_cast(author, survey, yes_no(survey)[1])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE polls_ballot SET voter_id = NULL")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute("UPDATE polls_ballot SET voter_id = NULL, apartment = '2'")
    assert Ballot.objects.get(poll=survey).voter is None


# --- published files and the independent verifier -------------------------------------------


def close_and_publish(poll) -> None:
    Poll.objects.filter(pk=poll.pk).update(
        opens_at=timezone.now() - timezone.timedelta(days=2),
        closes_at=timezone.now() - timezone.timedelta(days=1),
        closed_at=timezone.now(),
    )
    poll_tally(poll_id=poll.pk, final=True)
    poll_results_publish(poll_id=poll.pk)


def download(client, poll, tmp_path):
    for name in ("ballots.json", "tree_heads.json", "results.json"):
        response = client.get(reverse("open_data_file", args=[poll.pk, name]))
        assert response.status_code == 200, name
        (tmp_path / name).write_bytes(
            b"".join(response.streaming_content) if response.streaming else response.content
        )
    return tmp_path


@pytest.fixture
def published(client, poll, tmp_path):
    for batch in (4, 6):
        cast(poll, batch)
        ballot_log_checkpoint(poll_id=poll.pk)
    cast(poll, 2)  # logged by the final checkpoint, made when results are published
    close_and_publish(poll)
    return download(client, poll, tmp_path)


def test_the_verifier_accepts_the_published_files(published):
    report = verify_directory(published, public_key_hex=public_key_hex())
    assert report.ok, report.problems
    assert json.loads((published / "tree_heads.json").read_text())["heads"][-1]["size"] == 12


def edit(directory, name, change):
    data = json.loads((directory / name).read_text())
    change(data)
    (directory / name).write_text(json.dumps(data, ensure_ascii=False))


@pytest.mark.parametrize(
    ("name", "change", "expected"),
    [
        ("ballots.json", lambda d: d["ballots"][3]["answers"][0].__setitem__(1, 999), "root"),
        ("ballots.json", lambda d: d["ballots"].pop(5), "holds 12 ballots, the file 11"),
        (
            "ballots.json",
            lambda d: d["ballots"].__setitem__(slice(1, 3), [d["ballots"][2], d["ballots"][1]]),
            "root",
        ),
        ("tree_heads.json", lambda d: d["heads"][0].__setitem__("size", 5), "signature"),
        (
            "tree_heads.json",
            lambda d: d["heads"][1].__setitem__("root", "00" * 32),
            "signature",
        ),
        ("results.json", lambda d: d["counts"][0].__setitem__("count", 99), "recounted"),
        ("results.json", lambda d: d.__setitem__("participants", 13), "participants"),
    ],
)
def test_the_verifier_catches_a_tampered_copy(published, name, change, expected):
    edit(published, name, change)
    report = verify_directory(published, public_key_hex=public_key_hex())
    assert not report.ok
    assert any(expected in problem for problem in report.problems), report.problems


def test_a_head_signed_with_another_key_fails(published):
    report = verify_directory(published, public_key_hex="11" * 32)
    assert any("signature" in problem for problem in report.problems)


def test_admins_cannot_delete_a_poll_with_votes(client, poll, city_groups):
    from django.contrib.auth.models import Group

    from tests.accounts.factories import UserFactory

    admin = UserFactory(is_staff=True)
    admin.groups.add(Group.objects.get(name="City admins"))
    client.force_login(admin)
    draft = PollFactory(status="draft")
    assert client.get(reverse("admin:polls_poll_delete", args=[draft.pk])).status_code == 200
    cast(poll, 1)
    response = client.get(reverse("admin:polls_poll_delete", args=[poll.pk]))
    assert response.status_code == 403


# --- pages ----------------------------------------------------------------------------------------


@pytest.fixture
def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def test_check_my_vote_shows_the_ballot_and_its_proof(client, poll, english):
    cast(poll, 5)
    ballot_log_checkpoint(poll_id=poll.pk)
    receipt = Ballot.objects.order_by("receipt").last().receipt
    response = client.post(
        reverse("check_vote"), {"receipt": f" {receipt[:6].lower()}-{receipt[6:]}"}
    )
    assert response.status_code == 200
    data = response.context["proof_data"]
    assert verify_inclusion(
        data["index"],
        data["size"],
        leaf_hash(data["record"].encode()),
        [bytes.fromhex(p) for p in data["proof"]],
        bytes.fromhex(data["root"]),
    )
    assert 'id="proof-data"' in response.content.decode()
    assert "личное" not in response.content.decode()  # free text is never shown
    missing = client.post(reverse("check_vote"), {"receipt": "NOSUCHCODE23"})
    assert missing.status_code == 404
    assert "No ballot has this receipt" in missing.content.decode()
    for malformed in ("\x00", "x" * 5000, ""):
        assert client.post(reverse("check_vote"), {"receipt": malformed}).status_code == 404
    assert client.get(reverse("check_vote"), {"receipt": receipt}).context.get("found") is None


def test_check_my_vote_before_the_checkpoint_says_when(client, poll, english):
    cast(poll, 1)
    response = client.post(reverse("check_vote"), {"receipt": Ballot.objects.get().receipt})
    assert "next checkpoint" in response.content.decode()
    assert "proof_data" not in response.context


def test_open_data_waits_for_the_results_but_tree_heads_are_public_at_once(client, poll):
    cast(poll, 2)
    ballot_log_checkpoint(poll_id=poll.pk)
    assert client.get(reverse("open_data_file", args=[poll.pk, "ballots.json"])).status_code == 403
    heads = client.get(reverse("open_data_file", args=[poll.pk, "tree_heads.json"]))
    assert json.loads(b"".join(heads.streaming_content))["heads"][0]["size"] == 2
    page = client.get(reverse("ballot_log", args=[poll.pk]))
    assert page.status_code == 200 and "<polyline" in page.content.decode()
    assert client.get(reverse("open_data_file", args=[poll.pk, "secrets.json"])).status_code == 404
    assert client.get(reverse("ballot_log_key")).content.decode().strip() == public_key_hex()


def test_building_surveys_have_no_public_log(client):
    from tests.accounts.factories import verified_resident
    from tests.civic.factories import BuildingFactory
    from tests.polls.test_surveys import cast as survey_cast
    from tests.polls.test_surveys import make_survey, yes_no

    author = verified_resident(BuildingFactory(), "1")
    survey = make_survey(author)
    receipt = survey_cast(author, survey, yes_no(survey)[1])
    assert ballot_log_checkpoint(poll_id=survey.pk) is None
    assert client.get(reverse("ballot_log", args=[survey.pk])).status_code == 404
    assert client.post(reverse("check_vote"), {"receipt": receipt}).status_code == 404


def test_the_verifier_runs_from_the_command_line(published):
    import subprocess
    import sys

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "civic_verify", str(published), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )

    good = run("--key", public_key_hex())
    assert good.returncode == 0 and good.stdout.strip().endswith("OK"), good.stdout
    edit(published, "results.json", lambda d: d["counts"][0].__setitem__("count", 99))
    bad = run("--key", public_key_hex())
    assert bad.returncode == 1 and "MISMATCH" in bad.stdout


def test_scheduled_checkpoints_wait_for_a_minimum_batch_and_the_final_one_takes_the_rest(
    poll, settings
):
    """A batch of one would link a ballot to the time its voter voted: the scheduled task
    waits for BALLOT_LOG_MIN_BATCH ballots; publishing the results logs what is left."""
    from polls.tasks import checkpoint_ballot_logs

    settings.BALLOT_LOG_MIN_BATCH = 5
    cast(poll, 4)
    assert checkpoint_ballot_logs() == []
    cast(poll, 1)
    assert checkpoint_ballot_logs() == [poll.pk]
    cast(poll, 2)
    assert checkpoint_ballot_logs() == []
    close_and_publish(poll)
    assert poll.tree_heads.order_by("-size").first().size == 7


def test_answers_sort_absent_values_before_negative_ones():
    from civic_verify.records import ballot_record

    record = ballot_record(
        poll=1, receipt="R", okrug=None, age_band="u18", answers=[[5, None, -1], [5, None, None]]
    )
    assert record["answers"] == [[5, None, None], [5, None, -1]]
