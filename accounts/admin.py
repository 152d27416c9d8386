from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.letters import codes_csv, letters_pdf
from accounts.models import (
    ClaimStatus,
    CodeAttempt,
    ResidencyClaim,
    ResidencyCodeBatch,
    SignupRecord,
    User,
)
from accounts.services import (
    ResidencyError,
    SuspensionError,
    account_reinstate,
    account_suspend,
    residency_claim_decide,
    residency_end,
)
from accounts.suspicion import suspicious_clusters
from audit.models import AuditAction
from audit.services import audit_record
from civic.admin_base import AuditedAdmin, NoAddOrDeleteAdmin, ReadOnlyAdmin

SUSPEND_PERMISSION = "accounts.suspend_user"


class SuspensionForm(forms.Form):
    """The accounts to suspend and the reason their owners read; the same form on the
    suspicious-accounts report and after the "Suspend" action of the user list."""

    accounts = forms.ModelMultipleChoiceField(
        queryset=User.objects.all(),
        widget=forms.MultipleHiddenInput,
        error_messages={"required": _("Select the accounts to suspend.")},
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "The residents read it in their notification, e.g. “one of 40 accounts "
            "created from one address within an hour”."
        ),
    )


class SuspendedFilter(admin.SimpleListFilter):
    title = _("suspended")
    parameter_name = "suspended"

    def lookups(self, request, model_admin):
        return [("yes", _("Suspended")), ("no", _("Not suspended"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(suspended_at__isnull=self.value() == "no")
        return queryset


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
    ordering = ["email"]
    list_display = [
        "email",
        "home_building",
        "birth_year",
        "gender",
        "is_staff",
        "is_active",
        "suspended_at",
    ]
    list_filter = [
        "is_staff",
        "is_superuser",
        "is_active",
        SuspendedFilter,
        "groups",
        "gender",
        "language",
    ]
    actions = ["suspend_accounts", "reinstate_accounts"]
    change_list_template = "admin/accounts/user/change_list.html"
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
        "suspended_at",
        "suspension_reason",
        "suspended_by",
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
        (
            _("Suspension"),
            {"fields": ("suspended_at", "suspension_reason", "suspended_by")},
        ),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def save_model(self, request, obj, form, change):
        """A move made here ends the verification of the old home, as a move on the site does."""
        if change and {"home_building", "apartment"} & set(form.changed_data):
            residency_end(user=obj, now=timezone.now())
        super().save_model(request, obj, form, change)

    # --- suspension (docs/decisions/0009) ---------------------------------------------------

    def has_suspend_permission(self, request) -> bool:
        return request.user.has_perm(SUSPEND_PERMISSION)

    def get_urls(self):
        return [
            path(
                "suspicious/",
                self.admin_site.admin_view(self.suspicious_view),
                name="accounts_user_suspicious",
            ),
            path(
                "suspend/",
                self.admin_site.admin_view(self.suspend_view),
                name="accounts_user_suspend",
            ),
            *super().get_urls(),
        ]

    def suspicious_view(self, request):
        """Clusters of accounts that look like one hand at work (accounts.suspicion), with
        a form to suspend the ones ticked."""
        if not self.has_suspend_permission(request):
            raise PermissionDenied
        return self._suspension_page(
            request,
            "admin/accounts/user/suspicious.html",
            title=_("Suspicious accounts"),
            clusters=suspicious_clusters(),
            form=SuspensionForm(),
            thresholds={
                "window": settings.SUSPICIOUS_SIGNUP_WINDOW_MINUTES,
                "per_ip": settings.SUSPICIOUS_SIGNUPS_PER_IP,
                "per_subnet": settings.SUSPICIOUS_SIGNUPS_PER_SUBNET,
                "days": settings.SUSPICIOUS_NEW_ACCOUNT_DAYS,
            },
        )

    @admin.action(description=_("Suspend selected accounts…"), permissions=["suspend"])
    def suspend_accounts(self, request, queryset):
        """Asks for the reason first; the form then goes to ``suspend_view``."""
        return self._suspension_page(
            request,
            "admin/accounts/user/suspend.html",
            title=_("Suspend accounts"),
            accounts=queryset.order_by("email"),
            form=SuspensionForm(initial={"accounts": queryset}),
        )

    def suspend_view(self, request):
        if not self.has_suspend_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:accounts_user_suspicious"))
        form = SuspensionForm(request.POST)
        if form.is_valid():
            accounts = form.cleaned_data["accounts"]
            try:
                with self.audit_changes(request, accounts, detail=_("Suspend accounts")):
                    suspended = account_suspend(
                        user_ids=[user.pk for user in accounts],
                        reason=form.cleaned_data["reason"],
                        by=request.user,
                    )
            except SuspensionError as error:
                form.add_error(None, str(error))
            else:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d account suspended; its owner is notified.",
                        "%(count)d accounts suspended; their owners are notified.",
                        len(suspended),
                    )
                    % {"count": len(suspended)},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:accounts_user_changelist"))
        return self._suspension_page(
            request,
            "admin/accounts/user/suspend.html",
            title=_("Suspend accounts"),
            accounts=form.cleaned_data.get("accounts", User.objects.none()).order_by("email"),
            form=form,
            status=400,
        )

    @admin.action(description=_("Reinstate selected accounts"), permissions=["suspend"])
    def reinstate_accounts(self, request, queryset):
        reinstated = account_reinstate(
            user_ids=list(queryset.values_list("pk", flat=True)), by=request.user
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d account reinstated.", "%(count)d accounts reinstated.", len(reinstated)
            )
            % {"count": len(reinstated)},
            messages.SUCCESS,
        )

    def _suspension_page(self, request, template: str, *, title: str, status=200, **context):
        return TemplateResponse(
            request,
            template,
            {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title}
            | context,
            status=status,
        )


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


@admin.register(SignupRecord)
class SignupRecordAdmin(ReadOnlyAdmin):
    """Where accounts were created from (kept ``SIGNUP_RECORD_RETENTION_DAYS``)."""

    list_display = ["created_at", "ip", "subnet", "user"]
    list_select_related = ["user"]
    search_fields = ["=ip", "=subnet", "user__email"]
    date_hierarchy = "created_at"
    show_full_result_count = False
