"""Public discussions of urban-planning projects: the project and its documents, residents'
comments and proposals (with one level of replies), supports of proposals, reports to the
moderators, official answers, and the summary published after the period ends.

Whether a discussion is open is derived from ``opens_at``/``closes_at`` at the moment of
asking, as for polls; the summary is published by a scheduled task once, and only read
afterwards.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civic.models import District, Okrug
from civic.uploads import SafeDocumentField
from polls.models import Phase, Scope

POST_MAX_LENGTH = 4000
DISCUSSION_SCOPES = [(Scope.CITY.value, Scope.CITY.label), (Scope.AREAS.value, Scope.AREAS.label)]


class Discussion(models.Model):
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(
        _("description"), help_text=_("Plain text; blank lines start paragraphs.")
    )
    scope = models.CharField(
        _("area concerned"), max_length=12, choices=DISCUSSION_SCOPES, default=Scope.CITY
    )
    okrugs = models.ManyToManyField(
        Okrug, blank=True, related_name="discussions", verbose_name=_("okrugs")
    )
    districts = models.ManyToManyField(
        District, blank=True, related_name="discussions", verbose_name=_("districts")
    )
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-opens_at", "-pk"]
        verbose_name = _("public discussion")
        verbose_name_plural = _("public discussions")
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")),
                name="discussion_closes_after_opening",
                violation_error_message=_("The discussion must close after it opens."),
            ),
            models.CheckConstraint(
                condition=Q(scope__in=[Scope.CITY, Scope.AREAS]),
                name="discussion_scope_city_or_areas",
            ),
        ]
        permissions = [
            ("export_discussion", _("Can export the summaries of public discussions")),
        ]

    def __str__(self) -> str:
        return self.title

    def phase(self, now=None) -> Phase:
        now = now or timezone.now()
        if now < self.opens_at:
            return Phase.UPCOMING
        if now < self.closes_at:
            return Phase.OPEN
        return Phase.CLOSED


class Document(models.Model):
    """A project document: a PDF (downloaded) or an image (shown on the page)."""

    discussion = models.ForeignKey(
        Discussion,
        on_delete=models.CASCADE,
        related_name="documents",
        verbose_name=_("discussion"),
    )
    title = models.CharField(_("title"), max_length=200)
    file = SafeDocumentField(_("file"), upload_to="discussions/")
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")

    def __str__(self) -> str:
        return self.title

    @property
    def is_pdf(self) -> bool:
        return self.file.name.endswith(".pdf")


class PostKind(models.TextChoices):
    COMMENT = "comment", _("Comment")
    PROPOSAL = "proposal", _("Proposal")


class Post(models.Model):
    """A resident's comment or proposal, or a reply (``parent`` set) to one of them.

    Replies go one level deep: a reply's parent is a top-level post of the same discussion
    (a trigger, migration 0002, refuses anything else), and a reply is a comment. Only a
    proposal can be supported or get an official answer (docs/decisions/0012).
    """

    discussion = models.ForeignKey(
        Discussion, on_delete=models.CASCADE, related_name="posts", verbose_name=_("discussion")
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="replies",
        verbose_name=_("reply to"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=PostKind.choices)
    # Erased with the author's account (services.personal_data_erase): both become empty.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="discussion_posts",
        verbose_name=_("author"),
    )
    # Where the author lived when posting: shown instead of a name ("resident of Arbat").
    author_district = models.ForeignKey(
        District,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author's district"),
    )
    text = models.TextField(_("text"), blank=True)
    created_at = models.DateTimeField(_("posted"), default=timezone.now)
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True, editable=False)
    hidden_at = models.DateTimeField(_("hidden"), null=True, blank=True, editable=False)
    hidden_reason = models.CharField(_("reason for hiding"), max_length=500, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("hidden by"),
        editable=False,
    )
    answer = models.TextField(_("official answer"), blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True, editable=False)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
        editable=False,
    )

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        constraints = [
            models.CheckConstraint(
                condition=Q(parent__isnull=True) | Q(kind=PostKind.COMMENT),
                name="post_reply_is_a_comment",
            ),
            models.CheckConstraint(
                condition=Q(answer="", answered_at__isnull=True)
                | (
                    ~Q(answer="")
                    & Q(answered_at__isnull=False, kind=PostKind.PROPOSAL, parent__isnull=True)
                ),
                name="post_answer_only_for_proposals",
            ),
            models.CheckConstraint(
                condition=Q(hidden_at__isnull=True, hidden_reason="")
                | (Q(hidden_at__isnull=False) & ~Q(hidden_reason="")),
                name="post_hidden_with_reason",
            ),
            models.CheckConstraint(
                condition=Q(erased_at__isnull=True) | Q(text="", author__isnull=True),
                name="post_erased_has_no_text_or_author",
            ),
        ]
        indexes = [
            models.Index(
                fields=["discussion", "-created_at"],
                condition=Q(parent__isnull=True),
                name="post_threads",
            )
        ]
        permissions = [("answer_post", _("Can give official answers to proposals"))]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def answer_shown(self) -> str:
        """The official answer anyone may read: none once a moderator hid the proposal."""
        return self.answer if self.hidden_at is None else ""

    @property
    def is_proposal(self) -> bool:
        return self.kind == PostKind.PROPOSAL


class Support(models.Model):
    """A resident supports a proposal; once each (the database decides)."""

    post = models.ForeignKey(
        Post, on_delete=models.CASCADE, related_name="supports", verbose_name=_("proposal")
    )
    # Kept without the resident when their account is erased, so counts stand.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("resident"),
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("support")
        verbose_name_plural = _("supports")
        constraints = [
            models.UniqueConstraint(fields=["post", "user"], name="support_once_per_resident")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.post_id}"


class ReportReason(models.TextChoices):
    OFFENSIVE = "offensive", _("Insults or obscene language")
    SPAM = "spam", _("Spam or advertising")
    OFF_TOPIC = "off_topic", _("Not about this project")
    PERSONAL_DATA = "personal_data", _("Someone's personal data")
    OTHER = "other", _("Something else breaks the rules")


class Report(models.Model):
    """A resident's report of a post to the moderators; once each."""

    post = models.ForeignKey(
        Post, on_delete=models.CASCADE, related_name="reports", verbose_name=_("post")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("reported by"),
    )
    reason = models.CharField(_("reason"), max_length=20, choices=ReportReason.choices)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        constraints = [
            models.UniqueConstraint(fields=["post", "user"], name="post_report_once_per_resident")
        ]

    def __str__(self) -> str:
        return self.get_reason_display()


