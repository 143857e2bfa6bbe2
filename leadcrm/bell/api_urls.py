from django.urls import re_path

from leadcrm.bell.api import NotificationViewSet

urlpatterns = [
    re_path(r"^notifications/?$", NotificationViewSet.as_view({"get": "list"}), name="notification-list"),
    re_path(r"^notifications/read/?$", NotificationViewSet.as_view({"post": "read"}), name="notification-read"),
]
