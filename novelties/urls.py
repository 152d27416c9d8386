from django.urls import path

from novelties import views

urlpatterns = [
    path("novelties/", views.novelty_list, name="novelties"),
    path("novelties/ranking/", views.novelty_ranking_page, name="novelty_ranking"),
    path("novelties/<int:novelty_id>/", views.novelty_detail, name="novelty_detail"),
]
