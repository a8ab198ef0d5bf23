from functools import partial

from django.contrib import admin, messages
from django.db import transaction

from .models import Status, Submission, SubmissionRuleCount, SubmissionTableCount, Window
from .services import submission_transition


@admin.register(Window)
class WindowAdmin(admin.ModelAdmin):
    list_display = ("code", "opens_at", "closes_at", "primary_rp", "refresh_rp", "locked_at")
    ordering = ("-opens_at",)


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
        from .tasks import process_submission

        count = 0
        for sub in queryset.filter(status=Status.ERROR):
            with transaction.atomic():
                submission_transition(submission=sub, to=Status.RECEIVED, actor=request.user)
                transaction.on_commit(partial(process_submission.delay, sub.pk))
            count += 1
        messages.info(request, f"{count} submission(s) queued again.")
