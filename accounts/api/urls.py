from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api.views import (
    AuthViewSet,
    DeliveryReportView,
    DeviceViewSet,
    MeViewSet,
    TokenRefresh,
    TokenView,
)

router = SimpleRouter(trailing_slash=False)
router.register("auth", AuthViewSet, basename="auth")

urlpatterns = [
    path("auth/token", TokenView.as_view(), name="token"),
    path("auth/token/refresh", TokenRefresh.as_view(), name="token-refresh"),
    path(
        "me",
        MeViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        name="me",
    ),
    path("me/devices", DeviceViewSet.as_view({"post": "create"}), name="me-devices"),
    path(
        "me/devices/<str:token>",
        DeviceViewSet.as_view({"delete": "destroy"}),
        name="me-device",
    ),
    path("sms/delivery-report", DeliveryReportView.as_view(), name="sms-delivery-report"),
    *router.urls,
]
