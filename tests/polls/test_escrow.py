"""The escrowed participation -> ballot link (docs/decisions/0009): sealed at the vote, opened
only with the audit private key by `ballots_flag`, which flags exactly the suspended
accounts' ballots; a recount leaves them out and no ballot ever changes."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.checks import run_checks
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from nacl.public import PrivateKey, SealedBox

from accounts.groups import CITY_ADMINS, CITY_STAFF
from accounts.selectors import resident_with_home
from accounts.services import account_reinstate, account_suspend
from polls.checks import ballot_audit_key_check
from polls.escrow import EscrowError, audit_private_key, ballots_flag
from polls.models import Answer, Ballot, BallotFlag, BallotFlagRun, Participation
from polls.recount import poll_recount
from polls.selectors import poll_with_questions
from polls.services import ballot_cast
from polls.validation import AnswerInput
from tests.accounts.factories import UserFactory
from tests.polls.factories import PollFactory, question_with_options

# The demo key pair's private half. Public on purpose, like the ballot log's demo key: it is
# in the README too, and `check --deploy` warns while BALLOT_AUDIT_PUBLIC_KEY is the demo's.
DEMO_AUDIT_PRIVATE_KEY = "cb9b9c98f064c4bcc822e049dc82ee000742a283b51b1629edc0dd18080af37b"

pytestmark = pytest.mark.django_db


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "audit.key"
    path.write_text(DEMO_AUDIT_PRIVATE_KEY + "\n", encoding="ascii")
    return path


@pytest.fixture
def admin(city_groups):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=CITY_ADMINS))
    return user


@pytest.fixture
def poll(db):
    """One question, options A, B, C."""
    poll = PollFactory()
    question_with_options(poll, options=3)
    return poll


def vote(user, poll, option: int) -> str:
    """Choose the ``option``-th option of every question; the receipt."""
    full = poll_with_questions(poll_id=poll.pk)
    cast = ballot_cast(
        user=resident_with_home(user_id=user.pk),
        poll=full,
        answers=[
            AnswerInput(question=question.pk, options=(list(question.options.all())[option].pk,))
            for question in full.questions.all()
        ],
    )
    return cast.receipt


def ballots_snapshot():
    """Every ballot and answer as stored, to compare before and after."""
    return (
        sorted(Ballot.objects.values_list()),
        sorted(Answer.objects.values_list(), key=str),
    )


def flag(key_file, *args) -> str:
    out = StringIO()
    call_command("ballots_flag", "--private-key-file", str(key_file), *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def election(poll, admin):
    """Six honest residents vote A; a farm of four votes C; the farm is suspended after."""
    honest = [UserFactory() for _ in range(6)]
    farm = [UserFactory() for _ in range(4)]
    receipts = {user.pk: vote(user, poll, 0) for user in honest}
    receipts |= {user.pk: vote(user, poll, 2) for user in farm}
    account_suspend(user_ids=[u.pk for u in farm], reason="one address, one hour", by=admin)
    return honest, farm, receipts


def test_a_vote_seals_its_receipt_which_only_the_private_key_opens(poll):
    resident = UserFactory()
    receipt = vote(resident, poll, 0)
    sealed = bytes(Participation.objects.get(user=resident).sealed_receipt)
    assert receipt.encode() not in sealed and len(sealed) == 60
    assert SealedBox(PrivateKey(bytes.fromhex(DEMO_AUDIT_PRIVATE_KEY))).decrypt(sealed) == (
        receipt.encode()
    )
    with pytest.raises(Exception):  # noqa: B017, PT011 - any other key fails (nacl.CryptoError)
        SealedBox(PrivateKey.generate()).decrypt(sealed)


def test_flagging_marks_exactly_the_suspended_accounts_ballots(key_file, poll, election):
    _honest, farm, receipts = election
    before = ballots_snapshot()
    output = flag(key_file, "--note", "complaint 17")
    assert f"poll {poll.pk}: 4 participations of suspended accounts, 4 ballots flagged" in output
    run = BallotFlagRun.objects.get()
    assert (run.poll, run.suspended_participations, run.unlinked, run.note) == (
        poll,
        4,
        0,
        "complaint 17",
    )
    flagged = set(BallotFlag.objects.values_list("ballot__receipt", flat=True))
    assert flagged == {receipts[user.pk] for user in farm}
    assert ballots_snapshot() == before  # ballots and answers untouched


def test_the_recount_leaves_the_flagged_ballots_out(key_file, poll, election):
    flag(key_file)
    recount = poll_recount(
        poll=poll_with_questions(poll_id=poll.pk), run=BallotFlagRun.objects.get()
    )
    assert (recount.ballots, recount.flagged, recount.kept) == (10, 4, 6)
    [question] = recount.questions
    assert [(c.count, c.kept) for c in question.cells] == [(6, 6), (0, 0), (4, 0)]
    assert [(c.percent, c.kept_percent) for c in question.cells] == [
        (60.0, 100.0),
        (0.0, 0.0),
        (40.0, 0.0),
    ]
    unflagged = poll_recount(poll=poll_with_questions(poll_id=poll.pk), run=None)
    assert (unflagged.flagged, unflagged.questions[0].cells[2].kept) == (0, 4)


def test_a_second_run_without_changes_adds_nothing(key_file, election):
    flag(key_file)
    assert "unchanged, no new flagging" in flag(key_file)
    assert BallotFlagRun.objects.count() == 1


def test_a_reinstated_account_drops_out_of_the_next_run(key_file, poll, election, admin):
    _honest, farm, receipts = election
    flag(key_file)
    account_reinstate(user_ids=[farm[0].pk], by=admin)
    flag(key_file)
    latest = BallotFlagRun.objects.latest()
    assert set(BallotFlag.objects.filter(run=latest).values_list("ballot__receipt", flat=True)) == {
        receipts[user.pk] for user in farm[1:]
    }
    assert BallotFlag.objects.count() == 4 + 3  # the first run's flags are kept

    account_reinstate(user_ids=[u.pk for u in farm[1:]], by=admin)
    flag(key_file)
    assert not BallotFlag.objects.filter(run=BallotFlagRun.objects.latest()).exists()


def test_participations_without_a_seal_are_counted_as_not_linkable(key_file, poll, admin):
    resident = UserFactory()
    vote(resident, poll, 1)
    Participation.objects.filter(user=resident).update(sealed_receipt=None)  # voted before
    account_suspend(user_ids=[resident.pk], reason="farm", by=admin)
    assert "0 ballots flagged, 1 not linkable" in flag(key_file)


def test_only_the_polls_asked_for(key_file, poll, election):
    other = PollFactory()
    question_with_options(other)
    _honest, farm, _receipts = election
    vote(UserFactory(), other, 0)
    flag(key_file, "--poll", str(other.pk))
    assert not BallotFlagRun.objects.exists()  # no suspended account voted in it


def test_another_key_is_refused(tmp_path, election):
    wrong = tmp_path / "wrong.key"
    wrong.write_text(bytes(PrivateKey.generate()).hex(), encoding="ascii")
    with pytest.raises(CommandError, match="does not belong"):
        flag(wrong)
    garbage = tmp_path / "garbage.key"
    garbage.write_text("not a key", encoding="ascii")
    with pytest.raises(CommandError, match="not usable"):
        flag(garbage)
    with pytest.raises(CommandError, match="Cannot read"):
        flag(tmp_path / "missing.key")
    assert not BallotFlagRun.objects.exists()


def test_audit_private_key_parsing():
    assert bytes(audit_private_key(f"  {DEMO_AUDIT_PRIVATE_KEY}\n")).hex() == (
        DEMO_AUDIT_PRIVATE_KEY
    )
    with pytest.raises(EscrowError):
        audit_private_key(DEMO_AUDIT_PRIVATE_KEY[:-2])


def test_flags_and_runs_are_append_only(key_file, election):
    flag(key_file)
    for statement in (
        "UPDATE polls_ballotflag SET ballot_id = ballot_id",
        "DELETE FROM polls_ballotflag",
        "UPDATE polls_ballotflagrun SET note = 'changed'",
        "DELETE FROM polls_ballotflagrun",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert BallotFlag.objects.count() == 4


def test_the_audit_key_may_be_given_in_capitals(settings, key_file, poll, election):
    """Hex digits are accepted in either case: the vote seals with the key, flagging
    accepts its private half, and the deploy check still knows the demo key."""
    settings.BALLOT_AUDIT_PUBLIC_KEY = settings.DEMO_BALLOT_AUDIT_PUBLIC_KEY.upper()
    assert [warning.id for warning in ballot_audit_key_check(None)] == ["polls.W002"]
    private_key = audit_private_key(key_file.read_text(encoding="ascii"))
    assert ballots_flag(private_key=private_key)[0].flagged


def test_the_service_refuses_a_key_of_another_pair():
    with pytest.raises(EscrowError):
        ballots_flag(private_key=PrivateKey.generate())


# --- the staff page and CSV ------------------------------------------------------------------


@pytest.fixture
def staff(city_groups, client):
    user = UserFactory(is_staff=True, language="en")
    user.groups.add(Group.objects.get(name=CITY_STAFF))
    client.force_login(user)
    return user


def test_staff_see_the_recount_and_download_it(client, staff, key_file, poll, election):
    flag(key_file)
    page = client.get(reverse("staff_recount", args=[poll.pk]))
    assert page.status_code == 200
    assert (page.context["recount"].ballots, page.context["recount"].kept) == (10, 6)
    csv = b"".join(client.get(reverse("staff_recount_csv", args=[poll.pk])).streaming_content)
    lines = csv.decode("utf-8-sig").splitlines()
    assert lines[0] == (
        '"poll","question","answer","count","percent","count_without_flagged",'
        '"percent_without_flagged"'
    )
    assert lines[1].endswith('"ballots","",10,100.0,6,100.0')
    assert lines[4].endswith(",4,40.0,0,0.0")
    semicolons = client.get(reverse("staff_recount_csv", args=[poll.pk]), {"sep": "semicolon"})
    assert b";" in b"".join(semicolons.streaming_content)


def test_an_earlier_run_can_be_chosen_and_a_bad_one_is_a_400(
    client, staff, key_file, poll, election, admin
):
    _honest, farm, _receipts = election
    flag(key_file)
    first = BallotFlagRun.objects.get()
    account_reinstate(user_ids=[farm[0].pk], by=admin)
    flag(key_file)
    assert client.get(reverse("staff_recount", args=[poll.pk])).context["recount"].flagged == 3
    earlier = client.get(reverse("staff_recount", args=[poll.pk]), {"run": first.pk})
    assert earlier.context["recount"].flagged == 4
    for bad in ({"run": "abc"}, {"run": "999999"}, {"sep": "tab"}):
        assert client.get(reverse("staff_recount", args=[poll.pk]), bad).status_code == 400
        assert client.get(reverse("staff_recount_csv", args=[poll.pk]), bad).status_code == 400


def test_the_recount_page_query_count_does_not_grow(client, staff, key_file, election):
    """The same number of queries for one question as for eight, flagged or not."""

    def queries(questions: int) -> int:
        poll = PollFactory()
        for _ in range(questions):
            question_with_options(poll, options=4)
        for _ in range(3):
            vote(UserFactory(), poll, 1)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("staff_recount", args=[poll.pk])).status_code == 200
        return len(captured)

    assert queries(1) == queries(8)


def test_residents_may_not_see_a_recount(client, poll):
    client.force_login(UserFactory())
    assert client.get(reverse("staff_recount", args=[poll.pk])).status_code == 403
    assert client.get(reverse("staff_recount_csv", args=[poll.pk])).status_code == 403


# --- the key in the settings ---------------------------------------------------------------


def test_the_demo_key_is_a_deploy_warning_and_a_malformed_one_an_error(settings):
    ids = {message.id for message in run_checks(include_deployment_checks=True)}
    assert "polls.W002" in ids
    settings.BALLOT_AUDIT_PUBLIC_KEY = bytes(PrivateKey.generate().public_key).hex()
    assert "polls.W002" not in {m.id for m in run_checks(include_deployment_checks=True)}
    settings.BALLOT_AUDIT_PUBLIC_KEY = "abc"
    assert "polls.E002" in {message.id for message in run_checks()}
