"""What a visitor sees when something is missing or broken, with DEBUG off as in the demo and
production: LeadCRM's own pages in the visitor's language, never Django's."""

from __future__ import annotations

import pytest
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.test import Client
from django.urls import path
from django.utils import translation

from leadcrm.urls import urlpatterns as product_urlpatterns


def _broken_page(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


urlpatterns = [path("broken-page", _broken_page), *product_urlpatterns]

FAVICON_LINK = '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">'


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("headers", "cookies", "expected", "absent"),
    [
        ({}, {}, "找不到这个页面", "Page not found"),
        ({"Accept-Language": "en-US,en;q=0.9"}, {}, "We can't find this page", "找不到这个页面"),
        ({}, {"django_language": "en"}, "We can't find this page", "找不到这个页面"),
    ],
)
def test_unknown_page_is_a_branded_404_in_the_visitors_language(headers, cookies, expected, absent):
    client = Client(headers=headers)
    client.cookies.load(cookies)
    response = client.get("/no/such/page")
    html = response.content.decode()
    assert response.status_code == 404
    assert expected in html and absent not in html
    assert "LeadCRM" in html and 'class="brand-mark"' in html
    assert FAVICON_LINK in html
    assert "Traceback" not in html and "URLconf" not in html  # not Django's technical page


def test_500_page_renders_without_a_request_or_database():
    # Django renders it with no context processors, possibly with the database down: the test
    # has no database access, so any query would fail it.
    chinese = render_to_string("500.html")
    with translation.override("en"):
        english = render_to_string("500.html")
    assert "服务器出错了" in chinese and '<html lang="zh-hans">' in chinese
    assert "Something went wrong on our side" in english and '<html lang="en">' in english
    assert "服务器出错了" not in english
    for html in (chinese, english):
        assert 'class="brand-mark"' in html and FAVICON_LINK in html and 'href="/static/css/app.css"' in html


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_an_error_in_a_page_answers_the_branded_500_in_the_visitors_language():
    response = Client(raise_request_exception=False, headers={"Accept-Language": "en"}).get("/broken-page")
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in html
    assert "RuntimeError" not in html and "a bug" not in html


@pytest.mark.django_db
def test_favicon_ico_leads_to_the_icon():
    response = Client().get("/favicon.ico")
    assert response.status_code == 302 and response["Location"] == "/static/img/favicon.svg"
    assert "max-age=86400" in response["Cache-Control"]
    icon = Client().get(response["Location"])
    assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(icon.streaming_content)  # type: ignore[attr-defined]  # a file response streams


@pytest.mark.django_db
def test_every_kind_of_page_links_the_favicon():
    client = Client()
    assert FAVICON_LINK in client.get("/login").content.decode()
    docs = client.get("/api/v1/docs/").content.decode()
    assert '<link rel="icon" href="/static/img/favicon.svg">' in docs  # not Swagger's own icon
