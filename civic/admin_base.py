"""Admin base classes shared by the apps.

Every admin is audited (docs/decisions/0011): ``AuditedAdmin`` writes an audit log entry,
with the values before and after, for each record added, changed or deleted in the admin
(inline records too) and for each record an admin action ran on. Our admins inherit it
through ``AuditedModelAdmin`` and the classes below; the audit app wraps the admins of
libraries (groups, periodic tasks, allauth's) in it at start-up, and a test checks that no
registered admin escapes.

The values come from the database, read before and after the change, so what a service
wrote with ``update()`` is recorded as well as what the form saved.
"""

import functools
from contextlib import contextmanager
from types import SimpleNamespace

from django import forms
from django.contrib import admin
from django.db import router, transaction
from django.db.models import QuerySet
from django.template.response import TemplateResponse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from audit.models import AuditAction
from audit.services import Snapshot, audit_diff, audit_record_many, audit_rows, audit_snapshot


def _before(request) -> dict:
    """This request's snapshots of records as they were before it changed them."""
    return request.__dict__.setdefault("_audit_before", {})


def _snapshot_now(obj) -> Snapshot:
    row = audit_rows(type(obj), [obj.pk]).get(obj.pk)
    return audit_snapshot(row) if row is not None else {}


class AuditedAdmin:
    """Mixin for a ModelAdmin (put it first in the bases)."""

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and request.method == "POST":
            # The first read of a request is the state before its change.
            _before(request).setdefault((obj._meta.label_lower, obj.pk), _snapshot_now(obj))
        return obj

    def log_addition(self, request, obj, message):
        record_changes(request.user, AuditAction.ADD, [(obj, {}, _snapshot_now(obj))])
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        before = _before(request).get((obj._meta.label_lower, obj.pk), {})
        record_changes(request.user, AuditAction.CHANGE, [(obj, before, _snapshot_now(obj))])
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        """Called before the records are deleted (one from its page, or the bulk action)."""
        objects = list(queryset)
        if objects:
            rows = audit_rows(type(objects[0]), [obj.pk for obj in objects])
            record_changes(
                request.user,
                AuditAction.DELETE,
                [(row, audit_snapshot(row), {}) for row in rows.values()],
            )
        return super().log_deletions(request, queryset)

    def save_related(self, request, form, formsets, change):
        """Inline records (nested ones too) added, changed or deleted with the parent."""
        watched = [
            (formset, audit_rows(formset.model, [f.instance.pk for f in formset.initial_forms]))
            for formset in formsets
        ]
        super().save_related(request, form, formsets, change)
        detail = format_lazy("{}: {}", form.instance._meta.verbose_name, form.instance)
        for formset, before in watched:
            added = [f.instance.pk for f in formset.extra_forms if f.instance.pk is not None]
            after = audit_rows(formset.model, [*before, *added])
            for action, changes in (
                (AuditAction.ADD, [(after[pk], {}, audit_snapshot(after[pk])) for pk in added]),
                (
                    AuditAction.CHANGE,
                    [
                        (after[pk], audit_snapshot(row), audit_snapshot(after[pk]))
                        for pk, row in before.items()
                        if pk in after
                    ],
                ),
                (
                    AuditAction.DELETE,
                    [
                        (row, audit_snapshot(row), {})
                        for pk, row in before.items()
                        if pk not in after
                    ],
                ),
            ):
                record_changes(request.user, action, changes, detail=detail)

    def get_actions(self, request):
        """Admin actions, each recording the records it ran on and what it changed in them
        (deleting is recorded by log_deletions)."""
        return {
            name: (func if name == "delete_selected" else self._audited(func), name, description)
            for name, (func, name, description) in super().get_actions(request).items()
        }

    @staticmethod
    def _audited(func):
        @functools.wraps(func)
        def action(modeladmin, request, queryset):
            description = getattr(func, "short_description", func.__name__)
            with modeladmin.audit_changes(request, queryset, detail=description) as recording:
                response = func(modeladmin, request, queryset)
                # An action that answers with a page (a form asking for a reason first)
                # has done nothing yet: records it did not change are left out, and the
                # form's own view records what it does.
                recording.unchanged_too = not isinstance(response, TemplateResponse)
                return response

        return action

    @contextmanager
    def audit_changes(self, request, queryset: QuerySet, *, detail: str):
        """Record an admin action (or a custom admin page's operation) on these records:
        one entry per record, with what changed in it (possibly nothing, unless the caller
        sets ``unchanged_too = False`` on what this yields). The operation and its entries
        commit together, as the admin's own saves and deletions do."""
        model = queryset.model
        recording = SimpleNamespace(unchanged_too=True)
        with transaction.atomic(using=router.db_for_write(model)):
            before = audit_rows(model, queryset.values_list("pk", flat=True))
            yield recording
            after = audit_rows(model, before)
            record_changes(
                request.user,
                AuditAction.ADMIN_ACTION,
                [
                    (
                        after.get(pk, row),
                        audit_snapshot(row),
                        audit_snapshot(after[pk]) if pk in after else {},
                    )
                    for pk, row in before.items()
                ],
                detail=detail,
                unchanged_too=recording.unchanged_too,
            )


def record_changes(actor, action, changes, *, detail="", unchanged_too: bool = False):
    """Write the entries of (record, before, after), keeping only the fields that changed;
    records in which nothing changed are left out unless ``unchanged_too``."""
    kept = []
    for obj, before, after in changes:
        before, after = audit_diff(before, after)
        if before or after or unchanged_too:
            kept.append((obj, before, after))
    if kept:
        audit_record_many(actor=actor, action=action, changes=kept, detail=detail)


class AuditedModelAdmin(AuditedAdmin, admin.ModelAdmin):
    """The base of our admins."""


class NoAddOrDeleteAdmin(AuditedModelAdmin):
    """Rows another part of the platform creates (a service, an admin action) and that are
    kept for the record: staff may look and, where a subclass allows, decide — never add or
    delete."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(NoAddOrDeleteAdmin):
    """A log or a ledger: shown, never edited."""

    def has_change_permission(self, request, obj=None):
        return False


class HideWithReasonForm(forms.ModelForm):
    """Moderation of something residents wrote (a survey, a post): hide it with the reason
    its author reads, or show it again. Subclasses say what the reason is shown with
    (``reason_help``) and what to ask for when it is missing (``missing_reason``)."""

    hide = forms.BooleanField(label=_("Hidden from residents"), required=False)
    reason = forms.CharField(
        label=_("Reason for hiding"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    reason_help = ""
    missing_reason = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "reason" in self.fields:  # an admin may trim the form to what the user may do
            self.fields["reason"].help_text = self.reason_help
        self.initial.update(
            hide=self.instance.hidden_at is not None, reason=self.instance.hidden_reason
        )

    def clean(self):
        data = super().clean()
        if data.get("hide") and not data.get("reason", "").strip():
            self.add_error("reason", self.missing_reason)
        return data
