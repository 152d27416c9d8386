"""Writing the audit log. The admin records through civic.admin_base.AuditedAdmin; staff
actions outside the admin (exports, downloads) call ``audit_record`` themselves.

Values are kept as JSON, from the database row (what services wrote with ``update()`` is
seen too). Secrets and residents' personal data are never kept: for those fields the log
records that they changed, not their values, so erasing an account never needs the log to
change (it cannot).
"""

import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.fields.files import FieldFile
from django.utils import translation

from accounts.models import User
from audit.models import AuditAction, AuditEntry

HIDDEN = "<hidden>"  # shown in the admin as "(changed, value not kept)"
# Fields whose values the log never keeps, by model ("app_label.model_name"). Any field
# named "password" is hidden everywhere.
HIDDEN_FIELDS: dict[str, frozenset[str]] = {
    "accounts.user": frozenset(
        {
            "email",
            "first_name",
            "last_name",
            "birth_year",
            "gender",
            "home_building",
            "apartment",
            "verified_building",
            "verified_apartment",
        }
    ),
    "accounts.residencyclaim": frozenset({"apartment", "note"}),
    "accounts.residencycode": frozenset({"apartment", "code"}),
    "accounts.signuprecord": frozenset({"ip", "subnet"}),
    "account.emailaddress": frozenset({"email"}),
    "mfa.authenticator": frozenset({"data"}),
    "usersessions.usersession": frozenset({"ip", "user_agent", "data", "session_key"}),
    "sessions.session": frozenset({"session_key", "session_data"}),
}
# Records named by their kind and number, not by str() (which shows an email address).
NAMED_BY_NUMBER = frozenset(
    {"accounts.user", "accounts.residencyclaim", "account.emailaddress", "accounts.signuprecord"}
)

Snapshot = dict[str, Any]


def _json_value(value: Any) -> Any:
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    try:
        return json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    except TypeError:
        return str(value)


def audit_snapshot(obj: models.Model) -> Snapshot:
    """The record's concrete fields and many-to-many ids as JSON values (real values: hiding
    happens when the entry is written, so a change of a hidden field is still seen)."""
    data = {
        field.name: _json_value(field.value_from_object(obj)) for field in obj._meta.concrete_fields
    }
    for field in obj._meta.many_to_many:
        data[field.name] = sorted(related.pk for related in getattr(obj, field.name).all())
    return data


def audit_rows(model: type[models.Model], pks: Iterable[Any]) -> dict[Any, models.Model]:
    """These rows as the database has them now (many-to-many ids prefetched), by key."""
    pks = list(pks)
    if not pks:
        return {}
    rows = model._base_manager.filter(pk__in=pks).prefetch_related(
        *(field.name for field in model._meta.many_to_many)
    )
    return {row.pk: row for row in rows}


def audit_label(obj: models.Model) -> str:
    label = obj._meta.label_lower
    if label in NAMED_BY_NUMBER or obj._meta.concrete_model._meta.label_lower in NAMED_BY_NUMBER:
        return f"{obj._meta.verbose_name} #{obj.pk}"
    return str(obj)[:200]


def _hide(label: str, data: Snapshot) -> Snapshot:
    hidden = HIDDEN_FIELDS.get(label, frozenset())
    return {
        name: HIDDEN
        if (name in hidden or name == "password") and value not in ("", None)
        else value
        for name, value in data.items()
    }


def audit_diff(before: Snapshot, after: Snapshot) -> tuple[Snapshot, Snapshot]:
    """Only the fields that differ, before and after."""
    changed = [name for name in {**before, **after} if before.get(name) != after.get(name)]
    return (
        {name: before[name] for name in changed if name in before},
        {name: after[name] for name in changed if name in after},
    )


def audit_record_many(
    *,
    actor: User | None,
    action: str,
    changes: Sequence[tuple[models.Model, Snapshot, Snapshot]],
    detail: str = "",
) -> list[AuditEntry]:
    """One entry per (record, before, after), written in one INSERT inside the caller's
    transaction. ``before`` and ``after`` are what to keep (usually only what changed).
    Names and details are written in the site's language, whatever the actor's."""
    with translation.override(settings.LANGUAGE_CODE):
        entries = [
            _entry(actor, action, obj, before, after, str(detail)) for obj, before, after in changes
        ]
    return AuditEntry.objects.bulk_create(entries)


def _entry(actor, action, obj, before, after, detail) -> AuditEntry:
    label = obj._meta.label_lower
    return AuditEntry(
        actor=actor,
        actor_label=actor.email if actor is not None else "",
        action=action,
        detail=detail[:300],
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=str(obj.pk),
        object_repr=audit_label(obj),
        before=_hide(label, before),
        after=_hide(label, after),
    )


def audit_record(
    *,
    actor: User | None,
    action: AuditAction,
    obj: models.Model,
    before: Snapshot | None = None,
    after: Snapshot | None = None,
    detail: str = "",
) -> AuditEntry:
    """One entry: ``actor`` did ``action`` to ``obj`` (e.g. downloaded a poll's export)."""
    (entry,) = audit_record_many(
        actor=actor, action=action, changes=[(obj, before or {}, after or {})], detail=detail
    )
    return entry
