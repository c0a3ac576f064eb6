from rest_framework.routers import SimpleRouter

from reports.api.views import AreaViewSet, CategoryViewSet, ReportViewSet

router = SimpleRouter(trailing_slash=False)
router.register("reports", ReportViewSet, basename="report")
router.register("categories", CategoryViewSet, basename="category")
router.register("areas", AreaViewSet, basename="area")

urlpatterns = router.urls
