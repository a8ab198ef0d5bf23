from django.urls import path

from . import timetable_views as views

urlpatterns = [
    path("", views.timetable, name="timetable"),
    path("generate/", views.timetable_generate, name="timetable-generate"),
    path("publish/", views.timetable_publish, name="timetable-publish"),
    path("export.csv", views.timetable_export, name="timetable-export"),
    path("import/", views.timetable_import, name="timetable-import"),
    path("calendar/<str:code>/<str:signature>.ics", views.timetable_calendar, name="timetable-calendar"),
    path("<str:code>/", views.timetable_edit, name="timetable-edit"),
]
