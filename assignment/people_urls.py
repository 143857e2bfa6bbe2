"""The people part's routes: the members API, and the admin pages 成员 / People and API 密钥."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from assignment import people_views
from assignment.people_api import MemberViewSet

router = SimpleRouter()
router.trailing_slash = "/?"
router.register("members", MemberViewSet, basename="member")
api_urlpatterns = router.urls

app_name = "people"

urlpatterns = [
    path("<slug:tenant_slug>/settings/people", people_views.people_page, name="list"),
    path("<slug:tenant_slug>/settings/people/", people_views.people_page),
    path("<slug:tenant_slug>/settings/people/<int:user_id>", people_views.member_page, name="member"),
    path("<slug:tenant_slug>/settings/people/<int:user_id>/routing", people_views.member_routing, name="routing"),
    path("<slug:tenant_slug>/settings/people/<int:user_id>/remove", people_views.member_remove_page, name="remove"),
    path("<slug:tenant_slug>/settings/people/<int:user_id>/restore", people_views.member_restore, name="restore"),
    path("<slug:tenant_slug>/settings/api-keys", people_views.api_keys_page, name="api-keys"),
    path("<slug:tenant_slug>/settings/api-keys/", people_views.api_keys_page),
    path("<slug:tenant_slug>/settings/api-keys/<int:key_id>/revoke", people_views.api_key_revoke_page, name="api-key-revoke"),
]
