"""Polls, their questions and options, who took part (participation) and what they chose (ballot).

Participation and ballot are deliberately unlinkable (docs/decisions/0004): ballots and
answers have random UUID keys, no timestamps, and no reference to the participation.
"""

import uuid
from datetime import UTC

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from civic.codes import random_code
from civic.models import Building, District, Okrug
from civic.uploads import SafeImageField

RECEIPT_LENGTH = 12


def new_receipt() -> str:
    return random_code(RECEIPT_LENGTH)


class Scope(models.TextChoices):
    CITY = "city", _("Whole city")
    AREAS = "areas", _("Chosen okrugs and districts")
    BUILDING = "building", _("One building")


class ResultsVisibility(models.TextChoices):
    LIVE = "live", _("Live, as votes come in")
    AFTER_CLOSE = "after_close", _("Only after closing")


class VoteUnit(models.TextChoices):
    RESIDENT = "resident", _("One vote per resident")
    APARTMENT = "apartment", _("One vote per apartment (the first vote counts)")


class PollStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class Phase(models.TextChoices):
    """Where a poll is in its life, derived from status and the clock at the moment of asking."""

    DRAFT = "draft", _("Draft")
    UPCOMING = "upcoming", _("Upcoming")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Poll(models.Model):
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(
        _("description"), blank=True, help_text=_("Plain text; blank lines start paragraphs.")
    )
    image = SafeImageField(_("image"), upload_to="polls/", blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=PollStatus.choices, default=PollStatus.DRAFT
    )
    scope = models.CharField(_("scope"), max_length=12, choices=Scope.choices, default=Scope.CITY)
    okrugs = models.ManyToManyField(
        Okrug, blank=True, related_name="polls", verbose_name=_("okrugs")
    )
    districts = models.ManyToManyField(
        District, blank=True, related_name="polls", verbose_name=_("districts")
    )
    building = models.ForeignKey(
        Building,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="surveys",
        verbose_name=_("building"),
    )
    min_age = models.PositiveSmallIntegerField(_("minimum age"), null=True, blank=True)
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    points = models.PositiveIntegerField(_("points"), default=20)
    results_visibility = models.CharField(
        _("results shown"),
        max_length=12,
        choices=ResultsVisibility.choices,
        default=ResultsVisibility.AFTER_CLOSE,
    )
    # Building surveys (scope "building"), created by a verified resident.
    open_ballot = models.BooleanField(
        _("open ballot"),
        default=False,
        help_text=_("Neighbours see who voted for what; otherwise the ballot is secret."),
    )
    vote_unit = models.CharField(
        _("who votes"), max_length=10, choices=VoteUnit.choices, default=VoteUnit.RESIDENT
    )
    quorum_percent = models.PositiveSmallIntegerField(
        _("quorum, percent of apartments"), null=True, blank=True
    )
    hidden_at = models.DateTimeField(_("hidden"), null=True, blank=True, editable=False)
    hidden_reason = models.CharField(_("reason for hiding"), max_length=500, blank=True)
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
    # Stamped by the scheduled tasks (polls/tasks.py), each once, by a conditional UPDATE.
    # Whether a vote is accepted never depends on them: only opens_at/closes_at do.
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, editable=False)
    tallied_at = models.DateTimeField(_("final tally"), null=True, blank=True, editable=False)
    results_published_at = models.DateTimeField(
        _("results published"), null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["-opens_at", "-pk"]
        verbose_name = _("poll")
        verbose_name_plural = _("polls")
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="poll_closes_after_opening"
            ),
            models.CheckConstraint(
                condition=Q(scope="building", building__isnull=False)
                | (~Q(scope="building") & Q(building__isnull=True)),
                name="poll_building_scope_has_building",
            ),
            models.CheckConstraint(
                condition=Q(quorum_percent__isnull=True)
                | Q(quorum_percent__gte=1, quorum_percent__lte=100),
                name="poll_quorum_is_a_share",
            ),
            # Open ballots, votes per apartment and quorums are building surveys' terms.
            models.CheckConstraint(
                condition=Q(scope="building")
                | Q(open_ballot=False, vote_unit="resident", quorum_percent__isnull=True),
                name="poll_survey_terms_only_for_surveys",
            ),
        ]
        indexes = [models.Index(fields=["status", "closes_at"], name="poll_status_closes")]
        permissions = [("export_poll", _("Can export results and ballots, and see dashboards"))]

    def __str__(self) -> str:
        return self.title

    def phase(self, now=None) -> Phase:
        now = now or timezone.now()
        if self.status == PollStatus.DRAFT:
            return Phase.DRAFT
        if now < self.opens_at:
            return Phase.UPCOMING
        if now < self.closes_at:
            return Phase.OPEN
        return Phase.CLOSED

    @property
    def is_survey(self) -> bool:
        return self.scope == Scope.BUILDING

    @property
    def per_apartment(self) -> bool:
        return self.vote_unit == VoteUnit.APARTMENT

    def results_visible(self, now=None) -> bool:
        """Live polls show results while open; every poll once its final results are published."""
        if self.results_published_at is not None:
            return True
        phase = self.phase(now)
        return (
            phase in (Phase.OPEN, Phase.CLOSED)
            and self.results_visibility == ResultsVisibility.LIVE
        )


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    SCALE = "scale", _("Rating scale")
    RANKING = "ranking", _("Ranking")
    MATRIX = "matrix", _("Matrix")
    TEXT = "text", _("Free text")


