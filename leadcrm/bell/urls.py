from django.urls import path

from leadcrm.bell import views

app_name = "bell"

urlpatterns = [
    path("<slug:tenant_slug>/notifications", views.notification_list_page, name="list"),
    path("<slug:tenant_slug>/notifications/", views.notification_list_page),
    path("<slug:tenant_slug>/notifications/read-all", views.notification_read_all, name="read-all"),
    path("<slug:tenant_slug>/notifications/<int:notification_id>/read", views.notification_read, name="read"),
]
