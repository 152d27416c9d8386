"""API shapes for city novelties: input serializers check shape only; services decide."""

from django.utils.translation import gettext as _
from rest_framework import serializers

from civic.models import Okrug
from novelties.forms import validate_ranking_month
from novelties.models import COMMENT_MAX_LENGTH, STARS, Category
from polls.serializers import StrictSerializer


class StarShareSerializer(serializers.Serializer):
    stars = serializers.IntegerField()
    count = serializers.IntegerField()
    percent = serializers.FloatField()


class RatingStatsSerializer(serializers.Serializer):
    average = serializers.FloatField(allow_null=True)
    count = serializers.IntegerField()
    distribution = StarShareSerializer(source="shares", many=True)


class MyRatingSerializer(serializers.Serializer):
    stars = serializers.IntegerField()
    comment = serializers.CharField()
    rated_at = serializers.DateTimeField(source="created_at")
    changed_at = serializers.DateTimeField(source="updated_at")


class RefusalSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class PlaceSerializer(serializers.Serializer):
    okrug = serializers.CharField(source="okrug.name", allow_null=True, default=None)
    district = serializers.CharField(source="district.name", allow_null=True, default=None)
    address = serializers.SerializerMethodField()
    label = serializers.CharField(source="place")

    def get_address(self, novelty) -> str:
        return novelty.building.address if novelty.building_id else novelty.address


class PhotoSerializer(serializers.Serializer):
    url = serializers.SerializerMethodField()
    alt_text = serializers.CharField()

    def get_url(self, photo) -> str:
        request = self.context.get("request")
        url = photo.image.url
        return request.build_absolute_uri(url) if request else url


class NoveltyFieldsSerializer(serializers.Serializer):
    """The novelty's own fields, for cards and the detail alike."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    category = serializers.ChoiceField(choices=Category.choices)
    category_label = serializers.CharField(source="get_category_display")
    place = PlaceSerializer(source="*")
    date = serializers.DateField(source="happened_on")
    rating_closes_at = serializers.DateTimeField()
    phase = serializers.SerializerMethodField()

    def get_phase(self, novelty) -> str:
        return novelty.phase().value


class NoveltyCardSerializer(serializers.Serializer):
    novelty = NoveltyFieldsSerializer()
    nearness = serializers.ChoiceField(choices=["district", "okrug", "city"])
    photo = PhotoSerializer(allow_null=True)
    stats = RatingStatsSerializer()
    my_rating = MyRatingSerializer(allow_null=True)
    can_rate = serializers.BooleanField()
    refusal = RefusalSerializer(allow_null=True)

    def to_representation(self, card):
        data = super().to_representation(card)
        data["nearness"] = ("district", "okrug", "city")[card.nearness]
        return data


class CommentSerializer(serializers.Serializer):
    stars = serializers.IntegerField()
    comment = serializers.CharField()
    changed_at = serializers.DateTimeField(source="updated_at")


class NoveltyDetailSerializer(serializers.Serializer):
    novelty = NoveltyFieldsSerializer()
    description = serializers.CharField(source="novelty.description")
    photos = PhotoSerializer(source="novelty.photos.all", many=True)
    stats = RatingStatsSerializer()
    my_rating = MyRatingSerializer(allow_null=True)
    can_rate = serializers.BooleanField()
    refusal = RefusalSerializer(allow_null=True)
    comments = CommentSerializer(many=True)
    comment_count = serializers.IntegerField()


class RateInputSerializer(StrictSerializer):
    stars = serializers.IntegerField(min_value=min(STARS), max_value=max(STARS))
    comment = serializers.CharField(
        required=False, allow_blank=True, max_length=COMMENT_MAX_LENGTH, default=""
    )


class RateOutputSerializer(serializers.Serializer):
    created = serializers.BooleanField()
    points_awarded = serializers.IntegerField()
    my_rating = MyRatingSerializer()
    stats = RatingStatsSerializer()


class RankingInputSerializer(serializers.Serializer):
    month = serializers.DateField(
        input_formats=["%Y-%m"], required=False, validators=[validate_ranking_month]
    )
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    okrug = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False)

    def validate_okrug(self, okrug_id: int) -> int:
        if not Okrug.objects.filter(pk=okrug_id).exists():
            raise serializers.ValidationError(_("No okrug has this id."))
        return okrug_id


class RankedNoveltySerializer(serializers.Serializer):
    novelty = NoveltyFieldsSerializer()
    stats = RatingStatsSerializer()


class RankingSerializer(serializers.Serializer):
    month = serializers.SerializerMethodField()
    min_ratings = serializers.IntegerField()
    best = RankedNoveltySerializer(many=True)
    worst = RankedNoveltySerializer(many=True)
    unranked = serializers.IntegerField()

    def get_month(self, ranking) -> str:
        return ranking.month.strftime("%Y-%m")
