from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from .api_tokens import api_token_revoke
from .models import AccessRequest, ApiToken, AuditEvent, Organisation, User
from .two_factor import two_factor_reset

# Deletions one at a time, from the object's page, so that each is an audit row of its own
# (portal.signals records every admin change; Django writes bulk deletions without signals).
admin.site.disable_action("delete_selected")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "type", "ltc_mus_pilot", "ea_pilot", "caldicott_guardian_registered_on")
    list_filter = ("type", "ltc_mus_pilot", "ea_pilot")
    search_fields = ("code", "name")
    filter_horizontal = ("acts_for",)
    fieldsets = (
        (None, {"fields": ("code", "name", "type", "ltc_mus_pilot", "ea_pilot", "acts_for")}),
        (
            "Caldicott Guardian (required before any user of the organisation is approved)",
            {
                "fields": (
                    "caldicott_guardian_name",
                    "caldicott_guardian_email",
                    "caldicott_guardian_registered_on",
                )
            },
        ),
    )


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "organisation", "role", "is_ig_lead", "is_active", "last_login")
    list_filter = ("role", "is_ig_lead", "is_active", "organisation__type")
    list_select_related = ("organisation",)
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Portal access", {"fields": ("organisation", "role", "is_ig_lead")}),
    )  # type: ignore[misc]
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        ("Portal access", {"fields": ("organisation", "role", "is_ig_lead")}),
    )
    actions = ["reset_two_factor"]

    @admin.action(description="Reset two-factor sign-in (the user enrols again at the next sign-in)")
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            two_factor_reset(actor=request.user, user=user)  # type: ignore[arg-type]
        messages.success(request, f"Two-factor sign-in reset for {queryset.count()} user(s).")


@admin.register(AccessRequest)
class AccessRequestAdmin(admin.ModelAdmin):
    """Read-only here: requests are decided on the portal's own page, which applies the rules."""

    list_display = ("created_at", "user", "organisation", "role", "status", "decided_by", "decided_at")
    list_filter = ("status", "role")
    search_fields = ("user__username", "organisation__code")
    list_select_related = ("user", "organisation", "decided_by")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "action", "actor", "organisation", "object_type", "object_id", "to_state")
    list_filter = ("action",)
    search_fields = ("object_id", "actor__username", "organisation__code")
    list_select_related = ("actor", "organisation")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Every organisation's API tokens in one list for the national team; the secret is never stored, so there
    is nothing to show or edit. Revoking goes through the same service as the organisation's own page (one
    audit row per token, its service user deactivated)."""

    list_display = (
        "prefix",
        "name",
        "organisation",
        "scopes",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("scopes", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("prefix", "name", "organisation__code")
    list_select_related = ("organisation", "created_by")
    actions = ["revoke"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # created by the organisation on /account/tokens/, where the secret is shown once

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        tokens = [t for t in queryset if t.revoked_at is None]
        for token in tokens:
            api_token_revoke(user=request.user, token=token)  # type: ignore[arg-type]
        self.message_user(request, f"Revoked {len(tokens)} token(s).", messages.SUCCESS)
