from django.urls import include, path, register_converter

from . import views


class SubmissionIdConverter:
    regex = r"[A-Z0-9]{3,6}-[0-9]{7}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(SubmissionIdConverter, "sid")

urlpatterns = [
    path("", views.submission_home, name="submission-home"),
    path("upload/", views.submission_upload, name="submission-upload"),
    path("timetable/", include("submissions.timetable_urls")),
    path("<sid:submission_id>/", views.submission_detail, name="submission-detail"),
    path("<sid:submission_id>/progress.json", views.submission_progress, name="submission-progress"),
    path("<sid:submission_id>/validation.<str:fmt>", views.submission_report, name="submission-report"),
    path("<sid:submission_id>/extract.zip", views.submission_extract, name="submission-extract"),
]
