from django.urls import re_path
from rest_framework.routers import SimpleRouter

from assignment.api.sla_views import (
    LeadFollowUpViewSet,
    LeadTimelineViewSet,
    SlaPolicyViewSet,
    SlaSweepViewSet,
    ViolationViewSet,
)

router = SimpleRouter()
router.trailing_slash = "/?"
router.register("sla-policies", SlaPolicyViewSet, basename="sla-policy")
router.register("violations", ViolationViewSet, basename="violation")

# Routed before leads' API (leads cannot import assignment): these are /leads/{id}/… paths.
urlpatterns = [
    re_path(
        r"^leads/(?P<pk>[0-9]{1,18})/follow-ups/?$", LeadFollowUpViewSet.as_view({"get": "list", "post": "create"}),
        name="lead-follow-ups",
    ),
    re_path(r"^leads/(?P<pk>[0-9]{1,18})/timeline/?$", LeadTimelineViewSet.as_view({"get": "list"}), name="lead-timeline"),
    re_path(r"^sla/sweep/?$", SlaSweepViewSet.as_view({"post": "create"}), name="sla-sweep"),
    *router.urls,
]
