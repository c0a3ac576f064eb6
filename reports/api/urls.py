from django.urls import path
from rest_framework.routers import SimpleRouter

from reports.api.notifications import NotificationViewSet
from reports.api.stats import StatsView
from reports.api.views import AreaViewSet, CategoryViewSet, ReportViewSet

router = SimpleRouter(trailing_slash=False)
router.register("reports", ReportViewSet, basename="report")
router.register("categories", CategoryViewSet, basename="category")
router.register("areas", AreaViewSet, basename="area")
router.register("notifications", NotificationViewSet, basename="notification")

urlpatterns = [*router.urls, path("stats", StatsView.as_view(), name="stats")]
