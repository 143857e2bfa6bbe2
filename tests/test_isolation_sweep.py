"""A sweep over every routed API endpoint that takes an object id: another tenant's object
is a 404. New endpoints join by being routed; a model without a maker here fails loudly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from leadcrm.tenancy.services import CreatedTenant
from leads.models import Lead
from tests.factories import lead_make

pytestmark = pytest.mark.django_db

# model -> how to make one in a given tenant
OBJECT_MAKERS: dict[type[Any], Callable[[CreatedTenant], Any]] = {
    Lead: lead_make,
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


def _path_for(route: str, pk: int) -> str:
    path = route.replace("^", "").replace("$", "").replace("/?", "")
    import re

    return "/" + re.sub(r"\(\?P<pk>[^)]*\)", str(pk), path)


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
        response = getattr(key_client, method)(_path_for(route, foreign.id), data={}, format="json")
        assert response.status_code == 404, (method, route, response.status_code)
