"""/api/v1/ routes of the submissions API (included from portal/urls.py)."""

from django.urls import re_path

from . import views

SID = r"(?P<submission_id>[A-Z0-9]{3,6}-[0-9]{7})"

urlpatterns = [
    re_path(r"^windows/$", views.WindowListView.as_view(), name="api-windows"),
    re_path(r"^submissions/$", views.SubmissionListView.as_view(), name="api-submissions"),
    re_path(rf"^submissions/{SID}/$", views.SubmissionDetailView.as_view(), name="api-submission-detail"),
    re_path(
        rf"^submissions/{SID}/report\.(?P<fmt>csv|xlsx|json)$",
        views.SubmissionReportView.as_view(),
        name="api-submission-report",
    ),
    re_path(
        rf"^submissions/{SID}/extract\.zip$",
        views.SubmissionExtractView.as_view(),
        name="api-submission-extract",
    ),
]
