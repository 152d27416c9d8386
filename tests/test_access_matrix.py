"""Who may open what: every URL of the site and the API, for six kinds of visitor.

The URLs come from the URL resolver, so a new one without a row here fails the test
(`test_every_url_has_a_row`). Django's admin and allauth's account pages are the two
libraries' own: for them the rule is checked generically (admin pages need a staff login
and the model's permission; account pages never fail with a 5xx).

Visitors: anonymous; a resident (verified in building A, district A, the survey's
author); a neighbour elsewhere (verified in building B, district B); an unverified resident
of building A; city staff; a city admin.
"""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.groups import CITY_ADMINS, CITY_STAFF
from accounts.models import Notification, NotificationKind
from discussions.services import discussion_summary_publish
from tests.accounts.factories import UserFactory, verified_resident
from tests.civic.factories import BuildingFactory
from tests.discussions.factories import DiscussionFactory, ProposalFactory
from tests.novelties.factories import NoveltyFactory
from tests.polls.factories import PollFactory, question_with_options
from tests.rewards.factories import RewardFactory

ROLES = ("anonymous", "resident", "elsewhere", "unverified", "staff", "admin")
LIBRARY_PREFIXES = ("admin/", "accounts/", "_allauth/", "i18n/")

LOGIN, API_ANON = 302, 401


def everyone(status):
    return dict.fromkeys(ROLES, status)


def signed_in(status, anonymous=LOGIN):
    return {"anonymous": anonymous, **dict.fromkeys(ROLES[1:], status)}


def survey_only(resident, anonymous=404, others=404):
    return {
        "anonymous": anonymous,
        "resident": resident,
        "elsewhere": others,
        "unverified": others,
        "staff": others,
        "admin": others,
    }


def staff_only(status, residents=403, anonymous=LOGIN):
    return {
        "anonymous": anonymous,
        "resident": residents,
        "elsewhere": residents,
        "unverified": residents,
        "staff": status,
        "admin": status,
    }


