from rest_framework.routers import SimpleRouter

from leads.api.dedup import CompanyAliasViewSet, DedupRuleViewSet
from leads.api.views import LeadViewSet

router = SimpleRouter()
router.trailing_slash = "/?"  # API.md paths have no slash; tolerate one from clients that add it
router.register("leads", LeadViewSet, basename="lead")
router.register("dedup-rules", DedupRuleViewSet, basename="dedup-rule")
router.register("company-aliases", CompanyAliasViewSet, basename="company-alias")

urlpatterns = router.urls
