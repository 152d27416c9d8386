"""The audit log: who on the staff did what to which record, with the values before and
after, and when (docs/decisions/0011). Append-only: the database refuses UPDATE and DELETE
of its rows (migration 0002), and the admin only shows them."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AuditAction(models.TextChoices):
    ADD = "add", pgettext_lazy("audit action", "added")
    CHANGE = "change", pgettext_lazy("audit action", "changed")
    DELETE = "delete", pgettext_lazy("audit action", "deleted")
    ADMIN_ACTION = "admin_action", pgettext_lazy("audit action", "admin action")
    DOWNLOAD = "download", pgettext_lazy("audit action", "downloaded")


class AuditEntry(models.Model):
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    # No database constraint: a staff account may later be erased, and the entry must stay
    # as it was (its row can never be updated); actor_label keeps who it was.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
        verbose_name=_("staff member"),
    )
    actor_label = models.CharField(_("staff member (at the time)"), max_length=254)
    action = models.CharField(_("action"), max_length=20, choices=AuditAction.choices)
    detail = models.CharField(
        _("detail"),
        max_length=300,
        blank=True,
        help_text=_("The admin action taken, the file downloaded, or the record changed with."),
    )
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("kind of record")
    )
    object_id = models.CharField(_("record id"), max_length=64)
    object_repr = models.CharField(_("record"), max_length=200)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="audit_entry_object"),
            models.Index(fields=["actor", "created_at"], name="audit_entry_actor"),
        ]
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.object_repr}"
