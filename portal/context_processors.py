from django.http import HttpRequest


def portal(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    return {"portal_user_org": getattr(user, "organisation", None) if user and user.is_authenticated else None}
