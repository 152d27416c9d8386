"""Residents own their data: the JSON export, and deleting the account (docs/decisions/0010)."""

import json
from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import (
    ClaimMethod,
    ClaimStatus,
    CodeAttempt,
    CodeOutcome,
    ErasedEmail,
    Notification,
    NotificationKind,
    ResidencyClaim,
    User,
)
from accounts.notifications import notifications_create
from accounts.privacy import (
    DeletionRefused,
    account_delete,
    erased_email_blocked_until,
    erased_emails_purge,
    personal_data_export,
)
from accounts.selectors import resident_with_home
from polls.models import Answer, Ballot, OptionTally, Participation
from polls.selectors import open_ballot_votes, poll_with_questions
from polls.services import (
    ballot_cast,
    poll_tally,
    polls_close_due,
    survey_create,
    survey_report,
)
from polls.validation import AnswerInput
from rewards.models import LedgerEntry, Redemption, Wallet
from rewards.selectors import wallet_mismatches
from rewards.services import reward_redeem
from tests.accounts.factories import UserFactory, totp_activate, totp_code, verified_resident
from tests.audit.test_audit_log import admin_form
from tests.civic.factories import BuildingFactory
from tests.polls.factories import PollFactory, question_with_options
from tests.polls.test_surveys import survey_input
from tests.rewards.factories import RewardFactory, give_points

PASSWORD = "correct horse battery"
pytestmark = pytest.mark.django_db

# What identifies the resident: none of it may be left anywhere once the account is deleted.
EMAIL = "maria.sidorova@example.org"
NAMES = ("Мария", "Сидорова")
CLAIM_NOTE = "Переехала сюда в мае"
REPORT_REASON = "Опрос повторяет прошлогодний"


def vote(user, poll, option_text: str) -> str:
    question = poll.questions.get()
    option = question.options.get(text=option_text)
    return ballot_cast(
        user=resident_with_home(user_id=user.pk),
        poll=poll_with_questions(poll_id=poll.pk),
        answers=[AnswerInput(question.pk, (option.pk,))],
    ).receipt


def city_poll(title: str):
    poll = PollFactory(title=title)
    question = question_with_options(poll, options=0)
    for text in (f"{title}: за", f"{title}: против"):
        question.options.create(text=text, position=0)
    return poll


def lived_in(resident, other, building, *, polls=1):
    """A resident's life on Civic: votes (secret and open), points, a reward, a claim, a
    code try, a notification, a survey report; the neighbour does the same alongside."""
    for number in range(polls):
        poll = city_poll(f"Парк {number}")
        vote(resident, poll, f"Парк {number}: за")
        vote(other, poll, f"Парк {number}: против")
        give_points(resident, 600)
        reward_redeem(user=resident, reward_id=RewardFactory(cost=50).pk)
        ResidencyClaim.objects.create(
            user=resident,
            building=building,
            apartment="3",
            status=ClaimStatus.ENDED,
            method=ClaimMethod.STAFF,
            note=CLAIM_NOTE,
        )
        CodeAttempt.objects.create(user=resident, outcome=CodeOutcome.WRONG)
        notifications_create(
            user_ids=[resident.pk, other.pk],
            kind=NotificationKind.RESIDENCY_VERIFIED,
            key=f"test:{number}",
            params={"address": building.address},
            url="/my-building/",
        )
        survey = survey_create(
            author=other, data=survey_input(title=f"Шлагбаум {number}", open_ballot=True)
        )
        yes, no = survey.questions.get().options.order_by("position")
        vote(resident, survey, yes.text)
        vote(other, survey, no.text)
        survey_report(user=resident, poll=survey, reason=REPORT_REASON)


