from django.urls import re_path
from rest_framework.routers import SimpleRouter

from leads.api.cleansing_views import BlacklistEntryViewSet, CleansingPolicyViewSet, SensitiveWordViewSet
from leads.api.dedup import CompanyAliasViewSet, DedupRuleViewSet
from leads.api.dedup_search_views import DedupSearchViewSet, LeadTransferRequestViewSet
from leads.api.quarantine_views import IntakeRecordViewSet
from leads.api.saved_views import SavedViewViewSet
from leads.api.views import LeadViewSet

router = SimpleRouter()
router.trailing_slash = "/?"  # API.md paths have no slash; tolerate one from clients that add it
router.register("leads", LeadViewSet, basename="lead")
router.register("intake", IntakeRecordViewSet, basename="intake")
router.register("dedup", DedupSearchViewSet, basename="dedup")
router.register("leads", LeadTransferRequestViewSet, basename="lead-transfer")  # /leads/{id}/transfer-request
router.register("blacklist", BlacklistEntryViewSet, basename="blacklist")
router.register("sensitive-words", SensitiveWordViewSet, basename="sensitive-word")
router.register("dedup-rules", DedupRuleViewSet, basename="dedup-rule")
router.register("company-aliases", CompanyAliasViewSet, basename="company-alias")
router.register("views", SavedViewViewSet, basename="saved-view")

urlpatterns = [
    *router.urls,
    re_path(
        r"^cleansing-policy/?$",
        CleansingPolicyViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="cleansing-policy",
    ),
]
