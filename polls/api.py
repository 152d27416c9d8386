"""The polls API: the same selectors and services as the pages, so every rule holds."""

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import visitor_with_home
from civic.api import ApiError, Pagination
from civic.ratelimits import ScopedRateLimit
from polls.forms import DecisionFilterForm
from polls.models import DecisionStatus, Poll, Scope
from polls.rules import refusal_status
from polls.selectors import (
    building_surveys_visible,
    decision_counts,
    decisions_public,
    poll_cards,
    poll_decisions,
    poll_results,
    poll_with_questions,
    published_polls,
    survey_for_resident,
    survey_turnout,
    visible_poll,
)
from polls.serializers import (
    STATES,
    DecisionPageSerializer,
    ErrorSerializer,
    PollCardSerializer,
    PollDetailSerializer,
    PollInputSerializer,
    ReportInputSerializer,
    ResultsSerializer,
    SurveyInputSerializer,
    VoteInputSerializer,
    VoteOutputSerializer,
    state_phase,
    vote_answer_inputs,
)
from polls.services import (
    PollError,
    SurveyError,
    VoteRefused,
    ballot_cast,
    poll_create,
    poll_publish,
    survey_create,
    survey_report,
)
from polls.staff import export_response
from polls.validation import InvalidBallot

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}


def _visible_poll(request, poll_id: int) -> Poll:
    """A published city poll, or a building survey for its verified residents; else 404."""
    poll = visible_poll(user=request.user, poll_id=poll_id)
    if poll is None:
        raise Http404
    return poll


class IsCityAdmin(BasePermission):
    message = "Only city admins may create and publish polls."

    def has_permission(self, request, view):
        return request.user.has_perm("polls.add_poll")


