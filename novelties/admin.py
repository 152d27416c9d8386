"""City novelties in the admin: a novelty with its photos inline, publish / unpublish
actions and a preview link; residents' ratings read-only, with actions to exclude farmed
ratings from the averages (with a reason) and to count them again; and the report of
suspicious rating patterns."""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from civic.admin_base import AuditedModelAdmin, NoAddOrDeleteAdmin
from novelties.models import Novelty, NoveltyPhoto, Rating
from novelties.selectors import counted_ratings, rating_bursts, rating_cohorts, rating_stats
from novelties.services import (
    NoveltyError,
    novelty_publish,
    novelty_unpublish,
    ratings_exclude,
    ratings_include,
)


class NoveltyPhotoInline(admin.TabularInline):
    model = NoveltyPhoto
    extra = 1
    fields = ["image", "alt_text", "position"]


@admin.register(Novelty)
class NoveltyAdmin(AuditedModelAdmin):
    inlines = [NoveltyPhotoInline]
    list_display = [
        "title",
        "category",
        "place_display",
        "happened_on",
        "phase_display",
        "rating_closes_at",
        "counted_ratings",
    ]
    list_filter = ["category", "okrug", ("published_at", admin.EmptyFieldListFilter)]
    list_select_related = ["okrug", "district", "building"]
    search_fields = ["title"]
    date_hierarchy = "happened_on"
    autocomplete_fields = ["okrug", "district", "building"]
    actions = ["publish", "unpublish"]
    readonly_fields = ["published_at", "preview_link", "ratings_summary"]
    fieldsets = [
        (None, {"fields": ["title", "description", "category", "happened_on"]}),
        (_("Place"), {"fields": ["building", "district", "okrug", "address"]}),
        (
            _("Rating"),
            {"fields": ["rating_closes_at", "published_at", "preview_link", "ratings_summary"]},
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(rating_count=counted_ratings())

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description=_("place"))
    def place_display(self, novelty: Novelty) -> str:
        return novelty.place

    @admin.display(description=_("phase"))
    def phase_display(self, novelty: Novelty) -> str:
        return novelty.phase().label

    @admin.display(description=_("counted ratings"), ordering="rating_count")
    def counted_ratings(self, novelty: Novelty) -> int:
        return novelty.rating_count

    @admin.display(description=_("preview"))
    def preview_link(self, novelty: Novelty) -> str:
        if not novelty.pk:
            return "—"
        return format_html(
            '<a href="{}" target="_blank">{}</a>',
            reverse("novelty_detail", args=[novelty.pk]),
            _("See the novelty as residents see it"),
        )

    @admin.display(description=_("ratings"))
    def ratings_summary(self, novelty: Novelty) -> str:
        if not novelty.pk:
            return "—"
        stats = rating_stats(novelty_ids=[novelty.pk])[novelty.pk]
        excluded = novelty.ratings.filter(excluded_at__isnull=False).count()
        return format_html(
            "{} · {} · {} · <a href='{}?novelty__id__exact={}'>{}</a>",
            _("average %(average)s") % {"average": stats.average or "—"},
            " ".join(f"{share.stars}★ {share.count}" for share in stats.shares),
            _("%(count)d excluded") % {"count": excluded},
            reverse("admin:novelties_rating_changelist"),
            novelty.pk,
            _("all ratings"),
        )

    @admin.action(description=_("Publish the selected novelties"), permissions=["change"])
    def publish(self, request, queryset):
        for novelty in queryset:
            try:
                novelty_publish(novelty=novelty)
            except NoveltyError as error:
                self.message_user(request, f"{novelty.title}: {error}", messages.ERROR)
            else:
                self.message_user(request, _("Published: %(title)s") % {"title": novelty.title})

    @admin.action(description=_("Unpublish (hide from residents)"), permissions=["change"])
    def unpublish(self, request, queryset):
        for novelty in queryset:
            novelty_unpublish(novelty=novelty)
            self.message_user(request, _("Hidden: %(title)s") % {"title": novelty.title})


class ExclusionActionForm(ActionForm):
    reason = forms.CharField(
        label=_("Reason (for excluding)"),
        required=False,
        max_length=Rating._meta.get_field("exclusion_reason").max_length,
    )


@admin.register(Rating)
class RatingAdmin(NoAddOrDeleteAdmin):
    """Residents' ratings as they gave them; admins only exclude and include them."""

    action_form = ExclusionActionForm
    actions = ["exclude_from_averages", "include_in_averages"]
    list_display = [
        "novelty",
        "user",
        "stars",
        "short_comment",
        "created_at",
        "updated_at",
        "excluded_at",
        "excluded_by",
        "exclusion_reason",
    ]
    list_filter = [("excluded_at", admin.EmptyFieldListFilter), "stars", "novelty__category"]
    list_select_related = ["novelty", "user", "excluded_by"]
    search_fields = ["user__email", "novelty__title"]
    readonly_fields = [
        "novelty",
        "user",
        "stars",
        "comment",
        "created_at",
        "updated_at",
        "excluded_at",
        "excluded_by",
        "exclusion_reason",
    ]
    fields = readonly_fields
    show_full_result_count = False

    @admin.display(description=_("comment"))
    def short_comment(self, rating: Rating) -> str:
        return Truncator(rating.comment).chars(60)

    @admin.action(description=_("Exclude from averages (give the reason)"), permissions=["change"])
    def exclude_from_averages(self, request, queryset):
        self._exclude(request, list(queryset.values_list("pk", flat=True)), request.POST)

    @admin.action(description=_("Count in averages again"), permissions=["change"])
    def include_in_averages(self, request, queryset):
        count = ratings_include(rating_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, _("%(count)d ratings count again.") % {"count": count})

    def _exclude(self, request, rating_ids: list[int], data) -> None:
        try:
            count = ratings_exclude(
                rating_ids=rating_ids, by=request.user, reason=data.get("reason", "")
            )
        except NoveltyError as error:
            self.message_user(request, str(error), messages.ERROR)
        else:
            self.message_user(
                request, _("%(count)d ratings excluded from averages.") % {"count": count}
            )

    def get_urls(self):
        report = path(
            "suspicious/",
            self.admin_site.admin_view(self.suspicious_view),
            name="novelties_rating_suspicious",
        )
        return [report, *super().get_urls()]

    def suspicious_view(self, request):
        """Patterns of farmed ratings: bursts by one account, and accounts created in the
        same hour rating the same novelty. Each can be excluded at once, with a reason."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            if not self.has_change_permission(request):
                raise PermissionDenied
            ids = [
                int(pk)
                for pattern in request.POST.getlist("pattern")
                for pk in pattern.split(",")
                if pk.isdigit()
            ]
            if not ids:
                self.message_user(request, _("Choose at least one pattern."), messages.ERROR)
            else:
                ratings = Rating.objects.filter(pk__in=ids)
                with self.audit_changes(request, ratings, detail=_("Suspicious ratings")):
                    self._exclude(request, ids, request.POST)
            return redirect("admin:novelties_rating_suspicious")
        since = timezone.now() - timedelta(days=settings.NOVELTY_REPORT_DAYS)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Suspicious ratings"),
            "bursts": rating_bursts(
                since=since,
                window=timedelta(minutes=settings.NOVELTY_BURST_MINUTES),
                min_ratings=settings.NOVELTY_BURST_RATINGS,
            ),
            "cohorts": rating_cohorts(
                since=since,
                new_for=timedelta(days=settings.NOVELTY_COHORT_NEW_DAYS),
                min_accounts=settings.NOVELTY_COHORT_ACCOUNTS,
            ),
            "cohort_days": settings.NOVELTY_COHORT_NEW_DAYS,
            "days": settings.NOVELTY_REPORT_DAYS,
            "burst_ratings": settings.NOVELTY_BURST_RATINGS,
            "burst_minutes": settings.NOVELTY_BURST_MINUTES,
            "cohort_accounts": settings.NOVELTY_COHORT_ACCOUNTS,
            "can_change": self.has_change_permission(request),
            "changelist_url": reverse("admin:novelties_rating_changelist"),
        }
        return TemplateResponse(request, "admin/novelties/rating/suspicious.html", context)
