"""Residency codes on paper: a CSV list for the post office and a PDF with one letter per
apartment, in the city's language. fpdf2 draws the PDF with the bundled DejaVu Sans, which
has Cyrillic (accounts/fonts, under its own free licence)."""

import csv
import io
from pathlib import Path

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from fpdf import FPDF

from accounts.models import ResidencyCode, ResidencyCodeBatch

FONTS = Path(__file__).resolve().parent / "fonts"
CSV_COLUMNS = ["postcode", "address", "apartment", "code", "expires"]


def batch_codes(batch: ResidencyCodeBatch):
    return (
        ResidencyCode.objects.filter(batch=batch)
        .select_related("building")
        .order_by("building__street", "building__house", "building__korpus", "pk")
    )


def codes_csv(batch: ResidencyCodeBatch) -> bytes:
    """One row per apartment, with a BOM so that Excel reads the Cyrillic right."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    expires = timezone.localdate(batch.expires_at).isoformat()
    for code in batch_codes(batch).iterator(chunk_size=2000):
        building = code.building
        writer.writerow([building.postcode, building.address, code.apartment, code.code, expires])
    return ("\ufeff" + out.getvalue()).encode()


def letters_pdf(batch: ResidencyCodeBatch) -> bytes:
    """One A5 letter per apartment: the address, the code, how to use it and until when."""
    pdf = FPDF(format=(148, 210))  # A5, in millimetres
    pdf.set_auto_page_break(auto=False)
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    expires = timezone.localdate(batch.expires_at).strftime("%d.%m.%Y")
    with translation.override(settings.LANGUAGE_CODE):
        for code in batch_codes(batch).iterator(chunk_size=2000):
            _letter(pdf, code, expires)
    return bytes(pdf.output())


def _letter(pdf: FPDF, code: ResidencyCode, expires: str) -> None:
    building = code.building
    pdf.add_page()
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(
        0,
        5,
        f"{building.postcode}\n{building.address}\n"
        + _("apt. %(apartment)s") % {"apartment": code.apartment},
    )
    pdf.ln(12)
    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(0, 7, _("Confirm that you live here"))
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(
        0,
        5,
        _(
            "Residents of this apartment can join the surveys of their building on Civic. "
            "Sign in at %(site)s, open “My building” and enter this code:"
        )
        % {"site": settings.SITE_URL},
    )
    pdf.ln(6)
    pdf.set_font("DejaVu", "B", 22)
    pdf.cell(0, 12, " ".join([code.code[:5], code.code[5:]]), align="C")
    pdf.ln(16)
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(
        0,
        5,
        _(
            "The code works once, for this apartment only, until %(date)s. Do not share it: "
            "whoever enters it becomes a verified resident of this apartment."
        )
        % {"date": expires},
    )
