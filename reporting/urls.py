"""/extracts/: commissioner extracts (spec 10.5) and providers' post-deadline extracts (10.4)."""

from django.urls import path, re_path

from . import views

PERIOD = r"(?P<period>[0-9]{4}-(?:0[1-9]|1[0-2]))"
WINDOW_TYPE = r"(?P<window_type>Primary|Refresh)"

urlpatterns = [
    path("", views.commissioner_extracts, name="commissioner-extracts"),
    re_path(
        rf"^(?P<code>[A-Z0-9]{{3,5}})/{PERIOD}/{WINDOW_TYPE}\.(?P<ext>zip|xlsx)$",
        views.commissioner_extract_download,
        name="commissioner-extract-download",
    ),
    path("post-deadline/", views.provider_extracts, name="provider-extracts"),
    re_path(
        rf"^post-deadline/(?P<org_code>[A-Z0-9]{{3,6}})/{PERIOD}/{WINDOW_TYPE}\.(?P<ext>zip|xlsx)$",
        views.provider_extract_download,
        name="provider-extract-download",
    ),
]
