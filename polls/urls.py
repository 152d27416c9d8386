from django.urls import path

from polls import views

urlpatterns = [
    path("", views.home, name="home"),
    path("polls/<int:poll_id>/", views.poll_detail, name="poll_detail"),
    path("polls/<int:poll_id>/results/", views.poll_results_page, name="poll_results"),
]
