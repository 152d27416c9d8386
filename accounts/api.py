"""The resident's own profile in the API."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import resident_with_home
from rewards.selectors import resident_standing


class MeSerializer(serializers.Serializer):
    email = serializers.EmailField()
    home_building = serializers.IntegerField(source="home_building_id", allow_null=True)
    address = serializers.CharField(source="home_building.address", allow_null=True, default=None)
    district = serializers.CharField(
        source="home_building.district.name", allow_null=True, default=None
    )
    apartment = serializers.CharField()
    birth_year = serializers.IntegerField(allow_null=True)
    gender = serializers.CharField()
    language = serializers.CharField()
    points_balance = serializers.IntegerField()
    status = serializers.CharField(allow_null=True)


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: MeSerializer})
    def get(self, request):
        resident = resident_with_home(user_id=request.user.pk)
        standing = resident_standing(user=resident)
        resident.points_balance = standing.balance
        resident.status = standing.level.name if standing.level else None
        return Response(MeSerializer(resident).data)
