from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db.models import Count
from django.urls import reverse

from accounts.demo import DEMO_DOMAIN, VERIFIED_LOGIN
from accounts.groups import CITY_ADMINS, CITY_STAFF
from accounts.models import (
    ClaimMethod,
    ClaimStatus,
    Notification,
    ResidencyClaim,
    ResidencyCodeBatch,
    User,
)
from civic.demo import DEMO_PASSWORD, demo_logins
from civic.models import Building, District, Okrug
from polls.models import Ballot, Phase, Poll, Scope, VoteUnit
from polls.selectors import building_surveys, survey_turnout


@pytest.mark.django_db
def test_demo_city_loads_once_with_logins_in_every_okrug(city_groups):
    """The demo city has 12 okrugs, 40+ districts, 2,000+ buildings and 500+ residents with
    birth years and genders; loading it again creates nothing; the printed logins work."""
    call_command("load_demo", stdout=StringIO())
    counts = (Okrug.objects.count(), District.objects.count(), Building.objects.count())
    residents = User.objects.filter(is_staff=False)
    assert counts[0] == 12 and counts[1] >= 40 and counts[2] >= 2000
    assert residents.count() >= 500
    assert not residents.filter(birth_year__isnull=True).exists()
    assert set(residents.values_list("gender", flat=True)) == {"female", "male", "undisclosed"}
    okrugs_with_residents = Okrug.objects.annotate(
        residents=Count("districts__buildings__residents")
    ).filter(residents__gt=0)
    assert okrugs_with_residents.count() == 12

    call_command("load_demo", stdout=(out := StringIO()))
    assert "0 buildings created" in out.getvalue() and "0 residents created" in out.getvalue()
    assert "0 verified in their buildings; 0 polls and surveys and 0 rewards" in out.getvalue()
    call_command("rewards_audit", stdout=StringIO())  # the demo's points add up
    assert User.objects.filter(is_staff=False).count() == residents.count()

    logins = demo_logins()
    resident_logins = [login for login in logins if login.role == "Resident"]
    assert len(resident_logins) == 12
    assert len({login.place.split(",")[0] for login in resident_logins}) == 12
    for login in logins:
        assert authenticate(email=login.email, password=DEMO_PASSWORD) is not None, login.email
    assert User.objects.get(email="admin@demo.civic.local").groups.get().name == CITY_ADMINS
    assert User.objects.get(email="analyst@demo.civic.local").groups.get().name == CITY_STAFF


@pytest.mark.django_db
def test_demo_has_verified_residents_with_open_and_closed_building_surveys(city_groups, client):
    """Three buildings have 6–12 verified residents (some sharing an apartment), verified by
    code and by staff; each has an open and a closed survey; the closed ones are finally
    tallied and published, one reaching its quorum and one not; the main resident login sees
    them under "My building" and may vote in the open one; a claim waits for the staff and
    one building's code batch is there to download. Loading again changes nothing."""
    call_command("load_demo", stdout=StringIO())

    demo_users = User.objects.filter(email__endswith=DEMO_DOMAIN)
    verified = demo_users.filter(verified_building__isnull=False)
    buildings = verified.values("verified_building").annotate(
        residents=Count("pk"), apartments=Count("verified_apartment", distinct=True)
    )
    assert len(buildings) == 3
    for building in buildings:
        assert 6 <= building["residents"] <= 12
        assert building["apartments"] < building["residents"]  # neighbours share a flat
    claims = ResidencyClaim.objects.filter(user__in=demo_users)
    methods = set(claims.filter(status=ClaimStatus.VERIFIED).values_list("method", flat=True))
    assert methods == {ClaimMethod.CODE, ClaimMethod.STAFF}
    assert claims.filter(status=ClaimStatus.PENDING).count() == 1
    batch = ResidencyCodeBatch.objects.get(created_by__email__endswith=DEMO_DOMAIN)
    assert batch.codes.filter(used_at__isnull=False).exists()

    surveys = Poll.objects.filter(
        scope=Scope.BUILDING, created_by__email__endswith=DEMO_DOMAIN
    ).select_related("building", "tally")
    for building in buildings:
        phases = {s.phase() for s in surveys if s.building_id == building["verified_building"]}
        assert phases == {Phase.OPEN, Phase.CLOSED}
    open_surveys = [s for s in surveys if s.phase() == Phase.OPEN]
    assert any(s.open_ballot for s in open_surveys)
    assert any(s.vote_unit == VoteUnit.APARTMENT and s.quorum_percent for s in open_surveys)
    closed = [s for s in surveys if s.phase() == Phase.CLOSED]
    for survey in closed:
        assert survey.closed_at and survey.tallied_at and survey.results_published_at
        assert survey.tally.final and survey.tally.participants > 0
    assert {survey_turnout(poll=s).quorum_reached for s in closed} >= {True, False}
    assert Ballot.objects.filter(poll__in=open_surveys, voter__isnull=False).exists()

    login = User.objects.get(email=VERIFIED_LOGIN)
    mine = building_surveys(user=login)
    assert mine.open and mine.closed
    assert all(card.can_vote for card in mine.open)
    client.force_login(login)
    page = client.get(reverse("my_building")).content.decode()
    assert all(card.poll.title in page for card in [*mine.open, *mine.closed])

    counts = (verified.count(), claims.count(), surveys.count())
    call_command("load_demo", stdout=(out := StringIO()))
    assert "0 verified in their buildings; 0 polls and surveys and 0 rewards" in out.getvalue()
    assert (verified.count(), claims.count(), surveys.count()) == counts
    call_command("rewards_audit", stdout=StringIO())