class PollListView(generics.ListAPIView):
    serializer_class = PollCardSerializer

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsAuthenticated(), IsCityAdmin()]
        return super().get_permissions()

    @extend_schema(
        request=PollInputSerializer,
        responses={
            201: PollDetailSerializer,
            400: ErrorSerializer,
            401: ErrorSerializer,
            403: ErrorSerializer,
        },
    )
    def post(self, request):
        """Create a draft poll with nested questions and options (city admins)."""
        body = PollInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        poll = poll_create(data=dict(body.validated_data), created_by=request.user)
        return Response(
            PollDetailSerializer(poll_with_questions(poll_id=poll.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        parameters=[OpenApiParameter("state", enum=list(STATES), required=False)],
        responses={200: PollCardSerializer(many=True), 400: ErrorSerializer},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        phase = state_phase(self.request.query_params.get("state"))
        return published_polls(user=self.request.user, phase=phase)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        cards = poll_cards(user=visitor_with_home(user=request.user), polls=page)
        return self.get_paginated_response(PollCardSerializer(cards, many=True).data)


class PollDetailView(APIView):
    @extend_schema(responses={200: PollDetailSerializer, 404: ErrorSerializer})
    def get(self, request, poll_id: int):
        return Response(PollDetailSerializer(_visible_poll(request, poll_id)).data)


class VoteView(APIView):
    permission_classes = [IsAuthenticated]
    # The vote's own limit only: one Redis round trip. The API-wide per-resident throttle
    # (300/min) adds nothing to 20 votes a minute but two more round trips on every vote.
    throttle_classes = [ScopedRateLimit]
    throttle_scope = "vote"

    @extend_schema(
        request=VoteInputSerializer,
        responses={
            201: VoteOutputSerializer,
            409: ErrorSerializer,
            429: ErrorSerializer,
            **ERRORS,
        },
    )
    def post(self, request, poll_id: int):
        poll = _visible_poll(request, poll_id)
        answers = vote_answer_inputs(request.data)
        try:
            voter = visitor_with_home(user=request.user)
            cast = ballot_cast(user=voter, poll=poll, answers=answers)
        except InvalidBallot as invalid:
            errors = {
                str(key) if key else "ballot": messages for key, messages in invalid.errors.items()
            }
            raise ApiError(
                status_code=400, code="invalid_ballot", detail=str(invalid), errors=errors
            ) from invalid
        except VoteRefused as refused:
            raise ApiError(
                status_code=refusal_status(refused.refusal.code),
                code=refused.refusal.code,
                detail=refused.refusal.message,
            ) from refused
        output = {"receipt": cast.receipt, "points_awarded": cast.points}
        return Response(VoteOutputSerializer(output).data, status=status.HTTP_201_CREATED)


class ResultsView(APIView):
    @extend_schema(responses={200: ResultsSerializer, 403: ErrorSerializer, 404: ErrorSerializer})
    def get(self, request, poll_id: int):
        poll = _visible_poll(request, poll_id)
        if not poll.results_visible():
            raise ApiError(
                status_code=403,
                code="results_hidden",
                detail="Results are published after voting closes.",
            )
        results = poll_results(poll=poll)
        if poll.is_survey:
            results.turnout = survey_turnout(poll=poll)
        else:
            results.decisions = poll_decisions(poll=poll)
        return Response(ResultsSerializer(results).data)


class DecisionListView(APIView):
    """Decisions taken after city polls, newest first, with their progress; ``summary``
    counts everything the filters match (not only this page). The Decisions page shows
    the same."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("status", enum=DecisionStatus.values, required=False),
            OpenApiParameter(
                "okrug",
                int,
                required=False,
                description="An okrug id (see /api/areas/): polls held in it or its districts.",
            ),
            OpenApiParameter(
                "scope",
                enum=[Scope.CITY, Scope.AREAS],
                required=False,
                description="Polls of the whole city, or of chosen okrugs and districts.",
            ),
            OpenApiParameter("poll", int, required=False, description="One poll's decisions."),
            OpenApiParameter("page", int, required=False),
            OpenApiParameter("page_size", int, required=False, description="At most 100."),
        ],
        responses={200: DecisionPageSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request):
        filters = DecisionFilterForm(request.query_params)
        if not filters.is_valid():
            raise ApiError(
                status_code=400,
                code="invalid",
                detail=_("The filters are not valid."),
                errors={name: list(messages) for name, messages in filters.errors.items()},
            )
        decisions = decisions_public(filters=filters.filters())
        paginator = Pagination()
        page = paginator.paginate_queryset(decisions, request, view=self)
        body = {
            "count": paginator.page.paginator.count,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "summary": decision_counts(decisions=decisions),
            "results": page,
        }
        return Response(DecisionPageSerializer(body).data)


class ExportView(APIView):
    """The staff CSV exports, for integrations signed in with a staff session or token."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("sep", enum=["comma", "semicolon"], required=False)],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
    )
    def get(self, request, poll_id: int, kind: str):
        return export_response(request, poll_id=poll_id, kind=kind)


class PublishView(APIView):
    permission_classes = [IsAuthenticated, IsCityAdmin]

    @extend_schema(
        request=None,
        responses={200: PollDetailSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request, poll_id: int):
        try:
            poll = Poll.objects.get(pk=poll_id)
        except Poll.DoesNotExist as error:
            raise Http404 from error
        try:
            poll_publish(poll=poll)
        except PollError as error:
            raise ApiError(status_code=400, code="cannot_publish", detail=str(error)) from error
        return Response(PollDetailSerializer(poll_with_questions(poll_id=poll.pk)).data)


class BuildingSurveysView(generics.ListAPIView):
    """The surveys of a building, for its verified residents (anyone else: 404)."""

    permission_classes = [IsAuthenticated]
    serializer_class = PollCardSerializer

    def _check_resident(self, building_id: int) -> None:
        if self.request.user.verified_building_id != building_id:
            raise Http404

    @extend_schema(responses={200: PollCardSerializer(many=True), **ERRORS})
    def get(self, request, building_id: int):
        self._check_resident(building_id)
        page = self.paginate_queryset(building_surveys_visible(user=request.user))
        cards = poll_cards(user=visitor_with_home(user=request.user), polls=page)
        return self.get_paginated_response(PollCardSerializer(cards, many=True).data)

    @extend_schema(
        request=SurveyInputSerializer,
        responses={201: PollDetailSerializer, 409: ErrorSerializer, **ERRORS},
    )
    def post(self, request, building_id: int):
        """Create a survey for your building; it is published at once."""
        self._check_resident(building_id)
        body = SurveyInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            poll = survey_create(author=request.user, data=dict(body.validated_data))
        except SurveyError as error:
            raise ApiError.refusal(error) from error
        return Response(
            PollDetailSerializer(poll_with_questions(poll_id=poll.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class ReportView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=ReportInputSerializer,
        responses={204: None, 409: ErrorSerializer, **ERRORS},
    )
    def post(self, request, poll_id: int):
        """Report a building survey to the city's moderators."""
        poll = survey_for_resident(user=request.user, poll_id=poll_id)
        if poll is None:
            raise Http404
        body = ReportInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            survey_report(user=request.user, poll=poll, reason=body.validated_data["reason"])
        except SurveyError as error:
            raise ApiError.refusal(error) from error
        return Response(status=status.HTTP_204_NO_CONTENT)
