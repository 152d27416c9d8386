"""Small helpers for talking to PostgreSQL that more than one app needs."""

from django.db import IntegrityError


def violated_constraint(error: IntegrityError) -> str | None:
    """The name of the constraint PostgreSQL reports for ``error``, if any."""
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)
