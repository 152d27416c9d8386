"""The public discussions API: the same selectors and services as the pages.

Reading is open to everyone; posting, replying, supporting and reporting need a signed-in
resident, and the services' refusals come back as ``{"code", "detail"}`` with the status
the rules give (403 out of the area or not allowed, 409 closed or already done, 400 bad
text, 429 over the "comment" rate).
"""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.rules import AccountSuspended
from accounts.selectors import visitor_with_home
from civic.api import ApiError
from discussions.models import Discussion, Post
from discussions.selectors import (
    discussion_cards,
    discussion_for_page,
    discussion_page,
    discussions_listed,
    post_as_seen,
    post_for_action,
)
from discussions.serializers import (
    DiscussionCardSerializer,
    DiscussionDetailSerializer,
    DiscussionPostInputSerializer,
    DiscussionPostSerializer,
    DiscussionReplyInputSerializer,
    DiscussionReportInputSerializer,
    DiscussionSupportOutputSerializer,
)
from discussions.services import (
    DiscussionError,
    post_create,
    post_report,
    proposal_support,
    reply_create,
)
from polls.serializers import STATES, ErrorSerializer, state_phase

ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    409: ErrorSerializer,
    429: ErrorSerializer,
}


def _discussion(discussion_id: int) -> Discussion:
    discussion = discussion_for_page(discussion_id=discussion_id)
    if discussion is None:
        raise Http404
    return discussion


def _post(post_id: int) -> Post:
    post = post_for_action(post_id=post_id)
    if post is None:
        raise Http404
    return post


def _created(post: Post, request) -> Response:
    post_as_seen(post, request.user)
    post.reported = False
    return Response(DiscussionPostSerializer(post).data, status=status.HTTP_201_CREATED)


class DiscussionListView(generics.ListAPIView):
    serializer_class = DiscussionCardSerializer

    @extend_schema(
        parameters=[OpenApiParameter("state", enum=list(STATES), required=False)],
        responses={200: DiscussionCardSerializer(many=True), 400: ErrorSerializer},
    )
    def get(self, request, *args, **kwargs):
        """Every discussion, open ones first, with whether you may take part and why not."""
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return discussions_listed(phase=state_phase(self.request.query_params.get("state")))

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        cards = discussion_cards(user=visitor_with_home(user=request.user), discussions=page)
        return self.get_paginated_response(DiscussionCardSerializer(cards, many=True).data)


class DiscussionDetailView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("page", int, required=False)],
        responses={200: DiscussionDetailSerializer, 404: ErrorSerializer},
    )
    def get(self, request, discussion_id: int):
        """The discussion with its documents, summary (once ended) and a page of its threads
        (30 top-level posts, newest first, each with its replies)."""
        page = discussion_page(
            discussion=_discussion(discussion_id),
            user=visitor_with_home(user=request.user),
            page_number=request.query_params.get("page", 1),
        )
        return Response(DiscussionDetailSerializer(page, context={"request": request}).data)


class PostCreateView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_scope = "comment"

    @extend_schema(
        request=DiscussionPostInputSerializer, responses={201: DiscussionPostSerializer, **ERRORS}
    )
    def post(self, request, discussion_id: int):
        """Post a comment or a proposal (residents of the area, while the discussion is open)."""
        discussion = _discussion(discussion_id)
        body = DiscussionPostInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            post = post_create(
                user=visitor_with_home(user=request.user),
                discussion=discussion,
                kind=body.validated_data["kind"],
                text=body.validated_data["text"],
            )
        except (DiscussionError, AccountSuspended) as error:
            raise ApiError.refusal(error) from error
        return _created(post, request)


class ReplyView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_scope = "comment"

    @extend_schema(
        request=DiscussionReplyInputSerializer, responses={201: DiscussionPostSerializer, **ERRORS}
    )
    def post(self, request, post_id: int):
        """Reply to a post. Replies go one level deep: a reply to a reply joins the thread of
        the top-level post (``reply_to`` in the answer says which)."""
        to = _post(post_id)
        body = DiscussionReplyInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            reply = reply_create(
                user=visitor_with_home(user=request.user), to=to, text=body.validated_data["text"]
            )
        except (DiscussionError, AccountSuspended) as error:
            raise ApiError.refusal(error) from error
        return _created(reply, request)


class SupportView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={201: DiscussionSupportOutputSerializer, **ERRORS})
    def post(self, request, post_id: int):
        """Support a proposal, once; not your own."""
        post = _post(post_id)
        try:
            supports = proposal_support(user=visitor_with_home(user=request.user), post=post)
        except (DiscussionError, AccountSuspended) as error:
            raise ApiError.refusal(error) from error
        return Response(
            DiscussionSupportOutputSerializer({"supports": supports}).data,
            status=status.HTTP_201_CREATED,
        )


class ReportView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=DiscussionReportInputSerializer, responses={204: None, **ERRORS})
    def post(self, request, post_id: int):
        """Report a post to the city's moderators; once each."""
        post = _post(post_id)
        body = DiscussionReportInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            post_report(user=request.user, post=post, reason=body.validated_data["reason"])
        except (DiscussionError, AccountSuspended) as error:
            raise ApiError.refusal(error) from error
        return Response(status=status.HTTP_204_NO_CONTENT)
