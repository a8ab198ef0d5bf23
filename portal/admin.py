from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import AuditEvent, Organisation, User


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "type", "ltc_mus_pilot", "ea_pilot")
    list_filter = ("type", "ltc_mus_pilot", "ea_pilot")
    search_fields = ("code", "name")
    filter_horizontal = ("acts_for",)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "organisation", "role", "is_active", "last_login")
    list_filter = ("role", "is_active", "organisation__type")
    list_select_related = ("organisation",)
    fieldsets = (*BaseUserAdmin.fieldsets, ("Portal access", {"fields": ("organisation", "role")}))  # type: ignore[misc]
    add_fieldsets = (*BaseUserAdmin.add_fieldsets, ("Portal access", {"fields": ("organisation", "role")}))


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
