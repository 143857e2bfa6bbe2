from django.urls import path

from leads import views

app_name = "leads"

# APPEND_SLASH is off: the paths people type get both spellings.
urlpatterns = [
    path("<slug:tenant_slug>", views.tenant_home_page, name="tenant-home"),
    path("<slug:tenant_slug>/", views.tenant_home_page),
    path("<slug:tenant_slug>/leads", views.lead_list_page, name="list"),
    path("<slug:tenant_slug>/leads/", views.lead_list_page),
    path("<slug:tenant_slug>/leads/<int:lead_id>", views.lead_detail_page, name="detail"),
    path("<slug:tenant_slug>/leads/<int:lead_id>/", views.lead_detail_page),
]
