"""Where sign-ups come from, how long that is kept, and the suspicious-accounts report with
its suspend and reinstate actions in the admin."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from accounts.groups import CITY_ADMINS, CITY_STAFF
from accounts.models import SignupRecord, User
from accounts.selectors import resident_with_home
from accounts.services import signup_record, subnet_of
from accounts.suspicion import ClusterKind, suspicious_clusters
from accounts.tasks import purge_signup_records
from polls.models import Participation, Scope
from polls.selectors import poll_with_questions
from polls.services import ballot_cast
from polls.validation import AnswerInput
from tests.accounts.factories import UserFactory, verified_resident
from tests.civic.factories import BuildingFactory
from tests.polls.factories import PollFactory, question_with_options

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-resident-password"


def signed_up(ip: str, at, **fields) -> User:
    user = UserFactory(**fields)
    SignupRecord.objects.create(user=user, ip=ip, subnet=subnet_of(ip), created_at=at)
    return user


@pytest.fixture
def thresholds(settings):
    settings.SUSPICIOUS_SIGNUP_WINDOW_MINUTES = 60
    settings.SUSPICIOUS_SIGNUPS_PER_IP = 3
    settings.SUSPICIOUS_SIGNUPS_PER_SUBNET = 4
    settings.SUSPICIOUS_NEW_ACCOUNT_DAYS = 30
    settings.SUSPICIOUS_CLUSTER_SIZE = 3
    settings.SUSPICIOUS_MIN_ANSWERS = 2
    settings.SUSPICIOUS_SHARED_POLLS = 2
    settings.SUSPICIOUS_VOTE_WINDOW_MINUTES = 10
    return settings


def clusters_of(kind: str) -> list[set[int]]:
    return [set(c.user_ids) for c in suspicious_clusters() if c.kind == kind]


# --- sign-up addresses --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ip", "subnet"),
    [
        ("203.0.113.57", "203.0.113.0/24"),
        ("2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3:8d3::/64"),
        ("::ffff:203.0.113.57", "203.0.113.0/24"),  # IPv4 seen through an IPv6 socket
    ],
)
def test_the_subnet_of_an_address(ip, subnet):
    assert subnet_of(ip) == subnet


def test_sign_up_records_the_address_and_subnet(client, mailoutbox):
    client.post(
        reverse("account_signup"),
        {"email": "anna@example.org", "password1": PASSWORD, "password2": PASSWORD},
        REMOTE_ADDR="198.51.100.23",
    )
    record = SignupRecord.objects.get(user__email="anna@example.org")
    assert (record.ip, record.subnet) == ("198.51.100.23", "198.51.100.0/24")


def test_the_app_api_sign_up_records_it_too(client, mailoutbox):
    client.post(
        "/_allauth/app/v1/auth/signup",
        {"email": "boris@example.org", "password": PASSWORD},
        content_type="application/json",
        REMOTE_ADDR="2001:db8::1",
    )
    assert SignupRecord.objects.get(user__email="boris@example.org").subnet == "2001:db8::/64"


def test_an_unusable_address_does_not_stop_a_sign_up():
    user = UserFactory()
    assert signup_record(user=user, ip="unknown") is None
    assert signup_record(user=user, ip=None) is None
    assert not SignupRecord.objects.exists()


def test_addresses_are_forgotten_after_the_retention_period(settings):
    settings.SIGNUP_RECORD_RETENTION_DAYS = 90
    now = timezone.now()
    old = signed_up("203.0.113.1", now - timedelta(days=91))
    recent = signed_up("203.0.113.2", now - timedelta(days=89))
    assert purge_signup_records() == 1
    assert purge_signup_records() == 0
    assert list(SignupRecord.objects.values_list("user_id", flat=True)) == [recent.pk]
    assert User.objects.filter(pk=old.pk).exists()  # the account stays


# --- clusters -----------------------------------------------------------------------------------


def test_accounts_from_one_address_within_the_window_make_a_cluster(thresholds):
    start = timezone.now() - timedelta(days=1)
    farm = {signed_up("203.0.113.5", start + timedelta(minutes=50 * i)).pk for i in range(3)}
    # the same address after a gap longer than the window: another burst, too small
    signed_up("203.0.113.5", start + timedelta(hours=5))
    signed_up("203.0.113.5", start + timedelta(hours=5, minutes=5))
    assert clusters_of(ClusterKind.IP) == [farm]
    assert clusters_of(ClusterKind.SUBNET) == []  # 3 from the subnet in the burst, 4 needed


def test_two_accounts_are_below_the_threshold(thresholds):
    now = timezone.now()
    signed_up("203.0.113.5", now)
    signed_up("203.0.113.5", now)
    assert suspicious_clusters() == []


def test_a_subnet_cluster_of_many_addresses(thresholds):
    now = timezone.now()
    farm = {signed_up(f"198.51.100.{i}", now - timedelta(minutes=i)).pk for i in range(1, 5)}
    signed_up("198.51.101.1", now)  # the next /24: not in it
    clusters = suspicious_clusters()
    assert [(c.kind, set(c.user_ids)) for c in clusters] == [(ClusterKind.SUBNET, farm)]
    assert "198.51.100.0/24" in clusters[0].label


def test_a_subnet_with_the_same_accounts_as_an_address_is_shown_once(thresholds):
    thresholds.SUSPICIOUS_SIGNUPS_PER_SUBNET = 3
    now = timezone.now()
    for _ in range(3):
        signed_up("203.0.113.9", now)
    assert [c.kind for c in suspicious_clusters()] == [ClusterKind.IP]


def open_ballot_survey(building, questions: int = 2):
    poll = PollFactory(scope=Scope.BUILDING, building=building, open_ballot=True, points=5)
    for _ in range(questions):
        question_with_options(poll, options=3)
    return poll


def vote(user, poll, choice: int = 0):
    full = poll_with_questions(poll_id=poll.pk)
    answers = [
        AnswerInput(question=q.pk, options=(list(q.options.all())[choice].pk,))
        for q in full.questions.all()
    ]
    ballot_cast(user=resident_with_home(user_id=user.pk), poll=full, answers=answers)


def test_new_accounts_with_identical_open_ballot_answers(thresholds):
    building = BuildingFactory()
    survey = open_ballot_survey(building)
    same = [verified_resident(building, str(n)) for n in range(1, 4)]
    other = verified_resident(building, "9")
    old = verified_resident(building, "10", date_joined=timezone.now() - timedelta(days=60))
    for user in [*same, old]:
        vote(user, survey, choice=0)
    vote(other, survey, choice=1)
    assert clusters_of(ClusterKind.SAME_ANSWERS) == [{user.pk for user in same}]

    thresholds.SUSPICIOUS_MIN_ANSWERS = 3  # two questions answered: not enough to tell
    assert clusters_of(ClusterKind.SAME_ANSWERS) == []


def test_new_accounts_voting_in_the_same_polls_within_minutes(thresholds):
    polls = [PollFactory(), PollFactory(), PollFactory()]
    now = timezone.now()
    # a chain: each within 10 minutes of the next, in two polls
    together = [UserFactory() for _ in range(3)]
    for poll in polls[:2]:
        for minutes, user in zip((0, 8, 16), together, strict=True):
            Participation.objects.create(
                user=user, poll=poll, voted_at=now + timedelta(minutes=minutes)
            )
    apart = UserFactory()  # the same polls, an hour later
    old = UserFactory(date_joined=now - timedelta(days=60))  # the same minute, but not new
    for poll in polls[:2]:
        Participation.objects.create(user=apart, poll=poll, voted_at=now + timedelta(hours=1))
        Participation.objects.create(user=old, poll=poll, voted_at=now)
    once = UserFactory()  # together in one poll only
    Participation.objects.create(user=once, poll=polls[2], voted_at=now)
    Participation.objects.create(user=together[0], poll=polls[2], voted_at=now)
    assert clusters_of(ClusterKind.VOTED_TOGETHER) == [{user.pk for user in together}]


def test_votes_either_side_of_a_bucket_edge_are_paired_by_the_exact_window(thresholds):
    """Votes are bucketed by the window's length to find pairs fast; two votes 9 minutes apart
    across a bucket's edge still pair, two 11 minutes apart do not."""
    thresholds.SUSPICIOUS_CLUSTER_SIZE = 2
    window = 600  # seconds, SUSPICIOUS_VOTE_WINDOW_MINUTES
    edge = datetime.fromtimestamp((int(timezone.now().timestamp()) // window) * window, tz=UTC)
    polls = [PollFactory(), PollFactory()]
    near, far = (UserFactory(), UserFactory()), (UserFactory(), UserFactory())
    pairs = ((near, edge, (4, 5)), (far, edge + timedelta(hours=1), (5, 6)))
    for poll in polls:
        for (first, second), at, (before, after) in pairs:
            Participation.objects.create(
                user=first, poll=poll, voted_at=at - timedelta(minutes=before)
            )
            Participation.objects.create(
                user=second, poll=poll, voted_at=at + timedelta(minutes=after)
            )
    assert clusters_of(ClusterKind.VOTED_TOGETHER) == [{user.pk for user in near}]


def test_the_report_costs_the_same_queries_whatever_its_size(
    thresholds, django_assert_max_num_queries
):
    now = timezone.now()
    for net in range(2):
        for host in range(6):
            signed_up(f"203.0.{net}.{host}", now)
            signed_up(f"203.0.{net}.{host}", now)
            signed_up(f"203.0.{net}.{host}", now)
    with django_assert_max_num_queries(4):
        clusters = suspicious_clusters()
        assert sum(len(cluster.accounts) for cluster in clusters) == 2 * 6 * 3 + 2 * 18


# --- the admin ----------------------------------------------------------------------------------


@pytest.fixture
def city_admin(city_groups, client):
    user = UserFactory(is_staff=True, language="en")
    user.groups.add(Group.objects.get(name=CITY_ADMINS))
    client.force_login(user)
    return user


@pytest.fixture
def farm(thresholds):
    now = timezone.now()
    return [signed_up("203.0.113.77", now - timedelta(minutes=i)) for i in range(3)]


def test_city_admins_see_the_report_with_the_cluster(client, city_admin, farm):
    page = client.get(reverse("admin:accounts_user_suspicious"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "203.0.113.77" in text
    assert all(user.email in text for user in farm)
    users = client.get(reverse("admin:accounts_user_changelist"))
    assert reverse("admin:accounts_user_suspicious") in users.content.decode()


def test_staff_without_the_permission_get_403(client, city_groups, farm):
    staff = UserFactory(is_staff=True)
    staff.groups.add(Group.objects.get(name=CITY_STAFF))
    client.force_login(staff)
    assert client.get(reverse("admin:accounts_user_suspicious")).status_code == 403
    response = client.post(
        reverse("admin:accounts_user_suspend"), {"accounts": [farm[0].pk], "reason": "farm"}
    )
    assert response.status_code == 403
    assert not User.objects.filter(suspended_at__isnull=False).exists()


def test_residents_are_sent_to_the_admin_login(client, farm):
    client.force_login(UserFactory())
    assert client.get(reverse("admin:accounts_user_suspicious")).status_code == 302


def test_suspending_the_ticked_accounts_from_the_report(client, city_admin, farm):
    response = client.post(
        reverse("admin:accounts_user_suspend"),
        {"accounts": [farm[0].pk, farm[1].pk], "reason": "40 accounts from one address"},
    )
    assert response.status_code == 302
    suspended = User.objects.filter(suspended_at__isnull=False)
    assert set(suspended) == {farm[0], farm[1]}
    assert {user.suspended_by for user in suspended} == {city_admin}
    page = client.get(reverse("admin:accounts_user_suspicious")).content.decode()
    assert page.count('name="accounts"') == 1  # only the one still active can be ticked


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"reason": "farm"}, "Select the accounts to suspend."),
        ({"accounts": ["x"], "reason": "farm"}, "valid"),
        ({"accounts": ["FIRST"], "reason": ""}, "This field is required."),
    ],
)
def test_a_bad_suspension_form_is_a_400_naming_the_problem(client, city_admin, farm, data, problem):
    data = {
        **data,
        "accounts": [farm[0].pk if a == "FIRST" else a for a in data.get("accounts", [])],
    }
    response = client.post(reverse("admin:accounts_user_suspend"), data)
    assert response.status_code == 400
    assert problem in response.content.decode()
    assert not User.objects.filter(suspended_at__isnull=False).exists()


