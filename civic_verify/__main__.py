"""``python -m civic_verify DIR [--key HEX]``: check a poll's published files; prints OK
or exactly what does not match, and exits 0 or 1."""

import argparse
import sys
from pathlib import Path

from civic_verify.verify import verify_directory


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m civic_verify", description=__doc__)
    parser.add_argument("directory", type=Path, help="ballots.json, tree_heads.json, results.json")
    parser.add_argument("--key", help="the city's public key (hex), as published on its site")
    args = parser.parse_args(argv)
    report = verify_directory(args.directory, public_key_hex=args.key)
    for line in report.checked:
        print(f"  checked: {line}")
    for line in report.problems:
        print(f"  MISMATCH: {line}")
    print("OK" if report.ok else f"FAILED: {len(report.problems)} problem(s)")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
