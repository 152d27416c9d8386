"""Codes people read and type: receipts, residency codes, apartment numbers."""

import re
import secrets

# No 0/O, 1/I: read aloud, typed from paper.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def random_code(length: int) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def normalize_code(text: str) -> str:
    """Case, spaces, dashes and anything outside the alphabet do not matter."""
    return "".join(ch for ch in text.upper() if ch in CODE_ALPHABET)


LATIN_LOOKALIKES = str.maketrans("ABCEHKMOPTXY", "АВСЕНКМОРТХУ")
APARTMENT = re.compile(r"^0*(\d+)\s*([A-Za-zА-Яа-яЁё]?)$")


def normalize_apartment(text: str) -> str:
    """One spelling per apartment, so "05", "5" and "5a"/"5А" are not told apart by mistake:
    no leading zeros, the letter upper-case and Cyrillic (Latin look-alikes mapped)."""
    match = APARTMENT.match(text.strip())
    if match is None:
        return text.strip()
    number, letter = match.groups()
    return number + letter.upper().translate(LATIN_LOOKALIKES)


def apartment_number(apartment: str) -> int:
    """The numeric part, for ordering and range checks (0 when there is none)."""
    digits = "".join(ch for ch in apartment if ch.isdigit())
    return int(digits) if digits else 0
