from django.urls import path

from polls import staff, views

urlpatterns = [
    path("", views.home, name="home"),
    path("polls/<int:poll_id>/", views.poll_detail, name="poll_detail"),
    path("polls/<int:poll_id>/results/", views.poll_results_page, name="poll_results"),
    path("polls/<int:poll_id>/report/", views.survey_report_page, name="survey_report"),
    path("my-building/surveys/new/", views.survey_new, name="survey_new"),
    path("decisions/", views.decisions_page, name="decisions"),
    path("check/", views.check_vote, name="check_vote"),
    path("ballot-log/key/", views.ballot_log_key, name="ballot_log_key"),
    path("open-data/polls/<int:poll_id>/", views.ballot_log_page, name="ballot_log"),
    path("open-data/polls/<int:poll_id>/<str:name>", views.open_data_file, name="open_data_file"),
    path("staff/", staff.overview, name="staff_overview"),
    path("staff/polls/<int:poll_id>/", staff.dashboard, name="staff_dashboard"),
    path("staff/polls/<int:poll_id>/<str:kind>.csv", staff.export, name="staff_export"),
    path("staff/polls/<int:poll_id>/recount/", staff.recount, name="staff_recount"),
    path("staff/polls/<int:poll_id>/recount/csv/", staff.recount_csv, name="staff_recount_csv"),
]
