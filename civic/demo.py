"""The demo city: the map and residents shipped in demo/*.csv, and the demo staff logins."""

import csv
from dataclasses import dataclass
from pathlib import Path

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction

from accounts.groups import CITY_ADMINS, CITY_STAFF
from accounts.models import User
from civic.models import Building
from civic.services import CityImportReport, city_import, parse_city_csv

DEMO_DIR = Path(settings.BASE_DIR) / "demo"
CITY_CSV = DEMO_DIR / "city.csv"
RESIDENTS_CSV = DEMO_DIR / "residents.csv"
DEMO_PASSWORD = "civic-demo"  # noqa: S105 - a published demo password, never used in production
# Staff must use two-factor authentication (accounts/mfa.py): the demo staff share this
# authenticator-app secret, published in the README like the password, so a reviewer can
# add it to any authenticator app (or run `oathtool --totp -b <secret>`).
DEMO_TOTP_SECRET = "CIVICDEMOSTAFFTOTPSECRETKEY23456"  # noqa: S105 - published, demo only


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    place: str = ""


STAFF_LOGINS = (
    ("City admin", "admin@demo.civic.local", CITY_ADMINS),
    ("City staff (analyst)", "analyst@demo.civic.local", CITY_STAFF),
)


def demo_city_load() -> CityImportReport:
    with CITY_CSV.open(encoding="utf-8", newline="") as csv_file:
        rows, rejected = parse_city_csv(csv_file)
    if rejected:
        raise ValueError(f"{CITY_CSV} has invalid rows: {rejected[:3]}")
    return city_import(rows=rows)


def demo_residents_load() -> int:
    """Create the residents of residents.csv that do not exist yet; return how many were created."""
    with RESIDENTS_CSV.open(encoding="utf-8", newline="") as csv_file:
        records = list(csv.DictReader(csv_file))
    existing = set(
        User.objects.filter(email__in=[r["email"] for r in records]).values_list("email", flat=True)
    )
    buildings = {
        (street, house, korpus): pk
        for pk, street, house, korpus in Building.objects.values_list(
            "pk", "street", "house", "korpus"
        )
    }
    password = make_password(DEMO_PASSWORD)  # hashed once: hashing 600 times takes minutes
    residents = [
        User(
            email=record["email"],
            password=password,
            home_building_id=buildings[(record["street"], record["house"], record["korpus"])],
            apartment=record["apartment"],
            birth_year=int(record["birth_year"]),
            gender=record["gender"],
            language=record["language"],
        )
        for record in records
        if record["email"] not in existing
    ]
    with transaction.atomic():
        User.objects.bulk_create(residents)
        _verify_emails(residents)
    return len(residents)


def demo_staff_ensure() -> None:
    for _role, email, group_name in STAFF_LOGINS:
        user, created = User.objects.get_or_create(email=email, defaults={"is_staff": True})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            _verify_emails([user])
        user.groups.add(Group.objects.get(name=group_name))
        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, DEMO_TOTP_SECRET)


def demo_logins() -> list[DemoLogin]:
    """One resident per okrug (the first rows of residents.csv) and the staff logins."""
    residents = (
        User.objects.filter(email__startswith="resident.", email__endswith="@demo.civic.local")
        .select_related("home_building__district__okrug")
        .order_by("home_building__district__okrug__name")
    )
    return [
        *(DemoLogin(role=role, email=email) for role, email, _group in STAFF_LOGINS),
        *(
            DemoLogin(role="Resident", email=resident.email, place=_demo_place(resident))
            for resident in residents
        ),
    ]


def _demo_place(resident: User) -> str:
    building = resident.home_building
    place = f"{building.district.okrug}, {building.district}"
    if resident.verified_building_id:
        place += f"; verified resident of {building.address}, sees its building surveys"
    return place


def _verify_emails(users: list[User]) -> None:
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users],
        ignore_conflicts=True,
    )
