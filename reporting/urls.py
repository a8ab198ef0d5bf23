from django.urls import path

from . import views

urlpatterns = [
    path("", views.commissioner_extracts, name="commissioner-extracts"),
    path(
        "<str:code>/<str:submission_id>.zip",
        views.commissioner_extract_download,
        name="commissioner-extract-download",
    ),
]