# (url name, object) -> expected status per role, for a GET. Objects: "poll" is an open
# district poll of district A (results after closing), "survey" an open secret survey of
# building A; "reward", "building" (A), "token" an invitation token, "novelty" a published
# citywide novelty open for rating; "discussion" an open discussion of district A and
# "proposal" a proposal in it, "ended_discussion" an ended one with its summary published.
MATRIX = {
    ("healthz", None): everyone(200),
    ("media_file", None): everyone(404),  # uploads are public; this one does not exist
    ("api_schema", None): everyone(200),
    ("api_docs", None): everyone(200),
    ("api_me", None): signed_in(200, API_ANON),
    ("api_my_data", None): signed_in(200, API_ANON),
    ("api_delete_account", None): signed_in(405, API_ANON),
    ("api_points", None): signed_in(200, API_ANON),
    ("api_redemptions", None): signed_in(200, API_ANON),
    ("api_notifications", None): signed_in(200, API_ANON),
    ("api_notifications_read", None): signed_in(405, API_ANON),
    ("api_rewards", None): everyone(200),
    ("api_redeem", "reward"): signed_in(405, API_ANON),
    ("api_areas", None): everyone(200),
    ("api_buildings", None): everyone(200),
    ("api_building_surveys", "building"): survey_only(200, anonymous=API_ANON),
    ("api_residency", None): signed_in(200, API_ANON),
    ("api_residency_verify", None): signed_in(405, API_ANON),
    ("api_residency_claim", None): signed_in(405, API_ANON),
    ("api_polls", None): everyone(200),
    ("api_decisions", None): everyone(200),
    ("api_poll", "poll"): everyone(200),
    ("api_poll", "survey"): survey_only(200),
    ("api_vote", "poll"): signed_in(405, API_ANON),
    ("api_publish", "poll"): {**staff_only(403, anonymous=API_ANON), "admin": 405},
    ("api_results", "poll"): everyone(403),
    ("api_results", "survey"): survey_only(403),
    ("api_report", "survey"): signed_in(405, API_ANON),
    ("api_export", "poll"): staff_only(200, anonymous=API_ANON),
    ("profile", None): signed_in(200),
    ("profile_edit", None): signed_in(200),
    ("my_data", None): signed_in(200),
    ("delete_account", None): signed_in(200),
    ("building_search", None): signed_in(200),
    ("my_building", None): signed_in(200),
    ("residency_verify", None): signed_in(405),
    ("residency_claim", None): signed_in(405),
    ("notifications", None): signed_in(200),
    ("invite", "token"): everyone(302),
    ("home", None): everyone(200),
    ("poll_detail", "poll"): everyone(200),
    ("poll_detail", "survey"): survey_only(200),
    ("poll_results", "poll"): everyone(403),
    ("poll_results", "survey"): survey_only(403),
    ("survey_report", "survey"): signed_in(405),
    ("survey_new", None): {
        "anonymous": LOGIN,
        "resident": 200,
        "elsewhere": 200,  # verified in their own building
        "unverified": 302,  # sent to verify first
        "staff": 302,
        "admin": 302,
    },
    ("check_vote", None): everyone(200),
    ("decisions", None): everyone(200),
    ("ballot_log_key", None): everyone(200),
    ("ballot_log", "poll"): everyone(200),
    ("ballot_log", "survey"): everyone(404),
    ("open_data_file", "poll"): everyone(200),  # tree_heads.json: public while open
    ("open_data_file", "survey"): everyone(404),
    ("staff_overview", None): staff_only(200),
    ("staff_dashboard", "poll"): staff_only(200),
    # The author sees their survey's dashboard once its results may be seen; open and
    # secret, they may not yet.
    ("staff_dashboard", "survey"): {**staff_only(403), "admin": 200},
    ("staff_export", "poll"): staff_only(200),
    ("staff_recount", "poll"): staff_only(200),
    ("staff_recount_csv", "poll"): staff_only(200),
    # A survey's recount follows its dashboard: a city admin's, never city staff's.
    ("staff_recount", "survey"): {**staff_only(403), "admin": 200},
    ("staff_recount_csv", "survey"): {**staff_only(403), "admin": 200},
    ("my_points", None): signed_in(200),
    ("rewards", None): everyone(200),
    ("reward_redeem", "reward"): signed_in(405),
    ("my_redemptions", None): signed_in(200),
    ("novelties", None): everyone(200),
    ("novelty_ranking", None): everyone(200),
    ("novelty_detail", "novelty"): everyone(200),
    ("api_novelties", None): everyone(200),
    ("api_novelty_ranking", None): everyone(200),
    ("api_novelty", "novelty"): everyone(200),
    ("api_novelty_rate", "novelty"): signed_in(405, API_ANON),
    ("discussions", None): everyone(200),
    ("discussion_detail", "discussion"): everyone(200),
    ("discussion_post", "discussion"): signed_in(405),
    ("discussion_reply", "proposal"): signed_in(405),
    ("discussion_support", "proposal"): signed_in(405),
    ("discussion_report", "proposal"): signed_in(405),
    ("discussion_summary_csv", "ended_discussion"): staff_only(200),
    ("api_discussions", None): everyone(200),
    ("api_discussion", "discussion"): everyone(200),
    ("api_discussion_post", "discussion"): signed_in(405, API_ANON),
    ("api_discussion_reply", "proposal"): signed_in(405, API_ANON),
    ("api_discussion_support", "proposal"): signed_in(405, API_ANON),
    ("api_discussion_report", "proposal"): signed_in(405, API_ANON),
}


