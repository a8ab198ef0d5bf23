from __future__ import annotations

import re

from django import forms

PAIR_RE = re.compile(r"^(?P<period>[0-9]{4}-(0[1-9]|1[0-2]))\|(?P<type>Primary|Refresh)$")


class UploadForm(forms.Form):
    """Reporting period (with its implied window type) and the file.

    The choices show what is open when the page is drawn; the submitted pair is re-checked by the
    gate against the time the last byte arrived (spec 8.2), so a stale choice becomes a recorded
    FILE001/FILE002 refusal rather than a form error.
    """

    pair = forms.CharField(label="Reporting period", widget=forms.RadioSelect)
    # An empty file is recorded as a FILE004 refusal (spec 4.6), not a form error.
    file = forms.FileField(
        label="IDB file",
        help_text="An .mdb, .accdb, .zip or .xlsx file, up to 512 MB.",
        allow_empty_file=True,
    )

    def __init__(self, *args, choices: list[tuple[str, str]] | None = None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["pair"].widget.choices = choices or []

    def clean_pair(self) -> tuple[str, str]:
        value = self.cleaned_data["pair"]
        m = PAIR_RE.match(value or "")
        if not m:
            raise forms.ValidationError("Select the reporting period you are submitting.")
        return m.group("period"), m.group("type")


class GenerateYearForm(forms.Form):
    year = forms.IntegerField(label="Calendar year", min_value=2016, max_value=2100)


class WindowEditForm(forms.Form):
    opens_on = forms.DateField(
        label="Opening day", help_text="Uploads accepted from 00:00 UK time on this day."
    )
    closes_on = forms.DateField(
        label="Deadline day", help_text="Uploads accepted until 23:59:59 UK time on this day."
    )
    reason = forms.CharField(
        label="Reason for the change",
        required=False,
        max_length=300,
        help_text="Required when extending a window that is already open.",
    )


class TimetableImportForm(forms.Form):
    file = forms.FileField(
        label="Timetable CSV", help_text="Columns: code, opens_on, closes_on, primary_rp, refresh_rp."
    )
