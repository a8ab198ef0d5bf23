"""Reporting pages outside /extracts/: the rule catalogue, blank templates, the DQ summary and statistics.

Included once from portal/urls.py at the site root (``path("", include("reporting.site_urls"))``).
"""

from django.urls import path, re_path

from . import statistics_views, views

SUBMISSION_ID = r"(?P<submission_id>[A-Z0-9]{3,6}-[0-9]{7})"
PERIOD = r"(?P<period>[0-9]{4}-(?:0[1-9]|1[0-2]))"

urlpatterns = [
    path("rules/", views.rule_list, name="rule-list"),
    re_path(r"^rules/(?P<rule_id>[A-Z]{2,4}[0-9]{3})/$", views.rule_detail, name="rule-detail"),
    path("templates/", views.template_index, name="template-index"),
    re_path(
        r"^templates/(?P<profile>[A-Z0-9]{1,12})\.(?P<ext>xlsx|zip)$",
        views.template_download,
        name="template-download",
    ),
    re_path(
        r"^templates/(?P<profile>[A-Z0-9]{1,12})\.mdb$",
        views.template_download_mdb,
        name="template-download-mdb",
    ),
    re_path(rf"^dq/{SUBMISSION_ID}/$", views.submission_dq, name="submission-dq"),
    re_path(
        rf"^dq/{SUBMISSION_ID}\.(?P<fmt>csv|xlsx|json)$",
        views.submission_dq_download,
        name="submission-dq-download",
    ),
    path("statistics/", statistics_views.statistics_index, name="statistics-index"),
    re_path(rf"^statistics/{PERIOD}/$", statistics_views.statistics_period, name="statistics-period"),
    re_path(
        rf"^statistics/{PERIOD}/(?P<status>Provisional|Final)\.(?P<fmt>csv|xlsx|json)$",
        statistics_views.statistics_download,
        name="statistics-download",
    ),
]
