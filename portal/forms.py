from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.utils import timezone

from .models import ApiScope, Organisation, OrganisationType, Role, User

SCOPE_CHOICES = {
    "read": ("read", "Read only: list submissions and download reports and extracts"),
    "submit": ("submit", "Submit files, and read"),
}


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=100,
        help_text="Say which system will use it, e.g. 'Nightly IDB export from our PAS'.",
        error_messages={"required": "Enter a name for the token"},
    )
    access = forms.ChoiceField(
        label="What may the token do?",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose what the token may do",
            "invalid_choice": "Choose what the token may do",
        },
    )

    def __init__(self, *args, allowed: list[str], **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["access"].choices = [SCOPE_CHOICES[s] for s in reversed(allowed)]  # type: ignore[attr-defined]
        if len(allowed) == 1:
            self.fields["access"].initial = allowed[0]

    def scopes(self) -> list[str]:
        access = self.cleaned_data["access"]
        return [ApiScope.READ, ApiScope.SUBMIT] if access == "submit" else [ApiScope.READ]


# ------------------------------------------------------------------------------ sign-in and accounts


class TwoFactorForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
        error_messages={"required": "Enter the code from your authenticator app"},
    )


class EnrolForm(forms.Form):
    code = forms.CharField(
        label="Code from the app",
        max_length=12,
        help_text="After adding the portal to your app, enter the 6-digit code it shows.",
        error_messages={"required": "Enter the 6-digit code from your authenticator app"},
    )


DECLARATIONS = {
    "declares_confidentiality": (
        "I will keep patient-identifiable data confidential, as the common law duty of confidentiality, "
        "UK GDPR and the Data Protection Act 2018 require."
    ),
    "declares_purpose_only": "I will use the data only for the purpose I give above and my organisation's work.",
    "declares_no_sharing": "I will not share my account, password or authenticator with anyone.",
    "declares_report_breaches": (
        "I will report any loss or misuse of data at once to my organisation's IG lead and Caldicott Guardian."
    ),
}


class AccessRequestForm(forms.Form):
    """The person, the organisation and role they ask for, and their data user certificate."""

    first_name = forms.CharField(label="First name", max_length=150)
    last_name = forms.CharField(label="Last name", max_length=150)
    email = forms.EmailField(label="Work e-mail address", help_text="An NHS or organisation address.")
    username = forms.RegexField(
        label="User name",
        max_length=40,
        regex=r"^[A-Za-z0-9._-]{3,40}$",
        help_text="3 to 40 letters, numbers, dots, hyphens or underscores. You sign in with it.",
        error_messages={"invalid": "Use 3 to 40 letters, numbers, dots, hyphens or underscores"},
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 12 characters, with three of: lower-case letters, capitals, numbers, other characters.",
    )
    password2 = forms.CharField(
        label="Confirm password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    organisation_code = forms.CharField(
        label="Organisation ODS code", max_length=6, help_text="For example, RX4 or 00C."
    )
    role = forms.ChoiceField(
        label="What do you need to do?",
        widget=forms.RadioSelect,
        choices=[
            (Role.PROVIDER_SUBMITTER, "Submit files for a provider (and see its reports)"),
            (Role.PROVIDER_VIEWER, "See a provider's submissions and reports (no uploads)"),
            (Role.COMMISSIONER_VIEWER, "Download extracts as a commissioner or CSU"),
        ],
        error_messages={"required": "Choose what you need to do"},
    )
    job_title = forms.CharField(label="Job title", max_length=200)
    telephone = forms.CharField(label="Work telephone number", max_length=40)
    line_manager_name = forms.CharField(label="Line manager's name", max_length=200)
    line_manager_email = forms.EmailField(label="Line manager's e-mail address")
    ig_training_completed_on = forms.DateField(
        label="Date you last completed information governance (Data Security Awareness) training",
        help_text="For example, 2026-03-27.",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter the date as year-month-day, for example 2026-03-27"},
    )
    purpose = forms.CharField(
        label="What will you use the data for?", max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    declares_confidentiality = forms.BooleanField(label=DECLARATIONS["declares_confidentiality"])
    declares_purpose_only = forms.BooleanField(label=DECLARATIONS["declares_purpose_only"])
    declares_no_sharing = forms.BooleanField(label=DECLARATIONS["declares_no_sharing"])
    declares_report_breaches = forms.BooleanField(label=DECLARATIONS["declares_report_breaches"])

    def clean_organisation_code(self) -> Organisation:
        code = self.cleaned_data["organisation_code"].strip().upper()
        org = Organisation.objects.filter(code=code).exclude(type=OrganisationType.ADMIN).first()
        if org is None:
            raise forms.ValidationError("There is no organisation with that ODS code in the portal")
        return org

    def clean_ig_training_completed_on(self) -> date:
        when = self.cleaned_data["ig_training_completed_on"]
        today = timezone.localdate()
        if when > today:
            raise forms.ValidationError("The training date must be today or in the past")
        if when < today - timedelta(days=366):
            raise forms.ValidationError("Your training must have been completed in the last 12 months")
        return when

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The passwords do not match")
        elif p1:
            probe = User(
                username=data.get("username", ""),
                email=data.get("email", ""),
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
            )
            try:
                password_validation.validate_password(p1, probe)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        org, role = data.get("organisation_code"), data.get("role")
        if isinstance(org, Organisation) and role and role not in org.roles_offered():
            self.add_error("role", f"{org.name} is a {org.get_type_display().lower()}: choose another role")
        for name in DECLARATIONS:
            if name in self.errors:
                self.errors[name].clear()
                self.add_error(name, "Agree to this declaration to ask for access")
        return data


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Your decision",
        widget=forms.RadioSelect,
        choices=[("approve", "Approve"), ("refuse", "Refuse")],
        error_messages={"required": "Choose to approve or refuse the request"},
    )
    reason = forms.CharField(
        label="Reason (required to refuse; sent to the person)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "refuse" and not (data.get("reason") or "").strip():
            self.add_error("reason", "Say why the request is refused")
        return data


class AuditFilterForm(forms.Form):
    action = forms.CharField(
        label="Action", required=False, max_length=64, help_text="e.g. auth.login_failed"
    )
    organisation = forms.CharField(label="Organisation ODS code", required=False, max_length=6)
    user = forms.CharField(label="User name", required=False, max_length=150)
    date_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
