from django.urls import path

from accounts import views

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("profile/edit/", views.profile_edit, name="profile_edit"),
    path("profile/buildings/", views.building_search_results, name="building_search"),
    path("profile/my-data/", views.my_data, name="my_data"),
    path("profile/delete/", views.delete_account, name="delete_account"),
    path("my-building/", views.my_building, name="my_building"),
    path("my-building/verify/", views.residency_verify, name="residency_verify"),
    path("my-building/claim/", views.residency_claim, name="residency_claim"),
    path("notifications/", views.notifications, name="notifications"),
    path("invite/<str:token>/", views.invite, name="invite"),
]
