from django.urls import path

from discussions import views

urlpatterns = [
    path("discussions/", views.discussion_list, name="discussions"),
    path("discussions/<int:discussion_id>/", views.discussion_detail, name="discussion_detail"),
    path("discussions/<int:discussion_id>/posts/", views.post_new, name="discussion_post"),
    path("discussions/posts/<int:post_id>/reply/", views.post_reply, name="discussion_reply"),
    path("discussions/posts/<int:post_id>/support/", views.post_support, name="discussion_support"),
    path(
        "discussions/posts/<int:post_id>/report/",
        views.post_report_page,
        name="discussion_report",
    ),
    path(
        "staff/discussions/<int:discussion_id>/summary.csv",
        views.summary_csv,
        name="discussion_summary_csv",
    ),
]
