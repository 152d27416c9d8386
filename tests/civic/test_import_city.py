from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from civic.models import Building, District, Okrug
from tests.civic.factories import DistrictFactory, OkrugFactory

HEADER = "okrug,district,street,house,korpus,postcode,apartments\n"
GOOD_ROWS = (
    "Центральный административный округ,Арбат,улица Арбат,10,,119002,48\n"
    "Центральный административный округ,Арбат,улица Арбат,12,2,119002,64\n"
    'Центральный административный округ,Тверской,"Тверская улица, дублёр",7,,125009,120\n'
    "Северный административный округ,Аэропорт,Ленинградский проспект,62,,125315,300\n"
)


def write_csv(tmp_path: Path, text: str, name: str = "city.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def import_city(path: Path) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_city", str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_good_rows_create_the_map(tmp_path):
    """Okrugs, districts and buildings are created with their addresses and apartments."""
    out, err = import_city(write_csv(tmp_path, HEADER + GOOD_ROWS))
    assert "buildings created: 4" in out and err == ""
    assert Okrug.objects.count() == 2
    assert set(District.objects.values_list("name", "okrug__name")) == {
        ("Арбат", "Центральный административный округ"),
        ("Тверской", "Центральный административный округ"),
        ("Аэропорт", "Северный административный округ"),
    }
    building = Building.objects.get(street="улица Арбат", house="12")
    assert (building.korpus, building.postcode, building.apartments) == ("2", "119002", 64)
    assert Building.objects.get(house="7").street == "Тверская улица, дублёр"


@pytest.mark.django_db
def test_reimport_changes_nothing(tmp_path):
    """Running the same file twice leaves every row as it was."""
    path = write_csv(tmp_path, HEADER + GOOD_ROWS)
    import_city(path)
    before = list(Building.objects.order_by("pk").values())
    out, _ = import_city(path)
    assert (
        "okrugs created: 0, districts created: 0, buildings created: 0, updated: 0, unchanged: 4"
        in out
    )
    assert list(Building.objects.order_by("pk").values()) == before


@pytest.mark.django_db
def test_changed_rows_update_the_building(tmp_path):
    """A second file with new apartment counts updates the same building rows, not duplicates."""
    import_city(write_csv(tmp_path, HEADER + GOOD_ROWS))
    pk = Building.objects.get(house="10").pk
    out, _ = import_city(
        write_csv(tmp_path, HEADER + GOOD_ROWS.replace(",119002,48", ",119002,50"))
    )
    assert "updated: 1, unchanged: 3" in out
    assert Building.objects.get(pk=pk).apartments == 50
    assert Building.objects.count() == 4


@pytest.mark.django_db
def test_bad_rows_are_reported_with_line_numbers_and_good_rows_load(tmp_path):
    """Each bad row is skipped and named by its line (the header is line 1) and reason."""
    text = (
        HEADER
        + GOOD_ROWS
        + (
            "Северный административный округ,Аэропорт,,5,,125315,10\n"  # 6: no street
            "Северный административный округ,Аэропорт,улица Черняховского,5,,12531,10\n"  # 7
            "Северный административный округ,Аэропорт,улица Черняховского,6,,125315,много\n"  # 8
            "Северный административный округ,Аэропорт,улица Черняховского,7,,125315,0\n"  # 9
            "Центральный административный округ,Арбат,улица Арбат,10,,119002,48\n"  # 10: duplicate
            "Северный административный округ,Арбат,улица Арбат,14,,119002,48\n"  # 11: other okrug
            "Северный административный округ,Аэропорт,улица Усиевича,1\n"  # 12: short row
            "Северный административный округ,Аэропорт,улица Усиевича,3,,125319,90\n"  # 13: good
        )
    )
    with pytest.raises(CommandError, match="7 rows rejected"):
        out, err = StringIO(), StringIO()
        call_command("import_city", str(write_csv(tmp_path, text)), stdout=out, stderr=err)
    assert err.getvalue().splitlines() == [
        "line 6: street is empty",
        "line 7: postcode must be 6 digits, got '12531'",
        "line 8: apartments must be a whole number from 1 to 10000",
        "line 9: apartments must be a whole number from 1 to 10000",
        "line 10: duplicate address, first seen on line 2",
        "line 11: district 'Арбат' belongs to 'Центральный административный округ' on line 2",
        "line 12: expected 7 columns",
    ]
    assert Building.objects.count() == 5
    assert Building.objects.filter(street="улица Усиевича", house="3").exists()


@pytest.mark.django_db
def test_district_placed_in_another_okrug_by_the_database_is_rejected(tmp_path):
    """A district the map already has under another okrug is not moved silently."""
    DistrictFactory(name="Арбат", okrug=OkrugFactory(name="Западный административный округ"))
    with pytest.raises(CommandError, match="2 rows rejected"):
        err = StringIO()
        call_command(
            "import_city",
            str(write_csv(tmp_path, HEADER + GOOD_ROWS)),
            stdout=StringIO(),
            stderr=err,
        )
    assert err.getvalue().splitlines() == [
        "line 2: district 'Арбат' is in another okrug in the database",
        "line 3: district 'Арбат' is in another okrug in the database",
    ]
    assert District.objects.get(name="Арбат").okrug.name == "Западный административный округ"
    assert Building.objects.count() == 2


@pytest.mark.django_db
def test_excel_bom_and_column_order_are_accepted(tmp_path):
    """A UTF-8 file saved by Excel (with a BOM) and columns in another order loads."""
    text = (
        "\ufeffdistrict,okrug,street,house,korpus,postcode,apartments\n"
        "Арбат,ЦАО,улица Арбат,1,,119002,9\n"
    )
    import_city(write_csv(tmp_path, text))
    assert Building.objects.get().district.okrug.name == "ЦАО"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "The file is empty"),
        ("okrug,district,street\nА,Б,В\n", "Missing columns: house, korpus, postcode, apartments"),
    ],
)
@pytest.mark.django_db
def test_wrong_header_rejects_the_whole_file(tmp_path, content, message):
    with pytest.raises(CommandError, match=message):
        import_city(write_csv(tmp_path, content))
    assert not Building.objects.exists()


@pytest.mark.django_db
def test_missing_or_binary_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        import_city(tmp_path / "nope.csv")
    binary = tmp_path / "city.xlsx"
    binary.write_bytes(b"PK\x03\x04\xff\xfe\x00")
    with pytest.raises(CommandError, match="is not UTF-8"):
        import_city(binary)
