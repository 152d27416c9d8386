from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from civic.services import CITY_CSV_COLUMNS, CityImportError, city_import, parse_city_csv


class Command(BaseCommand):
    help = (
        "Load okrugs, districts and buildings from a UTF-8 CSV with the columns "
        f"{','.join(CITY_CSV_COLUMNS)}. Re-running with the same file changes nothing. "
        "Rows that break a rule are skipped and listed with their line numbers; "
        "the command then exits with status 1."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="path of the CSV file")

    def handle(self, *args, file: Path, **options):
        try:
            with file.open(encoding="utf-8-sig", newline="") as csv_file:
                lines = tqdm(csv_file, desc="reading", unit=" rows", disable=None, leave=False)
                rows, rejected = parse_city_csv(lines)
        except FileNotFoundError as error:
            raise CommandError(f"No such file: {file}") from error
        except UnicodeDecodeError as error:
            raise CommandError(f"{file} is not UTF-8 text: {error}") from error
        except CityImportError as error:
            raise CommandError(str(error)) from error

        report = city_import(rows=rows)
        rejected = sorted([*rejected, *report.rejected], key=lambda row: row.line)
        self.stdout.write(
            f"okrugs created: {report.okrugs_created}, "
            f"districts created: {report.districts_created}, "
            f"buildings created: {report.buildings_created}, updated: {report.buildings_updated}, "
            f"unchanged: {report.buildings_unchanged}, rejected rows: {len(rejected)}"
        )
        for row in rejected:
            self.stderr.write(f"line {row.line}: {row.reason}")
        if rejected:
            raise CommandError(f"{len(rejected)} rows rejected; the other rows were loaded.")
