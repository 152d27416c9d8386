"""The city map in the API: okrugs with districts, and the building search."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from civic.models import Building, District, Okrug
from civic.selectors import building_search, okrugs_with_districts


class DistrictSerializer(serializers.ModelSerializer):
    class Meta:
        model = District
        fields = ["id", "name"]


class OkrugSerializer(serializers.ModelSerializer):
    districts = DistrictSerializer(many=True)

    class Meta:
        model = Okrug
        fields = ["id", "name", "districts"]


class BuildingSerializer(serializers.ModelSerializer):
    district = serializers.CharField(source="district.name")
    okrug = serializers.CharField(source="district.okrug.name")

    class Meta:
        model = Building
        fields = [
            "id",
            "address",
            "street",
            "house",
            "korpus",
            "postcode",
            "apartments",
            "district",
            "okrug",
        ]


class AreasView(APIView):
    @extend_schema(responses={200: OkrugSerializer(many=True)})
    def get(self, request):
        return Response(OkrugSerializer(okrugs_with_districts(), many=True).data)


class BuildingsView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("search", required=True, description="Street and house")],
        responses={200: BuildingSerializer(many=True)},
    )
    def get(self, request):
        query = request.query_params.get("search", "")[:200]
        return Response(BuildingSerializer(building_search(query=query), many=True).data)
