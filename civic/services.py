"""Writes to the city map: the CSV import of okrugs, districts and buildings."""

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction

from civic.models import Building, District, Okrug

CITY_CSV_COLUMNS = ("okrug", "district", "street", "house", "korpus", "postcode", "apartments")
MAX_APARTMENTS = 10_000
BATCH_SIZE = 5_000
FIELD_LIMITS = {"okrug": 120, "district": 120, "street": 200, "house": 20, "korpus": 20}
POSTCODE = re.compile(r"^\d{6}$")

AddressKey = tuple[str, str, str]


class CityImportError(Exception):
    """The file as a whole cannot be imported (for example, its header is wrong)."""


@dataclass(frozen=True)
class BuildingRow:
    line: int
    okrug: str
    district: str
    street: str
    house: str
    korpus: str
    postcode: str
    apartments: int

    @property
    def address_key(self) -> AddressKey:
        return (self.street, self.house, self.korpus)


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reason: str


@dataclass
class CityImportReport:
    okrugs_created: int = 0
    districts_created: int = 0
    buildings_created: int = 0
    buildings_updated: int = 0
    buildings_unchanged: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)


def parse_city_csv(lines: Iterable[str]) -> tuple[list[BuildingRow], list[RejectedRow]]:
    """Read and validate the CSV; rows that break a rule are returned as rejected, with reasons.

    Line numbers count the header as line 1, as a spreadsheet does.
    """
    reader = csv.DictReader(lines)
    _check_header(reader.fieldnames)
    rows: list[BuildingRow] = []
    rejected: list[RejectedRow] = []
    first_line_of_address: dict[AddressKey, int] = {}
    okrug_of_district: dict[str, tuple[str, int]] = {}
    for record in reader:
        line = reader.line_num
        try:
            row = _building_row(record, line=line)
            _check_consistency(row, first_line_of_address, okrug_of_district)
        except ValueError as error:
            rejected.append(RejectedRow(line=line, reason=str(error)))
            continue
        rows.append(row)
    return rows, rejected


def _check_header(fieldnames: list[str] | None) -> None:
    if not fieldnames:
        raise CityImportError("The file is empty: expected a header row.")
    names = [name.strip().lstrip("\ufeff") for name in fieldnames]
    missing = [column for column in CITY_CSV_COLUMNS if column not in names]
    if missing:
        raise CityImportError(
            f"Missing columns: {', '.join(missing)}. Expected header: {','.join(CITY_CSV_COLUMNS)}"
        )
    fieldnames[:] = names


def _building_row(record: dict, *, line: int) -> BuildingRow:
    if None in record or any(record[column] is None for column in CITY_CSV_COLUMNS):
        raise ValueError(f"expected {len(CITY_CSV_COLUMNS)} columns")
    values = {column: " ".join(record[column].split()) for column in CITY_CSV_COLUMNS}
    for column in ("okrug", "district", "street", "house", "postcode", "apartments"):
        if not values[column]:
            raise ValueError(f"{column} is empty")
    for column, limit in FIELD_LIMITS.items():
        if len(values[column]) > limit:
            raise ValueError(f"{column} is longer than {limit} characters")
    if not POSTCODE.match(values["postcode"]):
        raise ValueError(f"postcode must be 6 digits, got {values['postcode']!r}")
    apartments = values.pop("apartments")
    if not apartments.isdigit() or not 1 <= int(apartments) <= MAX_APARTMENTS:
        raise ValueError(f"apartments must be a whole number from 1 to {MAX_APARTMENTS}")
    return BuildingRow(line=line, apartments=int(apartments), **values)


def _check_consistency(
    row: BuildingRow,
    first_line_of_address: dict[AddressKey, int],
    okrug_of_district: dict[str, tuple[str, int]],
) -> None:
    if row.address_key in first_line_of_address:
        raise ValueError(
            f"duplicate address, first seen on line {first_line_of_address[row.address_key]}"
        )
    okrug, seen_on = okrug_of_district.setdefault(row.district, (row.okrug, row.line))
    if okrug != row.okrug:
        raise ValueError(f"district {row.district!r} belongs to {okrug!r} on line {seen_on}")
    first_line_of_address[row.address_key] = row.line


def city_import(*, rows: list[BuildingRow]) -> CityImportReport:
    """Create or update the okrugs, districts and buildings of ``rows`` in one transaction.

    Idempotent: importing the same rows again creates and changes nothing. A district
    that the database already places in another okrug rejects its rows.
    """
    report = CityImportReport()
    with transaction.atomic():
        okrug_ids = _ensure_okrugs({row.okrug for row in rows}, report)
        district_ids = _ensure_districts(rows, okrug_ids, report)
        accepted = [row for row in rows if row.district in district_ids]
        _upsert_buildings(accepted, district_ids, report)
    return report


def _ensure_okrugs(names: set[str], report: CityImportReport) -> dict[str, int]:
    existing = dict(Okrug.objects.filter(name__in=names).values_list("name", "id"))
    missing = [Okrug(name=name) for name in sorted(names - existing.keys())]
    Okrug.objects.bulk_create(missing)
    report.okrugs_created = len(missing)
    return existing | {okrug.name: okrug.pk for okrug in missing}


def _ensure_districts(
    rows: list[BuildingRow], okrug_ids: dict[str, int], report: CityImportReport
) -> dict[str, int]:
    """Ids of the districts the rows may use; rows of a district in another okrug are rejected."""
    wanted = {row.district: okrug_ids[row.okrug] for row in rows}
    existing = {
        name: (district_id, okrug_id)
        for name, district_id, okrug_id in District.objects.filter(
            name__in=wanted.keys()
        ).values_list("name", "id", "okrug_id")
    }
    missing = [
        District(name=name, okrug_id=okrug_id)
        for name, okrug_id in sorted(wanted.items())
        if name not in existing
    ]
    District.objects.bulk_create(missing)
    report.districts_created = len(missing)
    usable = {
        name: district_id
        for name, (district_id, okrug_id) in existing.items()
        if okrug_id == wanted[name]
    }
    usable |= {district.name: district.pk for district in missing}
    report.rejected.extend(
        RejectedRow(
            line=row.line, reason=f"district {row.district!r} is in another okrug in the database"
        )
        for row in rows
        if row.district not in usable
    )
    return usable


def _upsert_buildings(
    rows: list[BuildingRow], district_ids: dict[str, int], report: CityImportReport
) -> None:
    columns = ("street", "house", "korpus", "pk", "district_id", "postcode", "apartments")
    existing = {
        tuple(values[:3]): values[3:]
        for values in Building.objects.values_list(*columns).iterator(chunk_size=BATCH_SIZE)
    }
    to_create: list[Building] = []
    to_update: list[Building] = []
    for row in rows:
        building = Building(
            district_id=district_ids[row.district],
            street=row.street,
            house=row.house,
            korpus=row.korpus,
            postcode=row.postcode,
            apartments=row.apartments,
        )
        current = existing.get(row.address_key)
        if current is None:
            to_create.append(building)
        elif current[1:] != (building.district_id, building.postcode, building.apartments):
            building.pk = current[0]
            to_update.append(building)
    Building.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    Building.objects.bulk_update(
        to_update, ["district", "postcode", "apartments"], batch_size=BATCH_SIZE
    )
    report.buildings_created = len(to_create)
    report.buildings_updated = len(to_update)
    report.buildings_unchanged = len(rows) - len(to_create) - len(to_update)
