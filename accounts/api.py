"""The resident's own profile in the API."""

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.forms import apartment_validator
from accounts.models import MIN_BIRTH_YEAR, Gender
from accounts.notifications import notification_text, notifications_mark_read
from accounts.privacy import DeletionRefused, account_delete, personal_data_document
from accounts.selectors import latest_claim, resident_with_home
from accounts.services import (
    HomeMoveTooSoon,
    ProfileChanges,
    ProfileError,
    ResidencyError,
    profile_update,
    residency_claim_request,
    residency_verify_code,
)
from civic.api import ApiError
from civic.models import Building
from polls.serializers import ErrorSerializer
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
    email_notifications = serializers.BooleanField()
    verified_building = serializers.IntegerField(source="verified_building_id", allow_null=True)
    verified_apartment = serializers.CharField()
    points_balance = serializers.IntegerField()
    status = serializers.CharField(allow_null=True)


class ProfileInput(serializers.Serializer):
    """The profile form's rules, for the API (PATCH: send only what changes)."""

    home_building = serializers.PrimaryKeyRelatedField(
        queryset=Building.objects.all(), allow_null=True
    )
    apartment = serializers.RegexField(apartment_validator.regex, allow_blank=True, max_length=10)
    birth_year = serializers.IntegerField(min_value=MIN_BIRTH_YEAR, allow_null=True)
    gender = serializers.ChoiceField(choices=["", *Gender.values])
    language = serializers.ChoiceField(choices=[code for code, _name in settings.LANGUAGES])
    email_notifications = serializers.BooleanField()


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: MeSerializer})
    def get(self, request):
        return Response(_me(request.user.pk))

    @extend_schema(
        request=ProfileInput,
        responses={200: MeSerializer, 400: ErrorSerializer, 409: ErrorSerializer},
    )
    def patch(self, request):
        resident = resident_with_home(user_id=request.user.pk)
        body = ProfileInput(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        current = {
            "home_building": resident.home_building,
            "apartment": resident.apartment,
            "birth_year": resident.birth_year,
            "gender": resident.gender,
            "language": resident.language,
            "email_notifications": resident.email_notifications,
        }
        changes = ProfileChanges(**(current | body.validated_data))  # no building: keep it
        try:
            profile_update(user=resident, changes=changes)
        except HomeMoveTooSoon as error:
            raise ApiError(status_code=409, code="home_move_too_soon", detail=str(error)) from error
        except ProfileError as error:
            raise ApiError(
                status_code=400,
                code="invalid",
                detail=str(error),
                errors={error.field: [str(error)]},
            ) from error
        return Response(_me(resident.pk))


def _me(user_id: int) -> dict:
    resident = resident_with_home(user_id=user_id)
    standing = resident_standing(user=resident)
    resident.points_balance = standing.balance
    resident.status = standing.level.name if standing.level else None
    return MeSerializer(resident).data


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField(source="text.title")
    body = serializers.CharField(source="text.body")
    url = serializers.CharField()
    created_at = serializers.DateTimeField()
    read = serializers.BooleanField(source="is_read")


class NotificationListView(generics.ListAPIView):
    """The resident's notifications, newest first, in their language."""

    permission_classes = [IsAuthenticated]
    serializer_class = NotificationSerializer

    def get_queryset(self):
        return self.request.user.notifications.all()

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        for notification in page:
            notification.text = notification_text(notification)
            notification.is_read = notification.read_at is not None
        return self.get_paginated_response(NotificationSerializer(page, many=True).data)


class MarkReadInput(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
        required=False,
        max_length=1000,
    )


class MarkReadView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=MarkReadInput, responses={200: None})
    def post(self, request):
        body = MarkReadInput(data=request.data)
        body.is_valid(raise_exception=True)
        marked = notifications_mark_read(user=request.user, ids=body.validated_data.get("ids"))
        return Response({"marked": marked})


# --- residency ------------------------------------------------------------------------------


class ClaimSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    building = serializers.IntegerField(source="building_id")
    address = serializers.CharField(source="building.address")
    apartment = serializers.CharField()
    status = serializers.CharField()
    method = serializers.CharField()
    reason = serializers.CharField(help_text="The staff's reason, when they decided.")
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


class ResidencySerializer(serializers.Serializer):
    verified_building = serializers.IntegerField(
        source="resident.verified_building_id", allow_null=True
    )
    verified_apartment = serializers.CharField(source="resident.verified_apartment")
    latest_claim = ClaimSerializer(source="claim", allow_null=True)


class CodeInput(serializers.Serializer):
    code = serializers.CharField(max_length=40)


class ClaimInput(serializers.Serializer):
    note = serializers.CharField(max_length=500, allow_blank=True, default="")


def _residency(user_id: int) -> dict:
    resident = resident_with_home(user_id=user_id)
    return ResidencySerializer({"resident": resident, "claim": latest_claim(user=resident)}).data


class ResidencyView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: ResidencySerializer})
    def get(self, request):
        """Whether you are a verified resident of your home building, and your latest claim."""
        return Response(_residency(request.user.pk))


class ResidencyVerifyView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_scope = "residency_code"

    @extend_schema(
        request=CodeInput,
        responses={
            200: ResidencySerializer,
            400: ErrorSerializer,
            409: ErrorSerializer,
            429: ErrorSerializer,
        },
    )
    def post(self, request):
        """Verify your home building and apartment with the code from the city's letter.
        Wrong codes are limited per hour, and so are tries (429 with the time to try again)."""
        body = CodeInput(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            residency_verify_code(user=request.user, code=body.validated_data["code"])
        except ResidencyError as error:
            raise ApiError.refusal(error) from error
        return Response(_residency(request.user.pk))


class ResidencyClaimView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=ClaimInput,
        responses={201: ResidencySerializer, 400: ErrorSerializer, 409: ErrorSerializer},
    )
    def post(self, request):
        """Ask the city staff to verify your home building and apartment."""
        body = ClaimInput(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            residency_claim_request(user=request.user, note=body.validated_data["note"])
        except ResidencyError as error:
            raise ApiError.refusal(error) from error
        return Response(_residency(request.user.pk), status=201)


# --- the resident's data, and deleting the account (accounts/privacy.py) -----------------------


class PersonalDataView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        """Everything Civic keeps about you, one section per part of the site (the same
        document as the profile's "Download my data")."""
        return HttpResponse(
            personal_data_document(user=request.user), content_type="application/json"
        )


class AccountDeleteInput(serializers.Serializer):
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    code = serializers.CharField(
        max_length=40,
        required=False,
        default="",
        allow_blank=True,
        help_text="With two-factor authentication on: a code from the app or a recovery code.",
    )


class AccountDeleteView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=AccountDeleteInput,
        responses={204: None, 400: ErrorSerializer, 429: ErrorSerializer},
    )
    def post(self, request):
        """Delete your account for good: your personal data is erased, your ballots stay
        counted without your name, your session tokens stop working (docs/decisions/0010).
        400 ``wrong_password``, ``code_required`` or ``wrong_code`` when not confirmed."""
        body = AccountDeleteInput(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            account_delete(user=request.user, **body.validated_data)
        except DeletionRefused as error:
            raise ApiError(
                status_code=400,
                code=error.code,
                detail=str(error),
                errors={error.field: [str(error)]},
            ) from error
        return Response(status=204)
