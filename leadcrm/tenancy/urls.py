from django.contrib.auth import views as auth_views
from django.urls import include, path

from leadcrm.tenancy import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login", views.LoginView.as_view(), name="login"),
    path("login/", views.LoginView.as_view()),
    path("logout", auth_views.LogoutView.as_view(), name="logout"),  # POST only (Django 5)
    path("switch-tenant", views.tenant_switch, name="tenant-switch"),
    # The invitation link (leadcrm.tenancy.members): Django's reset-token page, for a first password.
    path("password/set/<uidb64>/<token>", views.PasswordSetView.as_view(), name="password-set"),
    path("i18n/", include("django.conf.urls.i18n")),  # i18n/setlang/ → set_language
]
