"""A sweep over every routed API endpoint that takes an object id: another tenant's object
is a 404. New endpoints join by being routed; a model without a maker here fails loudly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from assignment.models import AssignmentRule, Pool, SlaPolicy
from capture.import_models import ImportFile, ImportJob
from capture.models import WebForm
from leadcrm.notifications.models import Notification
from leadcrm.tenancy.models import ApiKey, Membership
from leadcrm.tenancy.services import CreatedTenant
from leads.models import (
    BlacklistEntry,
    CompanyAlias,
    DedupRule,
    IntakeRecord,
    Lead,
    SavedView,
    SavedViewDefault,
    SensitiveWord,
)
from scoring.models import RescoreJob, ScoringRuleSet
from tests.factories import (
    api_key_make,
    assignment_rule_make,
    blacklist_entry_make,
    company_alias_make,
    dedup_rule_make,
    import_file_make,
    import_job_make,
    intake_record_make,
    lead_make,
    member_make,
    notification_make,
    pool_make,
    rescore_job_make,
    rule_set_make,
    saved_view_default_make,
    saved_view_make,
    sensitive_word_make,
    sla_policy_make,
    webform_make,
)

pytestmark = pytest.mark.django_db

# model -> how to make one in a given tenant
OBJECT_MAKERS: dict[type[Any], Callable[[CreatedTenant], Any]] = {
    Lead: lead_make,
    SlaPolicy: sla_policy_make,
    IntakeRecord: intake_record_make,
    BlacklistEntry: blacklist_entry_make,
    SensitiveWord: sensitive_word_make,
    DedupRule: dedup_rule_make,
    CompanyAlias: company_alias_make,
    Membership: member_make,  # members are named by user id: the maker returns the user
    ApiKey: api_key_make,
    Notification: notification_make,
    Pool: pool_make,
    AssignmentRule: assignment_rule_make,
    ScoringRuleSet: rule_set_make,
    RescoreJob: rescore_job_make,
    ImportFile: import_file_make,
    ImportJob: import_job_make,
    SavedView: saved_view_make,
    SavedViewDefault: saved_view_default_make,
    WebForm: webform_make,
}


def _api_detail_routes() -> list[tuple[str, Any]]:
    routes: list[tuple[str, Any]] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and "pk" in pattern.pattern.regex.groupindex:
                view_class = getattr(pattern.callback, "cls", None)
                if (prefix + str(pattern.pattern)).startswith("api/") and view_class is not None:
                    routes.append((prefix + str(pattern.pattern), pattern.callback))

    walk(get_resolver().url_patterns, "")
    return routes


def _path_for(route: str, obj: Any) -> str:
    """The route with the object's id, and its pool's id where the route nests it in a pool."""
    path = route.replace("^", "").replace("$", "").replace("/?", "")
    import re

    path = re.sub(r"\(\?P<pool_pk>[^)]*\)", str(getattr(obj, "pool_id", 0)), path)
    return "/" + re.sub(r"\(\?P<pk>[^)]*\)", str(obj.id), path)


def test_there_are_detail_routes_to_sweep():
    assert len(_api_detail_routes()) >= 2


@pytest.mark.parametrize("route", [r for r, _ in _api_detail_routes()])
def test_other_tenants_object_is_404_on_every_detail_route(route, key_client, tenant_b):
    callback = dict(_api_detail_routes())[route]
    view = callback.cls()
    view.swagger_fake_view = True
    model = view.get_queryset().model
    assert model in OBJECT_MAKERS, f"add a maker for {model.__name__} to OBJECT_MAKERS"
    foreign = OBJECT_MAKERS[model](tenant_b)
    methods = [m for m in callback.actions if m in {"get", "post", "put", "patch", "delete"}]
    for method in methods:
        response = getattr(key_client, method)(_path_for(route, foreign), data={}, format="json")
        assert response.status_code == 404, (method, route, response.status_code)


# --- pages ------------------------------------------------------------------------------------

# URL kwarg -> model of the object it names in a page route
PAGE_OBJECT_KWARGS: dict[str, type[Any]] = {
    "lead_id": Lead, "record_id": IntakeRecord, "entry_id": BlacklistEntry, "word_id": SensitiveWord,
    "rule_id": DedupRule, "policy_id": SlaPolicy, "user_id": Membership, "key_id": ApiKey,
    "notification_id": Notification, "pool_id": Pool, "assignment_rule_id": AssignmentRule,
    "rule_set_id": ScoringRuleSet, "job_id": RescoreJob, "view_id": SavedView, "form_id": WebForm,
    "file_id": ImportFile, "import_id": ImportJob,
}
# A kwarg whose object comes from another's: a rule's page names the rule's own pool.
DERIVED_KWARGS: dict[str, tuple[str, str]] = {"pool_id": ("assignment_rule_id", "pool_id")}


def _tenant_page_routes() -> list[tuple[str, list[str]]]:
    routes: list[tuple[str, list[str]]] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                names = list(pattern.pattern.converters) if hasattr(pattern.pattern, "converters") else []
                if "tenant_slug" in names:
                    routes.append((route, names))

    walk(get_resolver().url_patterns, "")
    return routes


def _page_path(route: str, values: dict[str, Any]) -> str:
    import re

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)


def test_there_are_tenant_pages_to_sweep():
    assert any("lead_id" in names for _, names in _tenant_page_routes())


@pytest.mark.parametrize("route", [r for r, _ in _tenant_page_routes()])
def test_tenant_pages_are_404_for_another_tenant(route, client, tenant_a, tenant_b):
    names = dict(_tenant_page_routes())[route]
    client.force_login(tenant_a.owner.user)
    own_objects: dict[str, Any] = {}
    foreign_objects: dict[str, Any] = {}
    for name in names:
        if name == "tenant_slug" or (name in DERIVED_KWARGS and DERIVED_KWARGS[name][0] in names):
            continue
        assert name in PAGE_OBJECT_KWARGS, f"add the model for URL kwarg '{name}' to PAGE_OBJECT_KWARGS"
        maker = OBJECT_MAKERS[PAGE_OBJECT_KWARGS[name]]
        for objects, created in ((own_objects, tenant_a), (foreign_objects, tenant_b)):
            made = maker(created)
            objects[name] = made.id
            for derived, (source, attribute) in DERIVED_KWARGS.items():
                if source == name and derived in names:
                    objects[derived] = getattr(made, attribute)

    def fetch(path: str) -> Any:  # a page that only takes POSTs (an action) is swept with a POST
        response = client.get(path)
        return client.post(path, {}) if response.status_code == 405 else response

    # the other tenant's slug, even with its own objects: a non-member gets 404
    response = fetch(_page_path(route, {"tenant_slug": tenant_b.tenant.slug, **foreign_objects}))
    assert response.status_code == 404
    if foreign_objects:  # own slug, the other tenant's object
        response = fetch(_page_path(route, {"tenant_slug": tenant_a.tenant.slug, **foreign_objects}))
        assert response.status_code == 404
        response = fetch(_page_path(route, {"tenant_slug": tenant_a.tenant.slug, **own_objects}))
        assert response.status_code in (200, 301, 302, 400)  # 400: an action posted without its form
