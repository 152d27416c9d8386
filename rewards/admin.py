"""Rewards in the admin: the catalogue, levels and limits; the ledger read-only (a new entry
is the only way to change points: an adjustment with its reason); redemptions with
"fulfil" and "cancel and refund"."""

import uuid

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

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
)


@admin.register(Reward)
class RewardAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "cost", "stock", "per_resident_limit", "is_donation"]
    list_filter = ["category", "is_donation"]
    search_fields = ["title"]


@admin.register(Level)
class LevelAdmin(admin.ModelAdmin):
    list_display = ["name", "min_lifetime", "opens_shop"]


@admin.register(CategoryLimit)
class CategoryLimitAdmin(admin.ModelAdmin):
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


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
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
        try:
            points_adjust(
                user_id=obj.user_id,
                amount=obj.amount,
                comment=f"{obj.comment} ({request.user.email})",
                key=f"adjustment:{uuid.uuid4()}",
            )
        except RewardsError as error:
            self.message_user(request, str(error), messages.ERROR)


@admin.register(Wallet)
class WalletAdmin(admin.ModelAdmin):
    list_display = ["user", "balance", "lifetime"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Redemption)
class RedemptionAdmin(admin.ModelAdmin):
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
class AchievementAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "period", "created_at"]
    list_filter = ["kind", "period"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
