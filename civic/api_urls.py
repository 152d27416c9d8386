from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import api as accounts_api
from civic import api_views as civic_api
from discussions import api as discussions_api
from novelties import api as novelties_api
from polls import api as polls_api
from rewards import api as rewards_api

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # The split view serves Swagger UI's start-up script as a file (?script), for the CSP.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api_schema", template_name="api/swagger_ui.html"
        ),
        name="api_docs",
    ),
    path("me/", accounts_api.MeView.as_view(), name="api_me"),
    path("me/data/", accounts_api.PersonalDataView.as_view(), name="api_my_data"),
    path("me/delete/", accounts_api.AccountDeleteView.as_view(), name="api_delete_account"),
    path("me/points/", rewards_api.PointsView.as_view(), name="api_points"),
    path("me/redemptions/", rewards_api.RedemptionListView.as_view(), name="api_redemptions"),
    path(
        "me/notifications/", accounts_api.NotificationListView.as_view(), name="api_notifications"
    ),
    path(
        "me/notifications/read/", accounts_api.MarkReadView.as_view(), name="api_notifications_read"
    ),
    path("rewards/", rewards_api.RewardListView.as_view(), name="api_rewards"),
    path("rewards/<int:reward_id>/redeem/", rewards_api.RedeemView.as_view(), name="api_redeem"),
    path("areas/", civic_api.AreasView.as_view(), name="api_areas"),
    path("buildings/", civic_api.BuildingsView.as_view(), name="api_buildings"),
    path(
        "buildings/<int:building_id>/surveys/",
        polls_api.BuildingSurveysView.as_view(),
        name="api_building_surveys",
    ),
    path("me/residency/", accounts_api.ResidencyView.as_view(), name="api_residency"),
    path(
        "me/residency/verify/",
        accounts_api.ResidencyVerifyView.as_view(),
        name="api_residency_verify",
    ),
    path(
        "me/residency/claim/", accounts_api.ResidencyClaimView.as_view(), name="api_residency_claim"
    ),
    path("decisions/", polls_api.DecisionListView.as_view(), name="api_decisions"),
    path("novelties/", novelties_api.NoveltyListView.as_view(), name="api_novelties"),
    path("novelties/ranking/", novelties_api.RankingView.as_view(), name="api_novelty_ranking"),
    path(
        "novelties/<int:novelty_id>/",
        novelties_api.NoveltyDetailView.as_view(),
        name="api_novelty",
    ),
    path(
        "novelties/<int:novelty_id>/rate/",
        novelties_api.RateView.as_view(),
        name="api_novelty_rate",
    ),
    path("discussions/", discussions_api.DiscussionListView.as_view(), name="api_discussions"),
    path(
        "discussions/<int:discussion_id>/",
        discussions_api.DiscussionDetailView.as_view(),
        name="api_discussion",
    ),
    path(
        "discussions/<int:discussion_id>/posts/",
        discussions_api.PostCreateView.as_view(),
        name="api_discussion_post",
    ),
    path(
        "discussions/posts/<int:post_id>/reply/",
        discussions_api.ReplyView.as_view(),
        name="api_discussion_reply",
    ),
    path(
        "discussions/posts/<int:post_id>/support/",
        discussions_api.SupportView.as_view(),
        name="api_discussion_support",
    ),
    path(
        "discussions/posts/<int:post_id>/report/",
        discussions_api.ReportView.as_view(),
        name="api_discussion_report",
    ),
    path("polls/", polls_api.PollListView.as_view(), name="api_polls"),
    path("polls/<int:poll_id>/", polls_api.PollDetailView.as_view(), name="api_poll"),
    path("polls/<int:poll_id>/vote/", polls_api.VoteView.as_view(), name="api_vote"),
    path("polls/<int:poll_id>/publish/", polls_api.PublishView.as_view(), name="api_publish"),
    path("polls/<int:poll_id>/results/", polls_api.ResultsView.as_view(), name="api_results"),
    path("polls/<int:poll_id>/report/", polls_api.ReportView.as_view(), name="api_report"),
    path(
        "polls/<int:poll_id>/export/<str:kind>.csv",
        polls_api.ExportView.as_view(),
        name="api_export",
    ),
]
