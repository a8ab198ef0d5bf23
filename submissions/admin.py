import logging
from functools import partial

from django.contrib import admin, messages
from django.db import transaction

from portal.errors import PortalError

from .models import Status, Submission, SubmissionRuleCount, SubmissionTableCount, Window
from .services import submission_rerun


def _enqueue_post_deadline(task, window_id: int) -> None:  # type: ignore[no-untyped-def]
    try:
        task.delay(window_id)
    except Exception:  # the broker is down: the close task (every minute) runs the due window anyway
        logging.getLogger(__name__).exception("Could not queue post-deadline run of window %s", window_id)


@admin.register(Window)
class WindowAdmin(admin.ModelAdmin):
    list_display = ("code", "opens_at", "closes_at", "primary_rp", "refresh_rp", "locked_at")
    ordering = ("-opens_at",)
    actions = ["rerun_post_deadline"]

    @admin.action(
        description="Re-run post-deadline processing (extracts and statistics) of selected closed windows"
    )
    def rerun_post_deadline(self, request, queryset):  # type: ignore[no-untyped-def]
        from . import close
        from .tasks import run_post_deadline

        count = 0
        for window in queryset.filter(locked_at__isnull=False):
            with transaction.atomic():
                close.post_deadline_request(window=window, actor=request.user, reason="administrator re-run")
                transaction.on_commit(partial(_enqueue_post_deadline, run_post_deadline, window.pk))
            count += 1
        skipped = queryset.filter(locked_at__isnull=True).count()
        messages.info(
            request,
            f"{count} window(s) queued for post-deadline processing"
            + (f"; {skipped} not closed yet, skipped." if skipped else "."),
        )


class TableCountInline(admin.TabularInline):
    model = SubmissionTableCount
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in SubmissionTableCount._meta.fields]


class RuleCountInline(admin.TabularInline):
    model = SubmissionRuleCount
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in SubmissionRuleCount._meta.fields]


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "organisation", "period", "window_type", "status", "is_live", "received_at")
    list_filter = ("status", "window_type", "is_live", "period")
    search_fields = ("organisation__code", "original_name", "sha256")
    list_select_related = ("organisation", "uploaded_by", "window")
    readonly_fields = [f.name for f in Submission._meta.fields]
    inlines = [TableCountInline, RuleCountInline]
    actions = ["rerun"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    @admin.action(description="Re-run selected ERROR submissions")
    def rerun(self, request, queryset):  # type: ignore[no-untyped-def]
        count = 0
        for pk in queryset.filter(status=Status.ERROR).values_list("pk", flat=True):
            try:
                submission_rerun(submission_id=pk, actor=request.user)
            except PortalError:  # no longer ERROR (re-run from another page meanwhile)
                continue
            count += 1
        messages.info(request, f"{count} submission(s) queued again.")
