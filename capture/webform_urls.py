"""Routes of the web form: the admin pages under the tenant, the public form and its script."""

from django.urls import URLPattern, path

from capture import webform_public_views, webform_views

webform_urlpatterns: list[URLPattern] = [
    path("<slug:tenant_slug>/settings/web-forms", webform_views.webform_list_page, name="webforms"),
    path("<slug:tenant_slug>/settings/web-forms/", webform_views.webform_list_page),
    path("<slug:tenant_slug>/settings/web-forms/new", webform_views.webform_new_page, name="webform-new"),
    path("<slug:tenant_slug>/settings/web-forms/<int:form_id>", webform_views.webform_edit_page, name="webform"),
    path("<slug:tenant_slug>/settings/web-forms/<int:form_id>/", webform_views.webform_edit_page),
    # Public: no log-in, the unguessable key is the address.
    path("f/<str:key>", webform_public_views.webform_public_page, name="webform-public"),
    path("f/<str:key>/embed.js", webform_public_views.webform_embed_script, name="webform-embed"),
]