def url_patterns(patterns=None, prefix=""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from url_patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.name


def test_every_url_has_a_row():
    """A new page or endpoint must say here who may open it."""
    ours = {name for route, name in url_patterns() if not route.startswith(LIBRARY_PREFIXES)}
    covered = {name for name, _object in MATRIX}
    assert ours - covered == set(), "add these URLs to MATRIX"
    assert covered - ours == set(), "these rows name URLs that no longer exist"


@pytest.fixture
def world(city_groups):
    home, elsewhere = BuildingFactory(), BuildingFactory()
    resident = verified_resident(home, "1")
    staff = UserFactory(is_staff=True)
    staff.groups.add(Group.objects.get(name=CITY_STAFF))
    admin = UserFactory(is_staff=True)
    admin.groups.add(Group.objects.get(name=CITY_ADMINS))
    poll = PollFactory(scope="areas", districts=[home.district])
    question_with_options(poll)
    survey = PollFactory(scope="building", building=home, created_by=resident, points=5)
    question_with_options(survey)
    discussion = DiscussionFactory(scope="areas", districts=[home.district])
    users = {
        "anonymous": None,
        "resident": resident,
        "elsewhere": verified_resident(elsewhere, "2"),
        "unverified": UserFactory(home_building=home),
        "staff": staff,
        "admin": admin,
    }
    objects = {
        "poll": {"poll_id": poll.pk},
        "survey": {"poll_id": survey.pk},
        "reward": {"reward_id": RewardFactory().pk},
        "building": {"building_id": home.pk},
        "token": {"token": "not-a-real-token"},
        "novelty": {"novelty_id": NoveltyFactory().pk},
        "discussion": {"discussion_id": discussion.pk},
        "proposal": {"post_id": ProposalFactory(discussion=discussion).pk},
        "ended_discussion": {"discussion_id": ended_discussion_with_summary().pk},
    }
    return users, objects


def ended_discussion_with_summary():
    ended = DiscussionFactory(
        opens_at=timezone.now() - timedelta(days=10), closes_at=timezone.now() - timedelta(hours=1)
    )
    discussion_summary_publish(discussion_id=ended.pk)
    return ended


EXTRA_KWARGS = {
    "api_export": {"kind": "results"},
    "staff_export": {"kind": "results"},
    "open_data_file": {"name": "tree_heads.json"},
    "media_file": {"path": "polls/missing.jpg"},
}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_each_visitor_gets_the_expected_status_everywhere(client, world, role):
    users, objects = world
    if users[role] is not None:
        client.force_login(users[role])
    wrong = []
    for (name, target), expected in MATRIX.items():
        kwargs = {**(objects[target] if target else {}), **EXTRA_KWARGS.get(name, {})}
        status = client.get(reverse(name, kwargs=kwargs)).status_code
        if status != expected[role]:
            wrong.append(f"{name}[{target}]: {status}, expected {expected[role]}")
    assert wrong == []


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_admin_pages_need_staff_and_the_models_permission(client, world, role):
    """Every registered model's admin list: residents are sent to the admin login; staff
    see it with the view (or change) permission and get 403 without."""
    from django.contrib import admin

    users, _objects = world
    user = users[role]
    if user is not None:
        client.force_login(user)
    for model in admin.site._registry:
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        status = client.get(url).status_code
        if user is None or not user.is_staff:
            assert status == 302, url
        else:
            allowed = user.has_perm(f"{opts.app_label}.view_{opts.model_name}") or user.has_perm(
                f"{opts.app_label}.change_{opts.model_name}"
            )
            assert status == (200 if allowed else 403), (url, status)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ("anonymous", "resident"))
def test_account_pages_without_arguments_never_fail(client, world, role):
    users, _objects = world
    if users[role] is not None:
        client.force_login(users[role])
    for route, _name in url_patterns():
        if route.startswith(("accounts/", "_allauth/")) and "<" not in route:
            for method in (client.get, client.post):
                status = method(f"/{route}").status_code
                assert status < 500, (method.__name__, route, status)


# What a URL may name by id: public things (polls, rewards, buildings, novelties,
# discussions and their posts) — never a resident's own records, which live under /me/.
PUBLIC_URL_KWARGS = {
    "poll_id",
    "reward_id",
    "building_id",
    "novelty_id",
    "discussion_id",
    "post_id",
    "kind",
    "name",
    "token",
    "path",
}


def test_no_url_names_a_residents_own_records_by_id():
    """Profile, points, redemptions, notifications and residency claims are reached only
    as "mine" (/me/, /profile/…): there is no id in a URL to change for someone else's."""
    ours = [
        (route, name) for route, name in url_patterns() if not route.startswith(LIBRARY_PREFIXES)
    ]
    kwargs = {kwarg for route, _name in ours for kwarg in re.findall(r"<(?:\w+:)?(\w+)>", route)}
    assert kwargs <= PUBLIC_URL_KWARGS


@pytest.mark.django_db
def test_another_residents_notification_ids_mark_nothing(client):
    """The one endpoint that takes record ids in its body filters them by their owner."""
    mine, theirs = UserFactory(), UserFactory()
    other = Notification.objects.create(user=theirs, kind=NotificationKind.VOUCHER, key="v:1")
    client.force_login(mine)
    response = client.post(
        reverse("api_notifications_read"), {"ids": [other.pk]}, content_type="application/json"
    )
    assert (response.status_code, response.json()) == (200, {"marked": 0})
    other.refresh_from_db()
    assert other.read_at is None
