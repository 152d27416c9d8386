from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.letters import codes_csv, letters_pdf
from accounts.models import ClaimStatus, CodeAttempt, ResidencyClaim, ResidencyCodeBatch, User
from accounts.services import ResidencyError, residency_claim_decide, residency_end
from audit.models import AuditAction
from audit.services import audit_record
from civic.admin_base import AuditedAdmin, NoAddOrDeleteAdmin, ReadOnlyAdmin


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "home_building", "birth_year", "gender", "is_staff", "is_active"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups", "gender", "language"]
    list_select_related = ["home_building"]
    search_fields = [
        "email",
        "first_name",
        "last_name",
        "home_building__street",
        "home_building__postcode",
        "home_building__district__name",
    ]
    autocomplete_fields = ["home_building"]
    readonly_fields = [
        "home_building_changed_at",
        "verified_building",
        "verified_apartment",
        "last_login",
        "date_joined",
    ]
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            _("Personal info"),
            {"fields": ("first_name", "last_name", "birth_year", "gender", "language")},
        ),
        (
            _("Home"),
            {
                "fields": (
                    "home_building",
                    "apartment",
                    "home_building_changed_at",
                    "verified_building",
                    "verified_apartment",
                )
            },
        ),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def save_model(self, request, obj, form, change):
        """A move made here ends the verification of the old home, as a move on the site does."""
        if change and {"home_building", "apartment"} & set(form.changed_data):
            residency_end(user=obj, now=timezone.now())
        super().save_model(request, obj, form, change)


# --- residency verification -------------------------------------------------------------------


class ClaimDecisionForm(forms.ModelForm):
    """Staff decide a pending claim: approve or decline, always with a reason the resident
    reads."""

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve: the resident lives there")), ("decline", _("Decline"))],
        widget=forms.RadioSelect,
    )
    decision_reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        help_text=_("Shown to the resident, e.g. “checked the lease” or “no such tenant”."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    class Meta:
        model = ResidencyClaim
        fields: list[str] = []


@admin.register(ResidencyClaim)
class ResidencyClaimAdmin(NoAddOrDeleteAdmin):
    list_display = ["user", "building", "apartment", "status", "method", "created_at"]
    list_filter = ["status", "method"]
    list_select_related = ["user", "building"]
    search_fields = ["user__email", "building__street", "building__postcode"]
    readonly_fields = [
        "user",
        "building",
        "apartment",
        "note",
        "status",
        "method",
        "reason",
        "decided_by",
        "created_at",
        "decided_at",
    ]
    show_full_result_count = False

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None and obj.status == ClaimStatus.PENDING:
            kwargs["form"] = ClaimDecisionForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if obj is not None and obj.status == ClaimStatus.PENDING:
            fields += ["decision", "decision_reason"]
        return fields

    def save_model(self, request, obj, form, change):
        if "decision" not in form.cleaned_data:
            return
        try:
            residency_claim_decide(
                claim_id=obj.pk,
                staff=request.user,
                approve=form.cleaned_data["decision"] == "approve",
                reason=form.cleaned_data["decision_reason"],
            )
        except ResidencyError as error:
            self.message_user(request, str(error), level=messages.ERROR)
            request.residency_refused = True

    def response_change(self, request, obj):
        """A refused decision goes back to the claim, without Django's "changed" message."""
        if getattr(request, "residency_refused", False):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)


LABEL = "accounts_residencycodebatch"  # the admin's URL names of the batches


@admin.register(ResidencyCodeBatch)
class ResidencyCodeBatchAdmin(NoAddOrDeleteAdmin):
    """Batches are made by the "Generate residency codes" action on buildings and districts
    (so every code is random and bound to an apartment); here staff download them as a CSV
    list and as printable letters."""

    list_display = ["label", "created_by", "created_at", "expires_at", "code_count", "used_count"]
    list_select_related = ["created_by"]
    readonly_fields = ["label", "created_by", "created_at", "expires_at", "downloads"]
    fields = readonly_fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                code_count=Count("codes"),
                used_count=Count("codes", filter=Q(codes__used_at__isnull=False)),
            )
            .order_by("-created_at", "-pk")
        )

    @admin.display(description=_("codes"))
    def code_count(self, batch) -> int:
        return batch.code_count

    @admin.display(description=_("codes used"))
    def used_count(self, batch) -> int:
        return batch.used_count

    @admin.display(description=_("download"))
    def downloads(self, batch) -> str:
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse(f"admin:{LABEL}_csv", args=[batch.pk]),
            _("List of codes (CSV)"),
            reverse(f"admin:{LABEL}_pdf", args=[batch.pk]),
            _("Letters, one per apartment (PDF)"),
        )

    def get_urls(self):
        download = self.admin_site.admin_view(self.download)
        return [
            path("<int:batch_id>/codes.csv", download, {"kind": "csv"}, name=f"{LABEL}_csv"),
            path("<int:batch_id>/letters.pdf", download, {"kind": "pdf"}, name=f"{LABEL}_pdf"),
            *super().get_urls(),
        ]

    def download(self, request, batch_id: int, kind: str) -> HttpResponse:
        if not request.user.has_perm("accounts.download_residency_codes"):
            raise PermissionDenied
        batch = get_object_or_404(ResidencyCodeBatch, pk=batch_id)
        if kind == "csv":
            body, content_type = codes_csv(batch), "text/csv; charset=utf-8"
        else:
            body, content_type = letters_pdf(batch), "application/pdf"
        file_name = f"residency-codes-{batch.pk}.{kind}"
        audit_record(actor=request.user, action=AuditAction.DOWNLOAD, obj=batch, detail=file_name)
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{file_name}"'
        return response


@admin.register(CodeAttempt)
class CodeAttemptAdmin(ReadOnlyAdmin):
    """The log of codes residents entered (the codes themselves are not kept)."""

    list_display = ["created_at", "user", "outcome"]
    list_filter = ["outcome"]
    list_select_related = ["user"]
    search_fields = ["user__email"]
    show_full_result_count = False
