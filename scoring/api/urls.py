from django.urls import re_path

from scoring.api.events import EventViewSet
from scoring.api.views import LeadScoreViewSet

# Routed before leads' API so `/leads/{id}/score` is this view (leads cannot import scoring).
urlpatterns = [
    re_path(r"^leads/(?P<pk>[0-9]{1,18})/score/?$", LeadScoreViewSet.as_view({"get": "retrieve"}), name="lead-score"),
    re_path(r"^events/?$", EventViewSet.as_view({"post": "create"}), name="events"),
]
