from __future__ import annotations

from django import forms

from .models import ApiScope

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