@pytest.mark.django_db
def test_the_independent_verifier_recounts_the_closed_demo_poll(city_groups, client, tmp_path):
    """The demo's closed city poll is published with its ballot log: the verifier recomputes
    the root, checks the signatures and recounts to the published numbers — and catches a
    copy in which one ballot was changed."""
    import json

    from civic_verify.verify import verify_directory
    from polls.ballot_log import public_key_hex

    call_command("load_demo", stdout=StringIO())
    closed = (
        Poll.objects.exclude(scope=Scope.BUILDING)
        .filter(results_published_at__isnull=False)
        .earliest("pk")
    )
    for name in ("ballots.json", "tree_heads.json", "results.json"):
        response = client.get(reverse("open_data_file", args=[closed.pk, name]))
        (tmp_path / name).write_bytes(b"".join(response.streaming_content))
    report = verify_directory(tmp_path, public_key_hex=public_key_hex())
    assert report.ok, report.problems
    ballots = json.loads((tmp_path / "ballots.json").read_text())
    assert len(ballots["ballots"]) == Ballot.objects.filter(poll=closed).count() > 50

    ballots["ballots"][0]["receipt"] = "TAMPERED2345"  # one ballot changed
    (tmp_path / "ballots.json").write_text(json.dumps(ballots))
    tampered = verify_directory(tmp_path, public_key_hex=public_key_hex())
    assert not tampered.ok


@pytest.mark.django_db
def test_staff_exports_and_open_data_of_the_demo_hold_no_personal_data(city_groups, client):
    """Every staff export and every open-data file of the demo's city polls is scanned for
    the demo residents' emails, names and birth years next to them: none appears."""
    from polls.models import ExportKind
    from polls.open_data import FILES

    call_command("load_demo", stdout=StringIO())
    residents = list(User.objects.filter(is_staff=False))
    emails = {user.email.lower() for user in residents}
    names = {user.get_full_name() for user in residents if user.get_full_name()}
    client.force_login(User.objects.get(email__startswith="analyst"))
    polls = Poll.objects.exclude(scope=Scope.BUILDING).filter(status="published")
    scanned = 0
    for poll in polls:
        urls = [reverse("staff_export", args=[poll.pk, kind]) for kind in ExportKind.values]
        urls += [reverse("open_data_file", args=[poll.pk, name]) for name in FILES]
        for url in urls:
            response = client.get(url)
            if response.status_code != 200:
                continue
            text = b"".join(response.streaming_content).decode("utf-8-sig").lower()
            assert not any(email in text for email in emails), url
            assert not any(name.lower() in text for name in names), url
            assert "birth" not in text, url
            scanned += 1
    assert scanned >= 10


@pytest.mark.django_db
def test_demo_has_decisions_in_every_status_with_their_history(city_groups, client):
    """The closed demo city polls have decisions in every status, with histories of several
    steps recorded by the demo city admin; the Decisions page counts them, the results page
    shows them, the polls' voters were told; loading again records nothing."""
    from polls.models import Decision, DecisionStatus

    call_command("load_demo", stdout=StringIO())
    decisions = Decision.objects.select_related("poll", "recorded_by")
    assert set(decisions.values_list("status", flat=True)) == set(DecisionStatus.values)
    assert {d.poll.phase() for d in decisions} == {Phase.CLOSED}
    assert decisions.values("poll").distinct().count() == 2
    assert {d.recorded_by.email for d in decisions} == {"admin@demo.civic.local"}
    assert max(d.updates.count() for d in decisions) == 3
    done = decisions.filter(status=DecisionStatus.DONE).count()
    page = client.get(reverse("decisions"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"{decisions.count()} decisions taken, {done} implemented" in page
    poll = decisions.first().poll
    results = client.get(reverse("poll_results", args=[poll.pk])).content.decode()
    assert all(d.text in results for d in decisions.filter(poll=poll))
    told = Notification.objects.filter(key__startswith="decision:")
    assert told.exists() and not told.filter(emailed_at__isnull=True).exists()

    call_command("load_demo", stdout=(out := StringIO()))
    assert "0 decisions recorded" in out.getvalue()
    assert Decision.objects.count() == decisions.count()