class Summary(models.Model):
    """What a closed discussion came to, published once by the scheduled task and never
    recomputed: the counts at closing, and the most supported proposals (``top``)."""

    discussion = models.OneToOneField(
        Discussion, on_delete=models.CASCADE, related_name="summary", verbose_name=_("discussion")
    )
    participants = models.PositiveIntegerField(_("participants"))
    comments = models.PositiveIntegerField(_("comments"))
    replies = models.PositiveIntegerField(_("replies"))
    proposals = models.PositiveIntegerField(_("proposals"))
    supports = models.PositiveIntegerField(_("supports"))
    published_at = models.DateTimeField(_("published"))

    class Meta:
        verbose_name = _("summary")
        verbose_name_plural = _("summaries")

    def __str__(self) -> str:
        return str(self.discussion_id)


class TopProposal(models.Model):
    """A place among the most supported proposals of a summary, with its supports then."""

    summary = models.ForeignKey(Summary, on_delete=models.CASCADE, related_name="top")
    rank = models.PositiveSmallIntegerField()
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="+")
    supports = models.PositiveIntegerField()

    class Meta:
        ordering = ["rank"]
        constraints = [
            models.UniqueConstraint(fields=["summary", "rank"], name="top_proposal_rank_once"),
            models.UniqueConstraint(fields=["summary", "post"], name="top_proposal_post_once"),
        ]

    def __str__(self) -> str:
        return f"{self.summary_id}#{self.rank}"
