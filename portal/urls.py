from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import account_views, notification_views, token_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/", account_views.two_factor_verify, name="two-factor"),
    path("accounts/two-factor/setup/", account_views.two_factor_setup, name="two-factor-setup"),
    path(
        "accounts/two-factor/recovery-codes/", account_views.recovery_codes, name="two-factor-recovery-codes"
    ),
    path("accounts/request-access/", account_views.access_request, name="access-request"),
    path("account/access-requests/", account_views.access_request_list, name="access-request-list"),
    path(
        "account/access-requests/<int:pk>/", account_views.access_request_detail, name="access-request-detail"
    ),
    path("audit/", account_views.audit_list, name="audit-list"),
    path("audit/export.csv", account_views.audit_export, name="audit-export"),
    path("submissions/", include("submissions.urls")),
    path("extracts/", include("reporting.urls")),
    path("", include("reporting.site_urls")),
    path("account/notifications/", notification_views.notification_settings, name="account-notifications"),
    path("account/tokens/", token_views.token_list, name="account-tokens"),
    path("account/tokens/<int:pk>/revoke/", token_views.token_revoke, name="account-token-revoke"),
    path("api/v1/", include("submissions.api.urls")),
    path("api/v1/", include("reporting.api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
