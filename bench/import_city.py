"""Benchmark: `import_city` on 100,000 buildings, against PostgreSQL's COPY of the same rows.

Run: .venv/bin/python bench/import_city.py [--buildings N]

Works on a scratch database (civic_bench) of the configured server, so it never
touches the demo data. Prints the import time (first run and idempotent re-run)
next to a bare `COPY` of the same rows into an unconstrained table, measured in
the same run on the same server, and the ratio between them.
"""

import argparse
import csv
import io
import tempfile
import time
from pathlib import Path

from scratch import scratch_database


def city_rows(count: int) -> list[list[str]]:
    """``count`` buildings over 12 okrugs and 120 districts, with unique addresses."""
    rows = []
    for number in range(count):
        okrug = number % 12
        district = number % 120
        street = number // 50
        rows.append(
            [
                f"Округ {okrug}",
                f"Район {district}",
                f"улица Бенчмарка {street}",
                str(number % 50 + 1),
                "",
                f"1{number % 100000:05d}",
                str(number % 400 + 8),
            ]
        )
    return rows


def write_csv(rows: list[list[str]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as csv_file:
        writer = csv.writer(csv_file)
        writer.writerow(
            ["okrug", "district", "street", "house", "korpus", "postcode", "apartments"]
        )
        writer.writerows(rows)


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def bare_copy(rows: list[list[str]]) -> float:
    """COPY of the same rows into a plain table: the floor any importer stands on."""
    from django.db import connection

    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_copy (okrug text, district text, street text, house text, "
            "korpus text, postcode text, apartments int)"
        )
        started = time.perf_counter()
        with cursor.copy("COPY bench_copy FROM STDIN (FORMAT csv)") as copy:
            copy.write(buffer.getvalue())
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_copy")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buildings", type=int, default=100_000)
    args = parser.parse_args()

    with scratch_database():
        from django.core.management import call_command

        from civic.models import Building

        rows = city_rows(args.buildings)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "city.csv"
            write_csv(rows, path)
            quiet = io.StringIO()
            first = timed(lambda: call_command("import_city", str(path), stdout=quiet))
            again = timed(lambda: call_command("import_city", str(path), stdout=quiet))
        if Building.objects.count() != args.buildings:
            raise SystemExit(
                f"expected {args.buildings} buildings, found {Building.objects.count()}"
            )
        copy = bare_copy(rows)

    print(f"buildings:                 {args.buildings:>10,}")
    print(f"import_city, first run:    {first:>10.2f} s   ({first / copy:.1f}x COPY)")
    print(f"import_city, re-run:       {again:>10.2f} s   ({again / copy:.1f}x COPY)")
    print(f"COPY into a bare table:    {copy:>10.2f} s   (reference)")


if __name__ == "__main__":
    main()
