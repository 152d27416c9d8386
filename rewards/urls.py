from django.urls import path

from rewards import views

urlpatterns = [
    path("points/", views.my_points, name="my_points"),
    path("rewards/", views.catalogue, name="rewards"),
    path("rewards/<int:reward_id>/redeem/", views.redeem, name="reward_redeem"),
    path("rewards/mine/", views.my_redemptions, name="my_redemptions"),
]
