from django.urls import path

from insights.api.views import StatsView

urlpatterns = [path("stats", StatsView.as_view(), name="stats")]
