"""Rewards in the admin: the catalogue, levels and limits; the ledger read-only (a new entry
is the only way to change points: an adjustment with its reason); redemptions with
"fulfil" and "cancel and refund"."""

import uuid

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from civic.admin_base import AuditedModelAdmin, ReadOnlyAdmin
from rewards.models import (
    Achievement,
    CategoryLimit,
    LedgerEntry,
    Level,
    Redemption,
    Reward,
    Wallet,
)
from rewards.services import (
    RewardsError,
    points_adjust,
    redemption_cancel,
    redemption_fulfil,
    reward_restock,
)


class RewardForm(forms.ModelForm):
    stock_change = forms.IntegerField(
        label=_("Add to stock"),
        required=False,
        help_text=_("A change, e.g. 20 or -5: redemptions happening meanwhile are kept."),
    )

    class Meta:
        model = Reward
        fields = [
            "title",
            "description",
            "image",
            "category",
            "cost",
            "stock",
            "per_resident_limit",
            "available_from",
            "available_until",
            "required_level",
            "is_donation",
        ]


@admin.register(Reward)
class RewardAdmin(AuditedModelAdmin):
    """Stock is set when a reward is created; after that it only changes by a delta, so an
    admin's save never writes back a stock number that redemptions have since lowered."""

    form = RewardForm
    list_display = ["title", "category", "cost", "stock", "per_resident_limit", "is_donation"]
    list_filter = ["category", "is_donation"]
    search_fields = ["title"]

    def get_readonly_fields(self, request, obj=None):
        return ["stock"] if obj else []

    def get_fields(self, request, obj=None):
        fields = list(RewardForm.Meta.fields)
        return [*fields, "stock_change"] if obj else fields

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        model_fields = {field.name for field in Reward._meta.concrete_fields}
        changed = [name for name in form.changed_data if name in model_fields]
        if changed:
            obj.save(update_fields=changed)
        if form.cleaned_data.get("stock_change"):
            try:
                reward_restock(reward_id=obj.pk, change=form.cleaned_data["stock_change"])
            except RewardsError as error:
                self.message_user(request, str(error), messages.ERROR)


@admin.register(Level)
class LevelAdmin(AuditedModelAdmin):
    list_display = ["name", "min_lifetime", "opens_shop"]


@admin.register(CategoryLimit)
class CategoryLimitAdmin(AuditedModelAdmin):
    list_display = ["category", "points_per_month"]


class AdjustmentForm(forms.ModelForm):
    class Meta:
        model = LedgerEntry
        fields = ["user", "amount", "comment"]

    def clean_comment(self):
        comment = self.cleaned_data["comment"].strip()
        if not comment:
            raise forms.ValidationError(_("An adjustment needs a reason."))
        return comment

    def clean(self):
        cleaned = super().clean()
        user, amount = cleaned.get("user"), cleaned.get("amount")
        if user and amount is not None and amount < 0:
            balance = Wallet.objects.filter(user=user).values_list("balance", flat=True).first()
            if (balance or 0) + amount < 0:
                raise forms.ValidationError(
                    _("The resident has %(balance)d points: this would make it negative.")
                    % {"balance": balance or 0}
                )
        return cleaned


@admin.register(LedgerEntry)
class LedgerEntryAdmin(AuditedModelAdmin):
    """Read-only, as the database itself makes the ledger; "add" makes an adjustment."""

    form = AdjustmentForm
    list_display = ["created_at", "user", "amount", "reason", "source", "comment"]
    list_filter = ["reason"]
    list_select_related = ["user"]
    search_fields = ["user__email", "key", "source"]
    autocomplete_fields = ["user"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """The entry is written by the service (wallet and ledger together); the form has
        already refused an overdraft, and a simultaneous one still fails in the database."""
        key = f"adjustment:{uuid.uuid4()}"
        points_adjust(
            user_id=obj.user_id,
            amount=obj.amount,
            comment=f"{obj.comment} ({request.user.email})",
            key=key,
        )
        obj.pk = LedgerEntry.objects.get(user_id=obj.user_id, key=key).pk


@admin.register(Wallet)
class WalletAdmin(ReadOnlyAdmin):
    list_display = ["user", "balance", "lifetime"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    show_full_result_count = False


@admin.register(Redemption)
class RedemptionAdmin(AuditedModelAdmin):
    list_display = ["voucher", "user", "reward", "cost", "status", "created_at"]
    list_filter = ["status", "reward__category"]
    list_select_related = ["user", "reward"]
    search_fields = ["voucher", "user__email", "reward__title"]
    actions = ["fulfil", "cancel_and_refund"]
    readonly_fields = ["user", "reward", "cost", "voucher", "status", "created_at", "closed_at"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Mark as fulfilled"))
    def fulfil(self, request, queryset):
        done = sum(redemption_fulfil(redemption_id=r.pk) for r in queryset)
        self.message_user(request, _("%(n)d redemptions fulfilled.") % {"n": done})

    @admin.action(description=_("Cancel and refund the points"))
    def cancel_and_refund(self, request, queryset):
        for redemption in queryset:
            try:
                redemption_cancel(
                    redemption_id=redemption.pk, reason=str(_("Cancelled by the city"))
                )
            except RewardsError as error:
                self.message_user(request, f"{redemption.voucher}: {error}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(code)s cancelled, points refunded.") % {"code": redemption.voucher},
                )


@admin.register(Achievement)
class AchievementAdmin(AuditedModelAdmin):
    list_display = ["user", "kind", "period", "created_at"]
    list_filter = ["kind", "period"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