CHOICE_KINDS = {QuestionKind.SINGLE, QuestionKind.MULTIPLE}
KINDS_WITH_OPTIONS = {*CHOICE_KINDS, QuestionKind.RANKING, QuestionKind.MATRIX}
KINDS_ON_A_SCALE = {QuestionKind.SCALE, QuestionKind.MATRIX}


class Question(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    text = models.CharField(_("question"), max_length=500)
    help_text = models.CharField(_("hint"), max_length=300, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=QuestionKind.choices)
    required = models.BooleanField(_("required"), default=True)
    min_choices = models.PositiveSmallIntegerField(
        _("minimum choices"), null=True, blank=True, help_text=_("Multiple choice.")
    )
    max_choices = models.PositiveSmallIntegerField(
        _("maximum choices"),
        null=True,
        blank=True,
        help_text=_("Multiple choice; for ranking, how many places to rank (top K)."),
    )
    scale_min = models.SmallIntegerField(_("scale from"), default=1)
    scale_max = models.SmallIntegerField(_("scale to"), default=5)
    scale_min_label = models.CharField(_("label of the lowest value"), max_length=60, blank=True)
    scale_max_label = models.CharField(_("label of the highest value"), max_length=60, blank=True)
    max_length = models.PositiveIntegerField(
        _("maximum length"), default=1000, help_text=_("Free text.")
    )

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        constraints = [
            models.CheckConstraint(
                condition=Q(scale_max__gt=models.F("scale_min")), name="question_scale_ascends"
            ),
            models.CheckConstraint(
                condition=Q(min_choices__isnull=True)
                | Q(max_choices__isnull=True)
                | Q(min_choices__lte=models.F("max_choices")),
                name="question_choices_min_le_max",
            ),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def scale_values(self) -> range:
        return range(self.scale_min, self.scale_max + 1)


class Option(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    text = models.CharField(_("option"), max_length=300)
    is_other = models.BooleanField(
        _("“Other, please specify”"), default=False, help_text=_("Takes a short text.")
    )
    is_non_answer = models.BooleanField(
        _("non-answer"),
        default=False,
        help_text=_("“Hard to say” and the like: chosen alone, never together with other options."),
    )

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("option")
        verbose_name_plural = _("options")

    def __str__(self) -> str:
        return self.text


class Participation(models.Model):
    """Who took part in a poll; one per resident and poll, enforced by the database."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="participations"
    )
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="participations")
    voted_at = models.DateTimeField(_("voted at"), default=timezone.now)
    # Building surveys: the voter's verified apartment; in a one-vote-per-apartment survey
    # ``one_per_apartment`` is set and the database lets one participation per apartment in.
    apartment = models.CharField(_("apartment"), max_length=10, blank=True, db_default="")
    one_per_apartment = models.BooleanField(default=False, db_default=False)
    # The ballot's receipt, sealed to the election commission's offline audit key
    # (docs/decisions/0009): only that key opens it, to flag a suspended account's ballots.
    sealed_receipt = models.BinaryField(null=True, editable=False)

    class Meta:
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        constraints = [
            models.UniqueConstraint(fields=["user", "poll"], name="participation_once_per_poll"),
            models.UniqueConstraint(
                fields=["poll", "apartment"],
                condition=Q(one_per_apartment=True),
                name="participation_once_per_apartment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.poll_id}"


class AgeBand(models.TextChoices):
    UNDER_18 = "u18", _("under 18")
    FROM_18 = "18-24", "18–24"
    FROM_25 = "25-34", "25–34"
    FROM_35 = "35-44", "35–44"
    FROM_45 = "45-54", "45–54"
    FROM_55 = "55-64", "55–64"
    FROM_65 = "65+", _("65 and over")
    UNKNOWN = "unknown", _("not given")


class Ballot(models.Model):
    """What was chosen, with a coarse snapshot of the voter for breakdowns; no link to who."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="ballots")
    receipt = models.CharField(
        _("receipt"), max_length=RECEIPT_LENGTH, unique=True, default=new_receipt
    )
    okrug = models.ForeignKey(Okrug, on_delete=models.PROTECT, null=True, related_name="+")
    district = models.ForeignKey(District, on_delete=models.PROTECT, null=True, related_name="+")
    age_band = models.CharField(_("age band"), max_length=8, choices=AgeBand.choices)
    gender = models.CharField(_("gender"), max_length=12, blank=True)
    # Open-ballot building surveys only: who voted, for the neighbours to see. Secret ballots
    # never have it (docs/decisions/0006).
    voter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    apartment = models.CharField(_("apartment"), max_length=10, blank=True, db_default="")

    class Meta:
        verbose_name = _("ballot")
        verbose_name_plural = _("ballots")

    def __str__(self) -> str:
        return self.receipt


class Answer(models.Model):
    """One answer on a ballot. Its shape depends on the question kind:

    single / multiple: ``option`` (and ``text`` for "Other"); scale: ``value``;
    ranking: ``option`` and ``value`` = its place (1 = first); matrix: ``option`` = the row
    and ``value`` = the rating; free text: ``text``.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    ballot = models.ForeignKey(Ballot, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    option = models.ForeignKey(Option, on_delete=models.PROTECT, null=True, related_name="answers")
    value = models.SmallIntegerField(null=True)
    text = models.TextField(blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        indexes = [
            models.Index(fields=["question", "option", "value"], name="answer_tally"),
        ]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.option_id or self.value or self.text[:30]}"


class PollTally(models.Model):
    """The stored count of a poll: refreshed every minute while a live poll is open, and
    computed once, finally, after it closes. Pages, API and exports read only these tables."""

    poll = models.OneToOneField(Poll, on_delete=models.CASCADE, related_name="tally")
    participants = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()
    final = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("tally")
        verbose_name_plural = _("tallies")

    def __str__(self) -> str:
        return f"{self.poll_id}: {self.participants}"


class QuestionTally(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="+")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    answered = models.PositiveIntegerField()  # ballots that answered the question
    average = models.FloatField(null=True)  # scale questions

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["question"], name="question_tally_once"),
        ]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.answered}"


class Dimension(models.TextChoices):
    CITY = "", _("whole city")
    OKRUG = "okrug", _("okrug")
    DISTRICT = "district", _("district")
    AGE_BAND = "age_band", _("age band")
    GENDER = "gender", _("gender")


class OptionTally(models.Model):
    """How many answers chose ``option`` (or ``value``, or the pair for ranking and matrix),
    citywide (dimension "") or in one group of a breakdown (e.g. district 17)."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="+")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    option = models.ForeignKey(Option, on_delete=models.CASCADE, null=True, related_name="+")
    value = models.SmallIntegerField(null=True)
    dimension = models.CharField(max_length=10, choices=Dimension.choices, blank=True)
    group = models.CharField(max_length=20, blank=True)  # okrug/district id, age band, gender
    count = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["poll", "dimension"], name="option_tally_poll")]

    def __str__(self) -> str:
        return f"{self.question_id}/{self.option_id}/{self.value}: {self.count}"


class GroupTally(models.Model):
    """Ballots per breakdown group: the denominator, and what hides groups under 10."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="+")
    dimension = models.CharField(max_length=10, choices=Dimension.choices)
    group = models.CharField(max_length=20, blank=True)
    ballots = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["poll", "dimension"], name="group_tally_poll")]

    def __str__(self) -> str:
        return f"{self.dimension}={self.group}: {self.ballots}"


class ExportKind(models.TextChoices):
    RESULTS = "results", _("Results")
    BREAKDOWN = "breakdown", _("Breakdown")
    BALLOTS = "ballots", _("Anonymised ballots")
    PARTICIPATION = "participation", _("Participation")


class ExportRecord(models.Model):
    """Who downloaded which export of which poll, and when."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="exports")
    kind = models.CharField(_("export"), max_length=20, choices=ExportKind.choices)
    file_name = models.CharField(_("file"), max_length=200)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("export")
        verbose_name_plural = _("exports")

    def __str__(self) -> str:
        return self.file_name


class BuildingSurvey(Poll):
    """Building surveys, for moderation in the admin."""

    class Meta:
        proxy = True
        verbose_name = _("building survey")
        verbose_name_plural = _("building surveys")


class SurveyReport(models.Model):
    """A resident's report of a building survey to the city's moderators; one each."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="reports")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("by")
    )
    reason = models.CharField(_("reason"), max_length=500)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        constraints = [
            models.UniqueConstraint(fields=["poll", "user"], name="survey_report_once_per_user")
        ]

    def __str__(self) -> str:
        return self.reason[:60]


# --- decisions taken after polls (docs/decisions/0008) -----------------------------------------


class DecisionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    DECLINED = "declined", pgettext_lazy("decision", "Declined")


class Decision(models.Model):
    """What the city decided after a closed poll, recorded by a city admin.

    What was decided (poll, text, responsible body, date) never changes once recorded; its
    progress is told by its updates (``DecisionUpdate``), and ``status`` is the status of
    the latest one. Triggers (migration 0014) hold both rules."""

    poll = models.ForeignKey(
        Poll, on_delete=models.PROTECT, related_name="decisions", verbose_name=_("poll")
    )
    text = models.TextField(_("decision"), max_length=2000)
    responsible_body = models.CharField(_("responsible body"), max_length=300)
    decided_on = models.DateField(_("decision date"))
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=DecisionStatus.choices,
        default=DecisionStatus.PLANNED,
        db_default=DecisionStatus.PLANNED,
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)
    # Stamped once the poll's participants are notified (services.decision_announce).
    announced_at = models.DateTimeField(_("announced"), null=True, blank=True, editable=False)
    done_announced_at = models.DateTimeField(
        _("announced as done"), null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["-decided_on", "-pk"]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DecisionStatus.values), name="decision_status_known"
            ),
            models.CheckConstraint(
                condition=Q(text__regex=r"\S") & Q(responsible_body__regex=r"\S"),
                name="decision_says_what_and_who",
            ),
        ]
        indexes = [models.Index(fields=["status"], name="decision_status")]

    def __str__(self) -> str:
        return Truncator(self.text).chars(60)


class DecisionUpdate(models.Model):
    """One step of a decision's progress, append-only: its status from ``date`` on, with a
    note (the reason, for a decline). The first one is the recording itself."""

    decision = models.ForeignKey(
        Decision, on_delete=models.PROTECT, related_name="updates", verbose_name=_("decision")
    )
    status = models.CharField(_("status"), max_length=12, choices=DecisionStatus.choices)
    note = models.TextField(_("note"), max_length=2000, blank=True, db_default="")
    date = models.DateField(_("date"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("written"), default=timezone.now)

    class Meta:
        ordering = ["decision", "pk"]
        verbose_name = _("decision update")
        verbose_name_plural = _("decision updates")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DecisionStatus.values), name="decision_update_status_known"
            ),
            models.CheckConstraint(
                condition=~Q(status=DecisionStatus.DECLINED) | Q(note__regex=r"\S"),
                name="decision_declined_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.decision_id}: {self.status} ({self.date})"


# --- flags on suspended accounts' ballots (docs/decisions/0009) -------------------------------


class BallotFlagRun(models.Model):
    """One run of ``manage.py ballots_flag`` for one poll: the election commission opened the
    sealed receipts of the participations of accounts suspended at that time. Its flags are
    the poll's current set until the next run; a recount may leave them out. Append-only."""

    poll = models.ForeignKey(
        Poll, on_delete=models.PROTECT, related_name="flag_runs", verbose_name=_("poll")
    )
    created_at = models.DateTimeField(_("flagged"), default=timezone.now)
    suspended_participations = models.PositiveIntegerField(
        _("participations of suspended accounts")
    )
    unlinked = models.PositiveIntegerField(
        _("not linkable"),
        help_text=_("Participations whose receipt was not sealed, or not to this key."),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["poll", "-created_at", "-pk"]
        get_latest_by = ["created_at", "pk"]
        verbose_name = _("ballot flagging")
        verbose_name_plural = _("ballot flaggings")

    def __str__(self) -> str:
        return f"{self.poll_id}: {self.created_at:%Y-%m-%d %H:%M}"


class BallotFlag(models.Model):
    """A ballot cast from an account suspended when ``run`` was made. It names no account:
    the flag only says the ballot may be left out of a recount. Append-only."""

    run = models.ForeignKey(BallotFlagRun, on_delete=models.PROTECT, related_name="flags")
    ballot = models.ForeignKey(Ballot, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("ballot flag")
        verbose_name_plural = _("ballot flags")
        constraints = [
            models.UniqueConstraint(fields=["run", "ballot"], name="ballot_flag_once_per_run")
        ]

    def __str__(self) -> str:
        return f"{self.run_id}: {self.ballot_id}"


# --- the ballot log (docs/decisions/0007) -----------------------------------------------------


class LogLeaf(models.Model):
    """A ballot's place in its poll's append-only Merkle log, and its leaf hash."""

    poll = models.ForeignKey(Poll, on_delete=models.PROTECT, related_name="+")
    index = models.PositiveIntegerField()
    ballot = models.OneToOneField(Ballot, on_delete=models.PROTECT, related_name="log_leaf")
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["poll", "index"], name="log_leaf_once")]

    def __str__(self) -> str:
        return f"{self.poll_id}#{self.index}"


class LogNode(models.Model):
    """The hash of a complete subtree above the leaves: ``2**level`` leaves from leaf
    ``index * 2**level``. Stored once complete, so a proof reads O(log n) rows."""

    poll = models.ForeignKey(Poll, on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField()
    index = models.PositiveIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["poll", "level", "index"], name="log_node_once")
        ]

    def __str__(self) -> str:
        return f"{self.poll_id}@{self.level}/{self.index}"


class TreeHead(models.Model):
    """A signed checkpoint of a poll's log: its size and root at a time, with the proof that
    it extends the previous checkpoint without changing it."""

    poll = models.ForeignKey(Poll, on_delete=models.PROTECT, related_name="tree_heads")
    size = models.PositiveIntegerField(_("ballots"))
    root = models.CharField(_("root hash"), max_length=64)
    created_at = models.DateTimeField(_("time"))
    signature = models.CharField(_("signature"), max_length=128)
    consistency_proof = models.JSONField(default=list)  # hex hashes, from the previous head

    class Meta:
        ordering = ["poll", "size"]
        verbose_name = _("tree head")
        verbose_name_plural = _("tree heads")
        constraints = [models.UniqueConstraint(fields=["poll", "size"], name="tree_head_once")]

    def __str__(self) -> str:
        return f"{self.poll_id}: {self.size}"

    @property
    def time(self) -> str:
        """The signed spelling of ``created_at``: UTC, to the second."""
        return self.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