def tables_holding(needles: list[str]) -> list[tuple[str, str]]:
    """(table, needle) for every table with a row whose text contains the needle."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            for needle in needles:
                cursor.execute(
                    f'SELECT count(*) FROM "{table}" t WHERE t::text ILIKE %s',  # noqa: S608 - names from the database
                    [f"%{needle}%"],
                )
                if cursor.fetchone()[0]:
                    found.append((table, needle))
    return found


@pytest.fixture
def building():
    return BuildingFactory(apartments=10)


@pytest.fixture
def neighbour(building):
    other = verified_resident(
        building,
        "4",
        email="olga.kuznetsova@example.org",
        first_name="Ольга",
        last_name="Кузнецова",
    )
    give_points(other, 1100)
    reward_redeem(user=other, reward_id=RewardFactory(title="Билет соседки").pk)
    return other


@pytest.fixture
def resident(building, neighbour):
    resident = verified_resident(
        building, "3", email=EMAIL, first_name=NAMES[0], last_name=NAMES[1], birth_year=1979
    )
    give_points(resident, 1100)  # opens the shop
    lived_in(resident, neighbour, building)
    return resident


def test_the_export_holds_the_residents_data_and_nothing_of_anyone_else(resident, neighbour):
    data = personal_data_export(user=resident)
    text = json.dumps(data, default=str, ensure_ascii=False)
    profile = data["accounts"]["profile"]
    assert (profile["email"], profile["first_name"], profile["birth_year"]) == (
        EMAIL,
        "Мария",
        1979,
    )
    assert profile["apartment"] == "3" and profile["verified_apartment"] == "3"
    assert data["accounts"]["email_addresses"] == [
        {"email": EMAIL, "verified": True, "primary": True}
    ]
    assert data["accounts"]["residency_claims"][0]["note"] == CLAIM_NOTE
    assert data["accounts"]["residency_code_tries"][0]["outcome"] == "wrong"
    titles = {notification["title"] for notification in data["accounts"]["notifications"]}
    assert "Your address is verified" in titles
    titles = [p["title"] for p in data["polls"]["participations"]]
    assert titles == ["Парк 0", "Шлагбаум 0"]
    [open_vote] = data["polls"]["open_ballot_votes"]
    assert open_vote["answers"][0]["option"] == "Да"
    assert data["polls"]["survey_reports"][0]["reason"] == REPORT_REASON
    rewards = data["rewards"]
    assert rewards["balance"] == Wallet.objects.get(user=resident).balance
    assert sum(entry["amount"] for entry in rewards["ledger"]) == rewards["balance"]
    assert len(rewards["redemptions"]) == 1
    # Never the choice of a secret ballot, never another person's data.
    assert "Парк 0: за" not in text
    for theirs in ("olga.kuznetsova@example.org", "Ольга", "Кузнецова", "Билет соседки", "Нет"):
        assert theirs not in text
    assert Redemption.objects.get(user=neighbour).voucher not in text


def test_the_profile_page_and_the_api_give_the_same_document(client, resident):
    client.force_login(resident)
    profile = client.get(reverse("profile")).content.decode()
    assert reverse("my_data") in profile and reverse("delete_account") in profile
    response = client.get(reverse("my_data"))
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith('attachment; filename="civic-my-data-')
    page = json.loads(response.content)
    api = APIClient()
    api.force_authenticate(resident)
    answer = api.get(reverse("api_my_data"))
    assert answer.status_code == 200
    assert answer.json()["accounts"] == page["accounts"]
    assert set(page) >= {"format", "exported_at", "accounts", "polls", "rewards"}
    assert APIClient().get(reverse("api_my_data")).status_code == 401


def test_the_exports_query_count_does_not_grow_with_the_data(settings, building, neighbour):
    """A long history costs the same number of queries as a short one."""
    settings.BUILDING_SURVEY_MAX_OPEN = 10
    counts = []
    for polls in (1, 3):
        resident = verified_resident(building, str(polls + 4))
        give_points(resident, 1100)
        lived_in(resident, neighbour, building, polls=polls)
        with CaptureQueriesContext(connection) as queries:
            personal_data_export(user=resident)
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 30  # a query or two per section of each app


def test_deletion_erases_every_personal_field(client, admin_client, resident, neighbour):
    """Every row of every table is searched for the resident's address, names and words;
    the account keeps no personal field and can no longer be signed in to. Edits made in
    the admin before (Django's admin log names the account and claim by their address)
    leave nothing either."""
    user_url = reverse("admin:accounts_user_change", args=[resident.pk])
    data = admin_form(admin_client, user_url, "user_form") | {"_save": ["Save"]}
    assert admin_client.post(user_url, data).status_code == 302
    claim = ResidencyClaim.objects.filter(user=resident).first()
    claim_url = reverse("admin:accounts_residencyclaim_change", args=[claim.pk])
    assert admin_client.post(claim_url, {"_save": "Save"}).status_code == 302
    assert ("django_admin_log", EMAIL) in tables_holding([EMAIL])
    client.post(reverse("account_login"), {"login": EMAIL, "password": PASSWORD})
    assert UserSession.objects.filter(user=resident).exists()
    session_key = client.session.session_key
    totp_activate(resident)
    assert ("accounts_user", EMAIL) in tables_holding([EMAIL])  # the search finds it
    account_delete(user=resident, password=PASSWORD, code=totp_code())

    account = User.objects.get(pk=resident.pk)
    assert account.email == f"erased-{resident.pk}@erased.invalid"
    assert account.erased_at is not None and not account.is_active
    assert not account.has_usable_password()
    for field in ("first_name", "last_name", "apartment", "gender", "verified_apartment"):
        assert getattr(account, field) == "", field
    for field in ("home_building", "birth_year", "verified_building", "last_login"):
        assert getattr(account, field) is None, field
    for model in (EmailAddress, Authenticator, Notification, ResidencyClaim, CodeAttempt):
        assert not model.objects.filter(user=account).exists(), model
    assert not UserSession.objects.filter(user=account).exists()
    assert not Session.objects.filter(session_key=session_key).exists()
    assert not Ballot.objects.filter(voter=account).exists()
    assert tables_holding([EMAIL, *NAMES, CLAIM_NOTE, REPORT_REASON]) == []
    assert User.objects.get(pk=neighbour.pk).email == "olga.kuznetsova@example.org"


def test_deletion_clears_survey_apartments_unless_they_still_stop_a_second_vote(
    resident, neighbour
):
    """With the survey's building a participation's apartment gives the erased address
    back: deletion clears it, except in an open one-vote-per-apartment survey, where it
    stops a flatmate voting again; there it is cleared when the survey closes."""
    per_apartment = survey_create(
        author=neighbour, data=survey_input(title="Лифт", vote_unit="apartment")
    )
    vote(resident, per_apartment, "Да")
    account_delete(user=resident, password=PASSWORD)

    apartments = dict(
        Participation.objects.filter(user=resident).values_list("poll_id", "apartment")
    )
    assert apartments.pop(per_apartment.pk) == "3"
    assert len(apartments) == 2 and set(apartments.values()) == {""}
    with time_machine.travel(per_apartment.closes_at + timedelta(minutes=1)):
        assert per_apartment.pk in polls_close_due()
    assert Participation.objects.get(user=resident, poll=per_apartment).apartment == ""


def test_deletion_keeps_ballots_tallies_and_balances(resident, neighbour):
    """Ballots and participations stay counted; the ledger keeps every entry and every
    wallet still equals its ledger; redemptions stay, with the anonymised account."""
    poll = Participation.objects.filter(user=resident, poll__scope="city").get().poll
    survey = Participation.objects.filter(user=resident, poll__scope="building").get().poll
    poll_tally(poll_id=poll.pk, final=False)
    tally = list(OptionTally.objects.filter(poll=poll).values_list("option", "dimension", "count"))
    before = {
        "ballots": Ballot.objects.count(),
        "answers": Answer.objects.count(),
        "participations": Participation.objects.count(),
        "ledger": LedgerEntry.objects.filter(user=resident).count(),
        "balance": Wallet.objects.get(user=resident).balance,
        "redemptions": Redemption.objects.filter(user=resident).count(),
    }

    account_delete(user=resident, password=PASSWORD)

    poll_tally(poll_id=poll.pk, final=False)
    assert (
        list(OptionTally.objects.filter(poll=poll).values_list("option", "dimension", "count"))
        == tally
    )
    assert before == {
        "ballots": Ballot.objects.count(),
        "answers": Answer.objects.count(),
        "participations": Participation.objects.count(),
        "ledger": LedgerEntry.objects.filter(user=resident).count(),
        "balance": Wallet.objects.get(user=resident).balance,
        "redemptions": Redemption.objects.filter(user=resident).count(),
    }
    assert wallet_mismatches() == []
    # The open ballot stays counted, without the voter: the neighbours see only theirs.
    assert Ballot.objects.filter(poll=survey).count() == 2
    votes = open_ballot_votes(poll=poll_with_questions(poll_id=survey.pk))
    assert [vote.apartment for vote in votes] == ["4"]
    # The anonymised account cannot vote again in the poll it took part in.
    assert Participation.objects.filter(user=resident, poll=poll).exists()


def test_a_wrong_password_is_refused_with_a_message_and_changes_nothing(client, resident):
    client.force_login(resident)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("delete_account"))
    assert page.status_code == 200
    assert "code" not in page.context["form"].fields  # no two-factor: the password alone
    response = client.post(reverse("delete_account"), {"password": "not my password"})
    assert response.status_code == 400
    assert "The password is not correct." in response.content.decode()
    api = APIClient()
    api.force_authenticate(resident)
    answer = api.post(
        reverse("api_delete_account"),
        {"password": "nope"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "wrong_password"
    assert answer.json()["errors"] == {"password": ["The password is not correct."]}
    assert User.objects.get(pk=resident.pk).email == EMAIL


def test_with_two_factor_on_a_code_is_needed_too(client, resident):
    totp_activate(resident)
    client.force_login(resident)
    client.cookies["django_language"] = "en"
    assert "code" in client.get(reverse("delete_account")).context["form"].fields
    with pytest.raises(DeletionRefused) as missing:
        account_delete(user=resident, password=PASSWORD)
    assert missing.value.code == "code_required"
    response = client.post(reverse("delete_account"), {"password": PASSWORD, "code": "123456"})
    assert response.status_code == 400
    assert "This code is not correct" in response.content.decode()
    response = client.post(reverse("delete_account"), {"password": PASSWORD, "code": totp_code()})
    assert response.url == reverse("home")
    assert client.get(reverse("profile")).status_code == 302  # signed out
    assert User.objects.get(pk=resident.pk).erased_at is not None


def test_the_deleted_account_can_no_longer_sign_in_by_page_or_app(resident):
    app = APIClient()
    login = app.post(
        "/_allauth/app/v1/auth/login", {"email": EMAIL, "password": PASSWORD}, format="json"
    )
    token = login.json()["meta"]["session_token"]
    app.credentials(HTTP_X_SESSION_TOKEN=token)
    assert app.get(reverse("api_me")).status_code == 200
    assert app.post(reverse("api_delete_account"), {"password": PASSWORD}).status_code == 204
    assert app.get(reverse("api_me")).status_code == 401  # the token is gone
    again = APIClient().post(
        "/_allauth/app/v1/auth/login", {"email": EMAIL, "password": PASSWORD}, format="json"
    )
    assert again.status_code == 400


def test_deleted_accounts_are_told_nothing_more(resident, neighbour):
    account_delete(user=resident, password=PASSWORD)
    notifications_create(
        user_ids=[resident.pk, neighbour.pk],
        kind=NotificationKind.RESIDENCY_VERIFIED,
        key="later",
        params={"address": "x"},
        url="/",
    )
    assert list(Notification.objects.filter(key="later").values_list("user", flat=True)) == [
        neighbour.pk
    ]


def test_the_address_cannot_sign_up_again_while_a_poll_it_voted_in_is_open(client, resident):
    """Delete, sign up again, vote again: not with the same address, until the polls close."""
    closes = Participation.objects.filter(user=resident).latest("poll__closes_at").poll.closes_at
    account_delete(user=resident, password=PASSWORD)
    assert erased_email_blocked_until(EMAIL.upper()) == closes
    assert EMAIL not in str(ErasedEmail.objects.values_list("digest", flat=True))
    client.cookies["django_language"] = "en"
    signup = {
        "email": EMAIL,
        "password1": "a-new-long-password",
        "password2": "a-new-long-password",
    }
    response = client.post(reverse("account_signup"), signup)
    assert response.status_code == 200
    assert "can be used again after" in response.content.decode()
    assert not User.objects.filter(email=EMAIL).exists()
    with time_machine.travel(closes + timedelta(seconds=1)):
        assert erased_emails_purge() == 1
        assert client.post(reverse("account_signup"), signup).status_code == 302
    assert User.objects.filter(email=EMAIL).exists()


def test_an_account_without_open_polls_leaves_no_trace_of_its_address():
    resident = UserFactory(email="quiet@example.org")
    PollFactory(closes_at=timezone.now() + timedelta(days=3))  # open, but no vote
    account_delete(user=resident, password=PASSWORD)
    assert not ErasedEmail.objects.exists()


def test_tries_to_delete_are_limited(settings, resident):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "account_delete": "2/h"}
    api = APIClient()
    api.force_authenticate(resident)
    for _ in range(2):
        assert api.post(reverse("api_delete_account"), {"password": "x"}).status_code == 400
    response = api.post(reverse("api_delete_account"), {"password": PASSWORD})
    assert response.status_code == 429
    assert User.objects.get(pk=resident.pk).erased_at is None
