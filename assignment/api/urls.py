from django.urls import re_path

from assignment.api.views import LeadActionViewSet, PoolViewSet, RuleViewSet

ID = r"[0-9]{1,18}"

urlpatterns = [
    re_path(r"^pools/?$", PoolViewSet.as_view({"get": "list", "post": "create"}), name="pools"),
    re_path(rf"^pools/(?P<pk>{ID})/?$", PoolViewSet.as_view({"get": "retrieve", "patch": "partial_update"}), name="pool"),
    re_path(rf"^pools/(?P<pool_pk>{ID})/rules/?$", RuleViewSet.as_view({"get": "list", "post": "create"}), name="pool-rules"),
    re_path(
        rf"^pools/(?P<pool_pk>{ID})/rules/(?P<pk>{ID})/?$",
        RuleViewSet.as_view({"patch": "partial_update", "delete": "destroy"}), name="pool-rule",
    ),
    re_path(rf"^leads/(?P<pk>{ID})/assign/?$", LeadActionViewSet.as_view({"post": "assign"}), name="lead-assign"),
    re_path(rf"^leads/(?P<pk>{ID})/claim/?$", LeadActionViewSet.as_view({"post": "claim"}), name="lead-claim"),
    re_path(rf"^leads/(?P<pk>{ID})/return/?$", LeadActionViewSet.as_view({"post": "return_"}), name="lead-return"),
    re_path(rf"^leads/(?P<pk>{ID})/status/?$", LeadActionViewSet.as_view({"post": "status"}), name="lead-status"),
]
