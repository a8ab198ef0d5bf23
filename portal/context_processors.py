from django.http import HttpRequest
from django.urls import reverse

from .api_tokens import can_manage_tokens
from .security import is_verified


def portal(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated):
        return {"portal_user_org": None, "nav_items": []}
    if not is_verified(user):  # signed in with a password only: no menu until the second factor
        return {"portal_user_org": user.organisation, "nav_items": []}
    items: list[tuple[str, str]] = []
    if user.is_provider_user or user.is_portal_admin:
        items.append(("Submissions", reverse("submission-home")))
        if user.can_upload:
            items.append(("Upload a file", reverse("submission-upload")))
        items.append(("Extracts", reverse("provider-extracts")))
    if user.is_commissioner_user:
        items.append(("Commissioner extracts", reverse("commissioner-extracts")))
    items.append(("Statistics", reverse("statistics-index")))
    items.append(("Timetable", reverse("timetable")))
    items.append(("Rules", reverse("rule-list")))
    items.append(("Templates", reverse("template-index")))
    if can_manage_tokens(user):
        items.append(("API tokens", reverse("account-tokens")))
    if user.can_approve_access:
        items.append(("Access requests", reverse("access-request-list")))
        items.append(("Audit trail", reverse("audit-list")))
    items.append(("E-mails", reverse("account-notifications")))
    if user.is_portal_admin:
        items.append(("Administration", reverse("admin:index")))
    nav = [{"label": label, "url": url, "current": request.path == url} for label, url in items]
    return {"portal_user_org": user.organisation, "nav_items": nav}
