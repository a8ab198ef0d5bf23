"""Pages where an organisation's users create, list and revoke API tokens (/account/tokens/)."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from . import api_tokens
from .errors import PortalError
from .forms import ApiTokenForm
from .models import User


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)  # login_required
    allowed = api_tokens.allowed_scopes(user)
    if not allowed:
        raise PermissionDenied
    form = ApiTokenForm(request.POST or None, allowed=allowed)
    if request.method == "POST" and form.is_valid():
        try:
            created = api_tokens.api_token_create(
                user=user,
                name=form.cleaned_data["name"],
                scopes=form.scopes(),
            )
        except PortalError as exc:
            form.add_error(None, exc.message)
        else:
            # Shown once, on this response only (never stored, never cached: never_cache above).
            return render(
                request, "portal/token_created.html", {"token": created.token, "secret": created.secret}
            )
    tokens = list(api_tokens.api_token_list_for_user(user=user).filter(organisation=user.organisation))
    rows = [
        {"token": t, "can_revoke": t.is_active and api_tokens.may_revoke(user=user, token=t)} for t in tokens
    ]
    return render(request, "portal/tokens.html", {"form": form, "rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    user = cast(User, request.user)  # login_required
    token = api_tokens.api_token_get_for_user(user=user, pk=pk)
    if token is None:
        raise Http404("No such token")
    if not api_tokens.may_revoke(user=user, token=token):
        raise PermissionDenied
    if request.method == "POST":
        api_tokens.api_token_revoke(user=user, token=token)
        messages.success(request, f"The token '{token.name}' ({token.prefix}…) has been revoked.")
        return redirect("account-tokens")
    return render(request, "portal/token_revoke.html", {"token": token})
