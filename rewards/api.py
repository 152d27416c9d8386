"""Points and the rewards shop in the API, through the same selectors and services."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from civic.api import ApiError
from polls.serializers import ErrorSerializer
from rewards.models import LedgerEntry, Redemption, Reward
from rewards.selectors import (
    ledger_history,
    resident_redemptions,
    resident_standing,
    rewards_catalogue,
)
from rewards.services import RewardsError, reward_redeem


class LedgerEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = LedgerEntry
        fields = ["id", "amount", "reason", "source", "comment", "created_at"]


class StandingSerializer(serializers.Serializer):
    balance = serializers.IntegerField()
    lifetime = serializers.IntegerField()
    status = serializers.CharField(source="level.name", allow_null=True, default=None)
    next_status = serializers.CharField(source="next_level.name", allow_null=True, default=None)
    to_next_status = serializers.IntegerField(source="to_next_level", allow_null=True)


class RewardSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reward
        fields = [
            "id",
            "title",
            "description",
            "category",
            "cost",
            "stock",
            "per_resident_limit",
            "available_until",
            "is_donation",
        ]


class RedemptionSerializer(serializers.ModelSerializer):
    reward = serializers.CharField(source="reward.title")

    class Meta:
        model = Redemption
        fields = ["id", "reward", "cost", "voucher", "status", "created_at"]


class PointsView(generics.ListAPIView):
    """Balance, status and the history of points, newest first (paginated)."""

    permission_classes = [IsAuthenticated]
    serializer_class = LedgerEntrySerializer

    def get_queryset(self):
        return ledger_history(user=self.request.user)

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        response.data["standing"] = StandingSerializer(resident_standing(user=request.user)).data
        return response


class RewardListView(generics.ListAPIView):
    serializer_class = RewardSerializer

    def get_queryset(self):
        return rewards_catalogue(category=self.request.query_params.get("category", ""))


class RedeemView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_scope = "redeem"

    @extend_schema(
        request=None,
        responses={
            201: RedemptionSerializer,
            401: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
            429: ErrorSerializer,
        },
    )
    def post(self, request, reward_id: int):
        if not Reward.objects.filter(pk=reward_id).exists():
            raise Http404
        try:
            redemption = reward_redeem(user=request.user, reward_id=reward_id)
        except RewardsError as refused:
            raise ApiError.refusal(refused) from refused
        return Response(RedemptionSerializer(redemption).data, status=status.HTTP_201_CREATED)


class RedemptionListView(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = RedemptionSerializer

    def get_queryset(self):
        return resident_redemptions(user=self.request.user)
