"""Each user chooses which optional e-mails they get (issue 7)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .models import User
from .services import audit_record

FIELDS = ["notify_submission_finished", "notify_live_receipt", "notify_window_open", "notify_reminders"]


class NotificationForm(forms.ModelForm):
    class Meta:
        model = User
        fields = FIELDS


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = NotificationForm(request.POST or None, instance=user)  # type: ignore[arg-type]
    if request.method == "POST" and form.is_valid():
        form.save()
        audit_record(
            action="account.notifications",
            actor=user,  # type: ignore[arg-type]
            organisation=user.organisation,  # type: ignore[union-attr]
            obj=user,
            details={f: form.cleaned_data[f] for f in FIELDS},
        )
        messages.success(request, "Your e-mail choices were saved.")
        return redirect("account-notifications")
    return render(request, "portal/notifications.html", {"form": form})
