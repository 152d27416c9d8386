"""The city novelties API: the same selectors, rules and services as the pages."""

from django.conf import settings
from django.http import Http404
from django.utils import timezone
from django.utils.functional import cached_property
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.rules import AccountSuspended
from accounts.selectors import visitor_with_home
from civic.api import ApiError
from novelties.models import Category, Novelty
from novelties.rules import refusal_status
from novelties.selectors import (
    novelties_near,
    novelty_cards,
    novelty_page,
    novelty_ranking,
    rating_stats,
    visible_novelty,
)
from novelties.serializers import (
    NoveltyCardSerializer,
    NoveltyDetailSerializer,
    RankingInputSerializer,
    RankingSerializer,
    RateInputSerializer,
    RateOutputSerializer,
)
from novelties.services import InvalidRating, RatingRefused, novelty_rate
from polls.serializers import ErrorSerializer

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}


def _published_novelty(novelty_id: int) -> Novelty:
    novelty = visible_novelty(novelty_id=novelty_id)
    if novelty is None:
        raise Http404
    return novelty


class NoveltyListView(generics.ListAPIView):
    """Published novelties: for a resident with an address, those of their district first,
    then of their okrug, then the rest of the city (``nearness``); newest first within each.
    Each with its counted ratings, the resident's own rating and whether they may rate."""

    serializer_class = NoveltyCardSerializer

    @cached_property
    def visitor(self):
        return visitor_with_home(user=self.request.user)

    def get_queryset(self):
        return novelties_near(user=self.visitor)

    @extend_schema(responses={200: NoveltyCardSerializer(many=True), 404: ErrorSerializer})
    def get(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        listing = novelty_cards(user=self.visitor, novelties=page)
        serializer = NoveltyCardSerializer(listing.cards, many=True, context={"request": request})
        return self.get_paginated_response(serializer.data)


class NoveltyDetailView(APIView):
    @extend_schema(responses={200: NoveltyDetailSerializer, 404: ErrorSerializer})
    def get(self, request, novelty_id: int):
        """A published novelty with its photos, counted ratings, latest comments, the
        resident's own rating and whether (and why not) they may rate it."""
        novelty = _published_novelty(novelty_id)
        page = novelty_page(user=visitor_with_home(user=request.user), novelty=novelty)
        return Response(NoveltyDetailSerializer(page, context={"request": request}).data)


class RateView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_scope = "rating"

    @extend_schema(
        request=RateInputSerializer,
        responses={
            200: RateOutputSerializer,
            201: RateOutputSerializer,
            409: ErrorSerializer,
            429: ErrorSerializer,
            **ERRORS,
        },
    )
    def post(self, request, novelty_id: int):
        """Rate a novelty from 1 to 5 stars with an optional comment (201), or change your
        rating while it is open (200). The first rating of a novelty earns points, once.
        Refusals name their reason in ``code``: ``email_unverified``, ``profile_incomplete``,
        ``account_suspended``, ``rating_closed``, ``daily_limit`` (429)."""
        novelty = _published_novelty(novelty_id)
        body = RateInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            saved = novelty_rate(
                user=visitor_with_home(user=request.user),
                novelty=novelty,
                stars=body.validated_data["stars"],
                comment=body.validated_data["comment"],
            )
        except InvalidRating as invalid:
            raise ApiError(
                status_code=400,
                code=invalid.code,
                detail=str(invalid),
                errors={invalid.field: [str(invalid)]},
            ) from invalid
        except RatingRefused as refused:
            raise ApiError(
                status_code=refusal_status(refused.refusal.code),
                code=refused.refusal.code,
                detail=refused.refusal.message,
            ) from refused
        except AccountSuspended as suspended:
            raise ApiError.refusal(suspended) from suspended
        output = {
            "created": saved.created,
            "points_awarded": saved.points,
            "my_rating": saved.rating,
            "stats": rating_stats(novelty_ids=[novelty.pk])[novelty.pk],
        }
        return Response(
            RateOutputSerializer(output).data,
            status=status.HTTP_201_CREATED if saved.created else status.HTTP_200_OK,
        )


class RankingView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("month", str, description="YYYY-MM; this month by default"),
            OpenApiParameter("category", enum=Category.values, required=False),
            OpenApiParameter("okrug", int, description="an okrug id (see /api/areas/)"),
        ],
        responses={200: RankingSerializer, 400: ErrorSerializer},
    )
    def get(self, request):
        """The best and worst rated novelties dated in a month, by the average of their
        counted ratings (at least ``min_ratings`` each), optionally of one category and
        one okrug."""
        query = RankingInputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        ranking = novelty_ranking(
            month=filters.get("month") or timezone.localdate(),
            category=filters.get("category", ""),
            okrug_id=filters.get("okrug"),
            min_ratings=settings.NOVELTY_RANKING_MIN_RATINGS,
        )
        return Response(RankingSerializer(ranking).data)