def test_a_staff_account_in_the_selection_is_a_400(client, city_admin, farm):
    response = client.post(
        reverse("admin:accounts_user_suspend"),
        {"accounts": [farm[0].pk, city_admin.pk], "reason": "farm"},
    )
    assert response.status_code == 400
    assert "Staff accounts cannot be suspended" in response.content.decode()


def test_the_user_list_actions_suspend_with_a_reason_and_reinstate(client, city_admin, farm):
    changelist = reverse("admin:accounts_user_changelist")
    ids = [str(user.pk) for user in farm]
    confirm = client.post(changelist, {"action": "suspend_accounts", "_selected_action": ids})
    assert confirm.status_code == 200
    assert all(user.email in confirm.content.decode() for user in farm)
    assert not User.objects.filter(suspended_at__isnull=False).exists()  # asked first
    client.post(reverse("admin:accounts_user_suspend"), {"accounts": ids, "reason": "farm"})
    assert User.objects.filter(suspended_at__isnull=False).count() == 3
    listed = client.get(changelist, {"suspended": "yes"})
    assert len(listed.context["cl"].result_list) == 3

    client.post(changelist, {"action": "reinstate_accounts", "_selected_action": ids[:1]})
    assert set(User.objects.filter(suspended_at__isnull=False)) == set(farm[1:])
