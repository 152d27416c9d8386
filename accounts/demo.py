"""Demo residency for `make demo`: verified residents in three buildings, made through the
real services. In one building residents type the codes of a generated batch (staff find
the batch, with its downloads, in the admin); elsewhere — and for a second resident of an
apartment whose code is used — city staff approve their claims. One claim is left for the
staff to decide. Loading twice changes nothing."""

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from accounts.models import Notification, ResidencyCode, ResidencyCodeBatch, User
from accounts.services import (
    residency_claim_decide,
    residency_claim_request,
    residency_codes_generate,
    residency_verify_code,
)
from civic.demo import DEMO_PASSWORD
from civic.models import Building

DEMO_DOMAIN = "@demo.civic.local"
STAFF_EMAIL = "admin@demo.civic.local"
# The printed demo login who is a verified resident of a building with surveys.
VERIFIED_LOGIN = "resident.cao@demo.civic.local"
CLAIM_NOTE = "Живу в этой квартире, могу показать договор найма."
CLAIM_REASON = "Проверено по договору найма."
PENDING_NOTE = "Переехал в прошлом месяце, письмо с кодом ещё не пришло."


@dataclass(frozen=True)
class DemoNeighbour:
    first_name: str
    last_name: str
    email: str
    apartment: str
    birth_year: int
    gender: str
    pending: bool = False  # asks the staff and waits, instead of being verified


@dataclass(frozen=True)
class DemoBuilding:
    street: str
    house: str
    korpus: str
    neighbours: tuple[DemoNeighbour, ...]
    codes: bool = False  # a code batch is generated and its residents type their codes


def _neighbour(
    name: str, login: str, apartment: str, born: int, gender: str, *, pending: bool = False
) -> DemoNeighbour:
    first_name, last_name = name.split()
    email = f"{login}{DEMO_DOMAIN}"
    return DemoNeighbour(first_name, last_name, email, apartment, born, gender, pending)


# The residents of residents.csv in these buildings are verified too; the neighbours fill
# the buildings (residents.csv has at most three residents per building).
DEMO_BUILDINGS = (
    DemoBuilding(  # Хамовники, 49 apartments; resident.cao lives in apartment 6
        "Комсомольский проспект",
        "4/14",
        "",
        codes=True,
        neighbours=(
            _neighbour("Ольга Смирнова", "olga.smirnova", "6", 1979, "female"),
            _neighbour("Андрей Волков", "andrey.volkov", "12", 1985, "male"),
            _neighbour("Наталья Волкова", "natalya.volkova", "12", 1987, "female"),
            _neighbour("Сергей Морозов", "sergey.morozov", "18", 1962, "male"),
            _neighbour("Екатерина Лебедева", "ekaterina.lebedeva", "23", 1994, "female"),
            _neighbour("Павел Соколов", "pavel.sokolov", "31", 1971, "male"),
            _neighbour("Ирина Козлова", "irina.kozlova", "37", 1958, "female"),
            _neighbour("Михаил Новиков", "mikhail.novikov", "44", 2001, "undisclosed"),
            _neighbour("Анна Павлова", "anna.pavlova", "49", 1990, "female"),
        ),
    ),
    DemoBuilding(  # Якиманка, 22 apartments
        "улица Большая Полянка",
        "10",
        "",
        neighbours=(
            _neighbour("Дмитрий Фёдоров", "dmitriy.fedorov", "2", 1969, "male"),
            _neighbour("Светлана Фёдорова", "svetlana.fedorova", "2", 1972, "female"),
            _neighbour("Алексей Михайлов", "aleksey.mikhaylov", "5", 1983, "male"),
            _neighbour("Татьяна Егорова", "tatyana.egorova", "9", 1955, "female"),
            _neighbour("Юлия Орлова", "yuliya.orlova", "21", 1998, "female"),
        ),
    ),
    DemoBuilding(  # Тёплый Стан, 52 apartments
        "улица Генерала Тюленева",
        "2",
        "",
        neighbours=(
            _neighbour("Николай Зайцев", "nikolay.zaytsev", "3", 1960, "male"),
            _neighbour("Людмила Белова", "lyudmila.belova", "8", 1949, "female"),
            _neighbour("Виктор Фомин", "viktor.fomin", "15", 1986, "male"),
            _neighbour("Роман Киселёв", "roman.kiselev", "27", 1992, "male"),
            _neighbour("Марина Васильева", "marina.vasileva", "40", 1980, "female"),
            _neighbour("Игорь Медведев", "igor.medvedev", "51", 1977, "male", pending=True),
        ),
    ),
)


def demo_residency_load() -> int:
    """Create the missing neighbours and verify the demo residents of the demo buildings who
    have never claimed residency; return how many were verified now."""
    staff = User.objects.get(email=STAFF_EMAIL)
    verified = 0
    for demo in DEMO_BUILDINGS:
        building = Building.objects.get(street=demo.street, house=demo.house, korpus=demo.korpus)
        _neighbours_ensure(demo, building)
        if demo.codes and not ResidencyCodeBatch.objects.filter(codes__building=building).exists():
            residency_codes_generate(buildings=[building], label=building.address, created_by=staff)
        pending = {neighbour.email for neighbour in demo.neighbours if neighbour.pending}
        never_claimed = (
            User.objects.filter(
                home_building=building, email__endswith=DEMO_DOMAIN, residency_claims__isnull=True
            )
            .exclude(apartment="")
            .order_by("pk")
        )
        for resident in never_claimed:
            if resident.email in pending:
                residency_claim_request(user=resident, note=PENDING_NOTE)
            else:
                _verify(resident, building, staff)
                verified += 1
    return verified


def _neighbours_ensure(demo: DemoBuilding, building: Building) -> None:
    existing = set(
        User.objects.filter(email__in=[n.email for n in demo.neighbours]).values_list(
            "email", flat=True
        )
    )
    missing = [neighbour for neighbour in demo.neighbours if neighbour.email not in existing]
    if not missing:
        return
    password = make_password(DEMO_PASSWORD)
    neighbours = [
        User(
            email=neighbour.email,
            password=password,
            first_name=neighbour.first_name,
            last_name=neighbour.last_name,
            home_building=building,
            apartment=neighbour.apartment,
            birth_year=neighbour.birth_year,
            gender=neighbour.gender,
            language="ru",
        )
        for neighbour in missing
    ]
    with transaction.atomic():
        User.objects.bulk_create(neighbours)
        EmailAddress.objects.bulk_create(
            [
                EmailAddress(user=user, email=user.email, verified=True, primary=True)
                for user in neighbours
            ],
            ignore_conflicts=True,
        )


def _verify(resident: User, building: Building, staff: User) -> None:
    """With the unused code of the resident's apartment if there is one (as from a letter),
    else by a claim that the staff approve. Its notification counts as emailed long ago."""
    code = (
        ResidencyCode.objects.filter(
            building=building,
            apartment=resident.apartment,
            used_at__isnull=True,
            batch__expires_at__gt=timezone.now(),
        )
        .values_list("code", flat=True)
        .first()
    )
    if code:
        residency_verify_code(user=resident, code=code)
        return
    with transaction.atomic():
        claim = residency_claim_request(user=resident, note=CLAIM_NOTE)
        residency_claim_decide(claim_id=claim.pk, staff=staff, approve=True, reason=CLAIM_REASON)
        Notification.objects.filter(key=f"residency_claim:{claim.pk}").update(
            emailed_at=timezone.now()
        )
