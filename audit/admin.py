"""The audit log in the admin: filter by who, which kind of record, what was done and when;
each entry shows the values before and after. Nothing here can be added, changed or deleted
(and the database refuses it anyway)."""

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from audit.models import AuditAction, AuditEntry
from audit.services import HIDDEN
from civic.admin_base import ReadOnlyAdmin


def _shown(value) -> str:
    if value == HIDDEN:
        return str(_("(changed; the value is not kept)"))
    if value is None or value == "":
        return "—"
    return str(value)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor_label", "action", "content_type", "record", "summary"]
    list_filter = [
        ("actor", admin.RelatedOnlyFieldListFilter),
        ("content_type", admin.RelatedOnlyFieldListFilter),
        "action",
        "created_at",
    ]
    list_select_related = ["content_type"]
    search_fields = ["actor_label", "object_repr", "=object_id", "detail"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = [
        "created_at",
        "actor_label",
        "action",
        "detail",
        "content_type",
        "record",
        "changes",
    ]
    readonly_fields = fields

    @admin.display(description=_("record"), ordering="object_repr")
    def record(self, entry: AuditEntry) -> str:
        """A link to the record's admin page while it exists and has one."""
        try:
            url = reverse(
                f"admin:{entry.content_type.app_label}_{entry.content_type.model}_change",
                args=[entry.object_id],
            )
        except NoReverseMatch:
            return entry.object_repr
        return format_html('<a href="{}">{}</a>', url, entry.object_repr)

    @admin.display(description=_("fields"))
    def summary(self, entry: AuditEntry) -> str:
        """The fields changed (or, for an action, what was done)."""
        parts = [entry.detail] if entry.detail else []
        if entry.action in (AuditAction.CHANGE, AuditAction.ADMIN_ACTION):
            parts += sorted({*entry.before, *entry.after})
        return "; ".join(parts) or "—"

    @admin.display(description=_("before and after"))
    def changes(self, entry: AuditEntry) -> str:
        names = sorted({*entry.before, *entry.after})
        if not names:
            return "—"
        rows = format_html_join(
            "",
            "<tr><th scope='row'>{}</th><td>{}</td><td>{}</td></tr>",
            (
                (name, _shown(entry.before.get(name)), _shown(entry.after.get(name)))
                for name in names
            ),
        )
        return format_html(
            "<table><thead><tr><th scope='col'>{}</th><th scope='col'>{}</th>"
            "<th scope='col'>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("field"),
            _("before"),
            _("after"),
            rows,
        )
