"""Public discussions in the Django admin: city admins open a discussion with its documents
(inline), its period and the area concerned; moderators see reported posts first and hide
them with a reason their author reads; city staff and admins give proposals an official
answer. Every change goes through discussions/services.py."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Case, Count, Q, When
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from civic.admin_base import AuditedModelAdmin, HideWithReasonForm, NoAddOrDeleteAdmin
from discussions.models import Discussion, Document, Post, Report
from discussions.rules import area_names
from discussions.services import DiscussionError, post_hide, post_unhide, proposal_answer
from polls.models import Scope


class DocumentInline(admin.TabularInline):
    model = Document
    extra = 1
    fields = ["position", "title", "file"]


class DiscussionForm(forms.ModelForm):
    class Meta:
        model = Discussion
        fields = ["title", "description", "scope", "okrugs", "districts", "opens_at", "closes_at"]

    def clean(self):
        cleaned = super().clean()
        areas = bool(cleaned.get("okrugs")) or bool(cleaned.get("districts"))
        if cleaned.get("scope") == Scope.AREAS and not areas:
            self.add_error(
                "scope", _("Choose at least one okrug or district for an area discussion.")
            )
        if cleaned.get("scope") == Scope.CITY and areas:
            self.add_error(
                "scope",
                _(
                    "A whole-city discussion has no okrugs or districts: clear them, or choose "
                    "“Chosen okrugs and districts”."
                ),
            )
        discussion = self.instance
        if discussion.pk and hasattr(discussion, "summary"):
            for field in ("opens_at", "closes_at"):
                if field in cleaned and cleaned[field] != getattr(discussion, field):
                    self.add_error(
                        field, _("The summary is published: the period can no longer change.")
                    )
        return cleaned


@admin.register(Discussion)
class DiscussionAdmin(AuditedModelAdmin):
    form = DiscussionForm
    inlines = [DocumentInline]
    list_display = [
        "title",
        "phase_display",
        "opens_at",
        "closes_at",
        "area_display",
        "post_count",
        "waiting_reports",
    ]
    search_fields = ["title"]
    date_hierarchy = "opens_at"
    autocomplete_fields = ["okrugs", "districts"]
    readonly_fields = ["links", "summary_display"]
    fieldsets = [
        (None, {"fields": ["title", "description", "links"]}),
        (_("Area concerned"), {"fields": ["scope", "okrugs", "districts"]}),
        (_("Period"), {"fields": ["opens_at", "closes_at", "summary_display"]}),
    ]

    def get_queryset(self, request):
        waiting = Q(posts__hidden_at__isnull=True, posts__reports__isnull=False)
        return (
            super()
            .get_queryset(request)
            .select_related("summary")
            .prefetch_related("okrugs", "districts")
            .annotate(
                post_total=Count("posts", distinct=True),
                reported_total=Count("posts", filter=waiting, distinct=True),
            )
        )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description=_("phase"))
    def phase_display(self, discussion: Discussion) -> str:
        return discussion.phase(timezone.now()).label

    @admin.display(description=_("area concerned"))
    def area_display(self, discussion: Discussion) -> str:
        return str(Scope.CITY.label) if discussion.scope == Scope.CITY else area_names(discussion)

    @admin.display(description=_("posts"), ordering="post_total")
    def post_count(self, discussion: Discussion) -> int:
        return discussion.post_total

    @admin.display(description=_("reported posts to check"), ordering="reported_total")
    def waiting_reports(self, discussion: Discussion) -> str:
        if not discussion.reported_total:
            return "0"
        url = reverse("admin:discussions_post_changelist")
        return format_html(
            '<a href="{}?discussion__id__exact={}&amp;reported=waiting">{}</a>',
            url,
            discussion.pk,
            discussion.reported_total,
        )

    @admin.display(description=_("links"))
    def links(self, discussion: Discussion) -> str:
        if not discussion.pk:
            return "—"
        links = [
            (reverse("discussion_detail", args=[discussion.pk]), _("The page residents see")),
            (
                reverse("admin:discussions_post_changelist")
                + f"?discussion__id__exact={discussion.pk}",
                _("Its posts"),
            ),
        ]
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    @admin.display(description=_("summary"))
    def summary_display(self, discussion: Discussion) -> str:
        summary = getattr(discussion, "summary", None)
        if summary is None:
            return _("Published automatically a minute after the discussion ends.")
        return format_html(
            '{} · <a href="{}">{}</a>',
            _("Published on %(date)s")
            % {"date": timezone.localtime(summary.published_at).strftime("%d.%m.%Y %H:%M")},
            reverse("discussion_summary_csv", args=[discussion.pk]),
            _("Download the summary (CSV)"),
        )


# --- posts: moderation and official answers ---------------------------------------------------


class ReportInline(admin.TabularInline):
    model = Report
    extra = 0
    fields = ["created_at", "user", "reason"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ReportedFilter(admin.SimpleListFilter):
    title = _("reports")
    parameter_name = "reported"

    def lookups(self, request, model_admin):
        return [("waiting", _("Reported, not hidden")), ("any", _("Reported"))]

    def queryset(self, request, queryset):
        if self.value() == "waiting":
            return queryset.filter(report_total__gt=0, hidden_at__isnull=True)
        if self.value() == "any":
            return queryset.filter(report_total__gt=0)
        return queryset


class PostModerationForm(HideWithReasonForm):
    """Hide (with the reason its author reads) or show again; answer a proposal. Which of
    the fields a user gets depends on their permissions (``PostAdmin.get_form``)."""

    hide = forms.BooleanField(
        label=_("Hidden from residents (its author still sees it)"), required=False
    )
    official_answer = forms.CharField(
        label=_("Official answer"),
        required=False,
        help_text=_(
            "Shown under the proposal and in the summary; its author is notified of the first "
            "answer. Empty the field to withdraw the answer."
        ),
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    reason_help = _("Shown to the author on the discussion page and in a notification.")
    missing_reason = _("Give the reason for hiding the post: its author will read it.")

    class Meta:
        model = Post
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["official_answer"] = self.instance.answer


@admin.register(Post)
class PostAdmin(NoAddOrDeleteAdmin):
    """Every post; reported ones that are not hidden first."""

    form = PostModerationForm
    inlines = [ReportInline]
    list_display = [
        "short_text",
        "discussion",
        "kind",
        "created_at",
        "support_total",
        "report_total_display",
        "is_hidden",
        "is_answered",
    ]
    list_filter = [
        ReportedFilter,
        "kind",
        ("hidden_at", admin.EmptyFieldListFilter),
        ("answered_at", admin.EmptyFieldListFilter),
        "discussion",
    ]
    list_select_related = ["discussion"]
    search_fields = ["text", "author__email", "discussion__title"]
    readonly_fields = [
        "discussion",
        "kind",
        "parent",
        "text",
        "author",
        "author_district",
        "created_at",
        "hidden_at",
        "hidden_by",
        "answered_at",
        "answered_by",
    ]
    show_full_result_count = False

    def get_queryset(self, request):
        """Annotated before it is ordered (the ordering uses the annotations)."""
        waiting = Q(hidden_at__isnull=True, report_total__gt=0)
        return (
            Post.objects.annotate(
                report_total=Count("reports", distinct=True),
                support_total=Count("supports", distinct=True),
            )
            .annotate(waiting=Case(When(waiting, then=1), default=0))
            .order_by(*self.get_ordering(request))
        )

    def get_ordering(self, request):
        return ["-waiting", "-report_total", "-created_at", "-pk"]

    def has_change_permission(self, request, obj=None):
        user = request.user
        return user.has_perm("discussions.change_post") or user.has_perm("discussions.answer_post")

    def get_fields(self, request, obj=None):
        return [*self.readonly_fields, *self._get_form_for_get_fields(request, obj).base_fields]

    def get_form(self, request, obj=None, change=False, **kwargs):
        """Moderators (``change_post``) hide and show; officials (``answer_post``) answer
        proposals. The form class is made afresh for each call, so it may be trimmed."""
        form = super().get_form(request, obj, change=change, **kwargs)
        dropped = set()
        if not request.user.has_perm("discussions.change_post"):
            dropped |= {"hide", "reason"}
        answerable = obj is not None and obj.is_proposal
        if not (answerable and request.user.has_perm("discussions.answer_post")):
            dropped.add("official_answer")
        form.base_fields = {
            name: field for name, field in form.base_fields.items() if name not in dropped
        }
        return form

    def save_model(self, request, obj, form, change):
        """Through the services only: the form edits no column itself."""
        data = form.cleaned_data
        try:
            if "hide" in data:
                if data["hide"] and (
                    obj.hidden_at is None or data["reason"].strip() != obj.hidden_reason
                ):
                    post_hide(post=obj, reason=data["reason"], by=request.user)
                elif not data["hide"] and obj.hidden_at is not None:
                    post_unhide(post=obj)
            if "official_answer" in data and data["official_answer"].strip() != obj.answer:
                proposal_answer(post=obj, text=data["official_answer"], by=request.user)
        except DiscussionError as error:
            self.message_user(request, str(error), messages.ERROR)

    @admin.display(description=_("text"))
    def short_text(self, post: Post) -> str:
        if post.erased_at:
            return _("(deleted with the account)")
        return post.text[:80]

    @admin.display(description=_("supports"), ordering="support_total")
    def support_total(self, post: Post) -> int:
        return post.support_total

    @admin.display(description=_("reports"), ordering="report_total")
    def report_total_display(self, post: Post) -> int:
        return post.report_total

    @admin.display(description=_("hidden"), boolean=True)
    def is_hidden(self, post: Post) -> bool:
        return post.hidden_at is not None

    @admin.display(description=_("answered"), boolean=True)
    def is_answered(self, post: Post) -> bool:
        return post.answered_at is not None
