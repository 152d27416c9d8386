"""API shapes for public discussions: input serializers check shape only; services decide."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from discussions.models import POST_MAX_LENGTH, PostKind, ReportReason
from polls.serializers import StrictSerializer


class AreaNamesField(serializers.ListField):
    child = serializers.CharField()

    def to_representation(self, manager):
        return [area.name for area in manager.all()]


class DiscussionFieldsSerializer(serializers.Serializer):
    """What a list card and the detail share."""

    id = serializers.IntegerField(source="discussion.pk")
    title = serializers.CharField(source="discussion.title")
    scope = serializers.CharField(source="discussion.scope")
    okrugs = AreaNamesField(source="discussion.okrugs")
    districts = AreaNamesField(source="discussion.districts")
    opens_at = serializers.DateTimeField(source="discussion.opens_at")
    closes_at = serializers.DateTimeField(source="discussion.closes_at")
    phase = serializers.SerializerMethodField()
    can_post = serializers.SerializerMethodField()
    reason = serializers.CharField(source="refusal.code", allow_null=True, default=None)
    reason_detail = serializers.CharField(source="refusal.message", allow_null=True, default=None)

    @extend_schema_field(serializers.ChoiceField(choices=["upcoming", "open", "closed"]))
    def get_phase(self, item) -> str:
        return str(item.discussion.phase())

    def get_can_post(self, item) -> bool:
        return item.refusal is None


class DiscussionCardSerializer(DiscussionFieldsSerializer):
    post_count = serializers.IntegerField(source="discussion.post_count")
    proposal_count = serializers.IntegerField(source="discussion.proposal_count")


class DiscussionDocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    kind = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ChoiceField(choices=["pdf", "image"]))
    def get_kind(self, document) -> str:
        return "pdf" if document.is_pdf else "image"

    def get_url(self, document) -> str:
        return self.context["request"].build_absolute_uri(document.file.url)


class DiscussionAnswerSerializer(serializers.Serializer):
    text = serializers.CharField(source="answer")
    answered_at = serializers.DateTimeField()


class DiscussionPostSerializer(serializers.Serializer):
    """A post as this visitor may see it: a hidden post's text and reason are for its
    author only; an erased post has neither text nor author."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=PostKind.choices)
    reply_to = serializers.IntegerField(source="parent_id", allow_null=True)
    author_district = serializers.CharField(
        source="author_district.name", allow_null=True, default=None
    )
    mine = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    text = serializers.CharField(source="text_shown", allow_null=True)
    hidden = serializers.SerializerMethodField()
    hidden_reason = serializers.SerializerMethodField()
    erased = serializers.SerializerMethodField()
    reported = serializers.BooleanField()

    def get_hidden(self, post) -> bool:
        return post.hidden_at is not None

    def get_hidden_reason(self, post) -> str | None:
        return post.hidden_reason if post.hidden_at is not None and post.mine else None

    def get_erased(self, post) -> bool:
        return post.erased_at is not None


class DiscussionThreadSerializer(DiscussionPostSerializer):
    """A top-level post with its supports (proposals), official answer and replies."""

    supports = serializers.IntegerField(source="support_count")
    supported = serializers.BooleanField()
    official_answer = serializers.SerializerMethodField()
    replies = DiscussionPostSerializer(many=True, source="replies.all")

    @extend_schema_field(DiscussionAnswerSerializer(allow_null=True))
    def get_official_answer(self, post) -> dict | None:
        return DiscussionAnswerSerializer(post).data if post.answer_shown else None


class DiscussionTopProposalSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    post = serializers.IntegerField(source="post_id")
    supports = serializers.IntegerField()


class DiscussionSummarySerializer(serializers.Serializer):
    participants = serializers.IntegerField()
    comments = serializers.IntegerField()
    replies = serializers.IntegerField()
    proposals = serializers.IntegerField()
    supports = serializers.IntegerField()
    published_at = serializers.DateTimeField()
    top = DiscussionTopProposalSerializer(many=True, source="top.all")


class DiscussionPostPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = DiscussionThreadSerializer(many=True)


class DiscussionDetailSerializer(DiscussionFieldsSerializer):
    description = serializers.CharField(source="discussion.description")
    documents = DiscussionDocumentSerializer(many=True, source="discussion.documents.all")
    summary = DiscussionSummarySerializer(allow_null=True)
    posts = serializers.SerializerMethodField()

    @extend_schema_field(DiscussionPostPageSerializer)
    def get_posts(self, page) -> dict:
        posts = page.posts
        request = self.context["request"]

        def link(number):
            return request.build_absolute_uri(f"{request.path}?page={number}")

        return DiscussionPostPageSerializer(
            {
                "count": posts.paginator.count,
                "next": link(posts.next_page_number()) if posts.has_next() else None,
                "previous": link(posts.previous_page_number()) if posts.has_previous() else None,
                "results": list(posts),
            },
            context=self.context,
        ).data


class DiscussionPostInputSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=PostKind.choices)
    text = serializers.CharField(max_length=POST_MAX_LENGTH)


class DiscussionReplyInputSerializer(StrictSerializer):
    text = serializers.CharField(max_length=POST_MAX_LENGTH)


class DiscussionReportInputSerializer(StrictSerializer):
    reason = serializers.ChoiceField(choices=ReportReason.choices)


class DiscussionSupportOutputSerializer(serializers.Serializer):
    supports = serializers.IntegerField()
