"""Residency verification: codes from letters (expiry, single use, rate limit, binding to
building and apartment), staff approval with a reason, moving out, and the pages, admin
and API that use them."""

import csv
import io
import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import (
    ClaimMethod,
    ClaimStatus,
    CodeAttempt,
    CodeOutcome,
    Notification,
    ResidencyClaim,
    ResidencyCode,
    User,
)
from accounts.services import (
    AlreadyVerified,
    CodeRefused,
    NoHomeBuilding,
    ProfileChanges,
    ResidencyError,
    TooManyCodeTries,
    profile_update,
    residency_claim_decide,
    residency_claim_request,
    residency_codes_generate,
    residency_verify_code,
)
from rewards.models import LedgerEntry, Reason
from tests.accounts.factories import UserFactory, verified_resident
from tests.civic.factories import BuildingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(client, settings):
    """These tests read the pages' English text (the site defaults to Russian)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def staff(city_groups):
    from django.contrib.auth.models import Group

    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="City staff"))
    return user


def save_profile(resident, **changes) -> None:
    """Save the profile form as the resident would, changing only what is given."""
    fields = {"birth_year": 1985, "gender": "female", "language": "ru", **changes}
    profile_update(user=resident, changes=ProfileChanges(**fields))


def codes_for(building, staff, apartments: int = 3) -> dict[str, str]:
    building.apartments = apartments
    building.save(update_fields=["apartments"])
    batch = residency_codes_generate(buildings=[building], label=str(building), created_by=staff)
    return dict(batch.codes.values_list("apartment", "code"))


def test_codes_are_random_one_per_apartment_and_expire_after_the_set_time(staff, settings):
    settings.RESIDENCY_CODE_VALID_DAYS = 10
    building = BuildingFactory(apartments=40)
    batch = residency_codes_generate(buildings=[building], label="x", created_by=staff)
    codes = list(batch.codes.values_list("apartment", "code"))
    assert sorted(int(apartment) for apartment, _code in codes) == list(range(1, 41))
    assert len({code for _apartment, code in codes}) == 40
    assert abs(batch.expires_at - (timezone.now() + timedelta(days=10))) < timedelta(minutes=1)


def test_a_code_verifies_its_apartment_once_and_awards_points_once(staff):
    building = BuildingFactory()
    codes = codes_for(building, staff)
    resident = UserFactory(home_building=building, apartment="")
    claim = residency_verify_code(user=resident, code=codes["2"].lower()[:4] + " " + codes["2"][4:])
    resident.refresh_from_db()
    assert (resident.verified_building, resident.verified_apartment) == (building, "2")
    assert resident.apartment == "2"  # the code proves the apartment
    assert (claim.status, claim.method) == (ClaimStatus.VERIFIED, ClaimMethod.CODE)
    assert ResidencyCode.objects.get(code=codes["2"]).used_by == resident
    assert LedgerEntry.objects.filter(user=resident, reason=Reason.ADDRESS_VERIFIED).count() == 1
    with pytest.raises(AlreadyVerified):
        residency_verify_code(user=resident, code=codes["3"])


def test_a_used_code_is_refused_to_a_second_resident(staff):
    building = BuildingFactory()
    codes = codes_for(building, staff)
    residency_verify_code(user=UserFactory(home_building=building), code=codes["1"])
    flatmate = UserFactory(home_building=building)
    with pytest.raises(CodeRefused, match="already been used"):
        residency_verify_code(user=flatmate, code=codes["1"])
    assert CodeAttempt.objects.filter(user=flatmate).get().outcome == CodeOutcome.USED


def test_an_expired_code_is_refused(staff):
    building = BuildingFactory()
    codes = codes_for(building, staff)
    resident = UserFactory(home_building=building)
    later = timezone.now() + timedelta(days=61)
    with time_machine.travel(later), pytest.raises(CodeRefused, match="expired"):
        residency_verify_code(user=resident, code=codes["1"])
    resident.refresh_from_db()
    assert resident.verified_building is None


def test_a_code_for_another_building_is_just_a_wrong_code(staff):
    """Codes are bound to their building: elsewhere they say nothing about themselves."""
    codes = codes_for(BuildingFactory(), staff)
    stranger = UserFactory()
    with pytest.raises(CodeRefused, match="not valid"):
        residency_verify_code(user=stranger, code=codes["1"])
    assert ResidencyCode.objects.get(code=codes["1"]).used_at is None


def test_wrong_codes_are_limited_per_hour_and_logged(staff, settings, caplog):
    settings.RESIDENCY_CODE_TRIES_PER_HOUR = 5
    building = BuildingFactory()
    codes = codes_for(building, staff)
    resident = UserFactory(home_building=building)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for minute in range(5):
            clock.move_to(start + timedelta(minutes=minute))
            with pytest.raises(CodeRefused):
                residency_verify_code(user=resident, code="WRONGCODE1")
        with pytest.raises(TooManyCodeTries) as refused:
            residency_verify_code(user=resident, code=codes["1"])  # even the right one
        assert refused.value.retry_at == CodeAttempt.objects.filter(user=resident).order_by(
            "created_at"
        ).first().created_at + timedelta(hours=1)
        clock.move_to(start + timedelta(minutes=61))
        residency_verify_code(user=resident, code=codes["1"])  # the first try has aged out
    outcomes = list(
        CodeAttempt.objects.filter(user=resident)
        .order_by("created_at")
        .values_list("outcome", flat=True)
    )
    assert outcomes == ["wrong"] * 5 + ["blocked", "verified"]
    assert "residency code try" in caplog.text
    assert codes["1"] not in caplog.text  # the log never holds a code


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_codes_cannot_exceed_the_limit(city_groups, settings):
    """Ten tries at once from ten connections: the resident's row lock lets exactly the
    allowed number through as real tries; the rest are refused as blocked."""
    settings.RESIDENCY_CODE_TRIES_PER_HOUR = 5
    resident = UserFactory()
    barrier = threading.Barrier(10)

    def try_once():
        barrier.wait()
        try:
            residency_verify_code(user=resident, code="WRONGCODE1")
        except ResidencyError:
            pass
        finally:
            connection.close()

    threads = [threading.Thread(target=try_once) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes = list(CodeAttempt.objects.filter(user=resident).values_list("outcome", flat=True))
    assert sorted(outcomes) == ["blocked"] * 5 + ["wrong"] * 5


def test_verification_needs_a_home_building():
    with pytest.raises(NoHomeBuilding):
        residency_verify_code(user=UserFactory(home_building=None), code="ABCDEFGHJK")


def test_moving_away_ends_the_verification_and_points_are_not_awarded_again(staff):
    old_home, new_home = BuildingFactory(), BuildingFactory()
    codes = codes_for(old_home, staff)
    resident = UserFactory(home_building=old_home)
    residency_verify_code(user=resident, code=codes["1"])
    resident.refresh_from_db()
    save_profile(resident, home_building=new_home, apartment="5")
    resident.refresh_from_db()
    assert resident.verified_building is None and resident.verified_apartment == ""
    assert ResidencyClaim.objects.get(user=resident).status == ClaimStatus.ENDED
    new_codes = codes_for(new_home, staff, apartments=5)
    residency_verify_code(user=resident, code=new_codes["5"])
    assert LedgerEntry.objects.filter(user=resident, reason=Reason.ADDRESS_VERIFIED).count() == 1


def test_changing_the_apartment_ends_the_verification():
    resident = verified_resident(BuildingFactory(), "7")
    save_profile(resident, home_building=resident.home_building, apartment="8")
    resident.refresh_from_db()
    assert resident.verified_building is None


def test_staff_approve_a_claim_with_a_reason_and_the_resident_is_notified(staff):
    resident = UserFactory(apartment="12")
    claim = residency_claim_request(user=resident, note="Живу с 2019 года")
    with pytest.raises(ResidencyError, match="already waiting"):
        residency_claim_request(user=resident)
    with pytest.raises(ResidencyError, match="reason"):
        residency_claim_decide(claim_id=claim.pk, staff=staff, approve=True, reason=" ")
    residency_claim_decide(claim_id=claim.pk, staff=staff, approve=True, reason="Договор аренды")
    resident.refresh_from_db()
    claim.refresh_from_db()
    assert (resident.verified_building, resident.verified_apartment) == (
        resident.home_building,
        "12",
    )
    assert (claim.status, claim.method, claim.decided_by) == ("verified", "staff", staff)
    assert Notification.objects.get(user=resident).kind == "residency_verified"
    with pytest.raises(ResidencyError, match="already been decided"):
        residency_claim_decide(claim_id=claim.pk, staff=staff, approve=False, reason="нет")


def test_a_declined_claim_tells_the_resident_why(staff, client):
    resident = UserFactory(apartment="12")
    claim = residency_claim_request(user=resident)
    residency_claim_decide(claim_id=claim.pk, staff=staff, approve=False, reason="Нет в договоре")
    client.force_login(resident)
    assert "Нет в договоре" in client.get(reverse("my_building")).content.decode()
    resident.refresh_from_db()
    assert resident.verified_building is None


def test_a_claim_of_a_resident_who_moved_meanwhile_cannot_be_approved(staff):
    resident = UserFactory(apartment="12")
    claim = residency_claim_request(user=resident)
    User.objects.filter(pk=resident.pk).update(home_building=BuildingFactory())
    with pytest.raises(ResidencyError, match="moved"):
        residency_claim_decide(claim_id=claim.pk, staff=staff, approve=True, reason="ok")


def test_a_claim_needs_an_apartment():
    with pytest.raises(ResidencyError, match="apartment"):
        residency_claim_request(user=UserFactory(apartment=""))


# --- pages --------------------------------------------------------------------------------


def test_the_code_form_verifies_and_a_wrong_code_is_a_400_with_the_reason(client, staff):
    building = BuildingFactory()
    codes = codes_for(building, staff)
    resident = UserFactory(home_building=building)
    client.force_login(resident)
    page = client.get(reverse("my_building")).content.decode()
    assert "Code from the letter" in page
    wrong = client.post(reverse("residency_verify"), {"code": "ZZZZZZZZZZ"})
    assert wrong.status_code == 400
    assert "not valid for your building" in wrong.content.decode()
    assert client.post(reverse("residency_verify"), {"code": ""}).status_code == 400
    response = client.post(reverse("residency_verify"), {"code": codes["3"]}, follow=True)
    assert "You are a verified resident, apartment 3" in response.content.decode()


def test_too_many_wrong_codes_on_the_page_is_429(client, settings):
    settings.RESIDENCY_CODE_TRIES_PER_HOUR = 2
    client.force_login(UserFactory())
    for _ in range(2):
        assert client.post(reverse("residency_verify"), {"code": "ZZZZZZZZZZ"}).status_code == 400
    blocked = client.post(reverse("residency_verify"), {"code": "ZZZZZZZZZZ"})
    assert blocked.status_code == 429
    assert "Too many wrong codes" in blocked.content.decode()


def test_the_claim_form_sends_a_claim(client):
    resident = UserFactory(apartment="4")
    client.force_login(resident)
    response = client.post(reverse("residency_claim"), {"note": "Новосёл"}, follow=True)
    assert "waiting for the city staff" in response.content.decode()
    assert client.post(reverse("residency_claim"), {}).status_code == 409


def test_the_profile_shows_the_verification(client):
    resident = verified_resident(BuildingFactory(), "9")
    client.force_login(resident)
    assert "Verified resident" in client.get(reverse("profile")).content.decode()


# --- admin --------------------------------------------------------------------------------


def test_staff_generate_codes_from_the_admin_and_download_csv_and_letters(client, staff):
    building = BuildingFactory(apartments=3, street="Тверская улица", house="7")
    client.force_login(staff)
    response = client.post(
        reverse("admin:civic_building_changelist"),
        {"action": "generate_building_codes", "_selected_action": [building.pk]},
    )
    assert response.status_code == 302
    batch_url = response["Location"]
    page = client.get(batch_url).content.decode()
    assert "List of codes (CSV)" in page
    batch_id = int(batch_url.rstrip("/").split("/")[-2])
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(
                    reverse("admin:accounts_residencycodebatch_csv", args=[batch_id])
                ).content.decode("utf-8-sig")
            )
        )
    )
    assert rows[0] == ["postcode", "address", "apartment", "code", "expires"]
    assert [row[2] for row in rows[1:]] == ["1", "2", "3"]
    assert rows[1][1] == building.address
    pdf = client.get(reverse("admin:accounts_residencycodebatch_pdf", args=[batch_id]))
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    pages = pdf.content.count(b"/Type /Page") - pdf.content.count(b"/Type /Pages")
    assert pages == 3  # one letter per apartment


def test_codes_for_a_whole_district(client, staff):
    building = BuildingFactory(apartments=2)
    BuildingFactory(apartments=3, district=building.district)
    client.force_login(staff)
    client.post(
        reverse("admin:civic_district_changelist"),
        {"action": "generate_district_codes", "_selected_action": [building.district_id]},
    )
    assert ResidencyCode.objects.count() == 5


def test_residents_cannot_download_codes(client, staff):
    batch = residency_codes_generate(
        buildings=[BuildingFactory(apartments=1)], label="x", created_by=staff
    )
    client.force_login(UserFactory())
    response = client.get(reverse("admin:accounts_residencycodebatch_csv", args=[batch.pk]))
    assert response.status_code == 302  # to the admin login, never the codes
    assert b"code" not in response.content


def test_staff_decide_a_claim_in_the_admin(client, staff):
    claim = residency_claim_request(user=UserFactory(apartment="3"))
    client.force_login(staff)
    url = reverse("admin:accounts_residencyclaim_change", args=[claim.pk])
    assert client.post(url, {"decision": "approve", "decision_reason": ""}).status_code == 200
    response = client.post(url, {"decision": "approve", "decision_reason": "Паспорт"})
    assert response.status_code == 302
    claim.refresh_from_db()
    assert (claim.status, claim.reason) == ("verified", "Паспорт")


# --- API ----------------------------------------------------------------------------------


def test_api_verify_claim_and_status(client, staff):
    building = BuildingFactory()
    codes = codes_for(building, staff)
    resident = UserFactory(home_building=building, apartment="1")
    client.force_login(resident)
    status = client.get(reverse("api_residency")).json()
    assert status == {"verified_building": None, "verified_apartment": "", "latest_claim": None}
    wrong = client.post(reverse("api_residency_verify"), {"code": "ZZZZZZZZZZ"}, "application/json")
    assert wrong.status_code == 400 and wrong.json()["code"] == "code_refused"
    claimed = client.post(reverse("api_residency_claim"), {}, "application/json")
    assert claimed.status_code == 201 and claimed.json()["latest_claim"]["status"] == "pending"
    done = client.post(reverse("api_residency_verify"), {"code": codes["2"]}, "application/json")
    assert done.status_code == 200
    assert done.json()["verified_building"] == building.pk
    assert done.json()["verified_apartment"] == "2"
    again = client.post(reverse("api_residency_verify"), {"code": codes["3"]}, "application/json")
    assert again.status_code == 409 and again.json()["code"] == "already_verified"


def test_apartments_have_one_spelling(staff):
    """ "05", "5" and a Latin "5a" next to a Cyrillic "5А" are the same apartment, so one
    household cannot count twice in a one-vote-per-apartment survey."""
    from civic.codes import normalize_apartment

    assert normalize_apartment(" 05 ") == "5"
    assert normalize_apartment("5a") == normalize_apartment("5А") == "5А"
    resident = UserFactory()
    save_profile(resident, home_building=resident.home_building, apartment="012b")
    resident.refresh_from_db()
    assert resident.apartment == "12В"


def test_changing_the_apartment_ends_a_pending_claim(staff):
    resident = UserFactory(apartment="12")
    claim = residency_claim_request(user=resident)
    save_profile(resident, home_building=resident.home_building, apartment="13")
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.ENDED
    with pytest.raises(ResidencyError, match="already been decided"):
        residency_claim_decide(claim_id=claim.pk, staff=staff, approve=True, reason="ok")


def test_a_stale_profile_save_does_not_undo_a_verification(staff):
    """The profile form was loaded before the code was entered; saving it afterwards keeps
    the verification (the service re-reads the resident under a lock)."""
    building = BuildingFactory()
    codes = codes_for(building, staff)
    stale = UserFactory(home_building=building, apartment="1")
    residency_verify_code(user=User.objects.get(pk=stale.pk), code=codes["1"])
    save_profile(
        stale, home_building=building, apartment="1", birth_year=1990, gender="male", language="en"
    )
    stale.refresh_from_db()
    assert (stale.verified_building, stale.verified_apartment) == (building, "1")
