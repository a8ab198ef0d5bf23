"""Organisations (the register of spec 6.6), users with roles, and the append-only audit trail."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models


class OrganisationType(models.TextChoices):
    PROVIDER = "PROVIDER", "Provider"
    COMMISSIONER = "COMMISSIONER", "Commissioner"
    CSU = "CSU", "Commissioning support unit"
    ADMIN = "ADMIN", "National administrator"


class Organisation(models.Model):
    code = models.CharField(
        "ODS code",
        max_length=6,
        unique=True,
        validators=[
            RegexValidator(r"^[A-Z0-9]{3,6}$", "An ODS code is 3 to 6 upper-case letters or digits.")
        ],
    )
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=12, choices=OrganisationType.choices)
    ltc_mus_pilot = models.BooleanField("LTC/MUS pilot site", default=False)
    ea_pilot = models.BooleanField("EA pilot site", default=False)
    acts_for = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="supported_by",
        help_text="For a CSU: the commissioners whose extracts its users may download.",
    )
    # The Caldicott Guardian: no user of the organisation is approved before one is registered.
    caldicott_guardian_name = models.CharField("Caldicott Guardian's name", max_length=200, blank=True)
    caldicott_guardian_email = models.EmailField("Caldicott Guardian's e-mail", blank=True)
    caldicott_guardian_registered_on = models.DateField(
        "Caldicott Guardian registered on", null=True, blank=True
    )
    # Next BSP_UNIQUE_ID to allocate (spec 1); incremented under a row lock.
    next_bsp_number = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self) -> None:
        self.code = (self.code or "").upper()
        if self.type == OrganisationType.COMMISSIONER and len(self.code) > 5:
            raise ValidationError({"code": "A commissioner code has 3 to 5 characters."})

    @property
    def caldicott_guardian_registered(self) -> bool:
        return bool(
            self.caldicott_guardian_name
            and self.caldicott_guardian_email
            and self.caldicott_guardian_registered_on
        )

    def roles_offered(self) -> list[str]:
        """Roles a person may ask for in this organisation (the national admin role is granted, not asked)."""
        if self.type == OrganisationType.PROVIDER:
            return [Role.PROVIDER_SUBMITTER, Role.PROVIDER_VIEWER]
        if self.type in (OrganisationType.COMMISSIONER, OrganisationType.CSU):
            return [Role.COMMISSIONER_VIEWER]
        return []

    def commissioner_codes(self) -> list[str]:
        """Codes whose commissioner extracts this organisation's users may see."""
        if self.type == OrganisationType.COMMISSIONER:
            return [self.code]
        if self.type == OrganisationType.CSU:
            return sorted(o.code for o in self.acts_for.all())
        return []


class Role(models.TextChoices):
    PROVIDER_SUBMITTER = "provider_submitter", "Provider submitter"
    PROVIDER_VIEWER = "provider_viewer", "Provider viewer"
    COMMISSIONER_VIEWER = "commissioner_viewer", "Commissioner viewer"
    ADMIN = "admin", "National administrator"


class User(AbstractUser):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    role = models.CharField(max_length=24, choices=Role.choices, default=Role.PROVIDER_VIEWER)
    # The organisation's information governance lead: approves its access requests and reads its audit
    # trail, on top of the data role above (an IG lead may be a viewer, a submitter or a commissioner).
    is_ig_lead = models.BooleanField(
        "IG lead",
        default=False,
        help_text="Approves the organisation's access requests and can read its audit trail.",
    )
    # When the "your account will be deactivated" e-mail went; cleared by the next sign-in.
    inactivity_warned_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Optional e-mails (issue 7); errors and access decisions are always sent.
    notify_submission_finished = models.BooleanField(
        "When a file I uploaded has been validated", default=True
    )
    notify_live_receipt = models.BooleanField("A receipt when a file becomes the live file", default=True)
    notify_window_open = models.BooleanField("When a submission window opens", default=True)
    notify_reminders = models.BooleanField(
        "Reminders 5 and 1 working days before a deadline, while a period has no successful file",
        default=True,
    )

    @property
    def is_api_principal(self) -> bool:
        """The service user of an API token (it never signs in through the pages)."""
        return self.username.startswith("api-iapt_")

    @property
    def can_approve_access(self) -> bool:
        return self.is_active and (
            self.is_portal_admin or (self.is_ig_lead and self.organisation_id is not None)
        )

    @property
    def can_read_audit(self) -> bool:
        return self.can_approve_access

    @property
    def is_portal_admin(self) -> bool:
        return self.is_superuser or self.role == Role.ADMIN

    @property
    def can_upload(self) -> bool:
        return (
            self.role == Role.PROVIDER_SUBMITTER
            and self.organisation is not None
            and self.organisation.type == OrganisationType.PROVIDER
        )

    @property
    def is_provider_user(self) -> bool:
        return self.organisation is not None and self.organisation.type == OrganisationType.PROVIDER

    @property
    def is_commissioner_user(self) -> bool:
        return self.organisation is not None and self.organisation.type in (
            OrganisationType.COMMISSIONER,
            OrganisationType.CSU,
        )


class AuditEvent(models.Model):
    """One row per state change or sensitive read. Never updated or deleted by the application."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    from_state = models.CharField(max_length=32, blank=True)
    to_state = models.CharField(max_length=32, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None:
            raise ValidationError("Audit events are append-only.")
        super().save(*args, **kwargs)


class ApiScope(models.TextChoices):
    READ = "read", "Read submissions, reports and extracts"
    SUBMIT = "submit", "Submit files"


class ApiToken(models.Model):
    """A per-organisation API token for systems that submit or download on the organisation's behalf.

    The secret is shown once at creation and stored only as its SHA-256 hash. Each token acts through
    its own service user (``principal``: no password, the organisation's role for the token's scopes),
    so submissions and audit rows made with it name the token, not a person.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="api_tokens")
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    principal = models.OneToOneField(User, on_delete=models.PROTECT, related_name="api_token")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. the sending system.")
    scopes = models.CharField(max_length=32, help_text="Space-separated: read, submit.")
    prefix = models.CharField(max_length=16, unique=True, help_text="The token's first characters.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… {self.name}"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def has_scope(self, scope: str) -> bool:
        return scope in self.scope_list

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AccessRequestStatus(models.TextChoices):
    PENDING = "PENDING", "Waiting for approval"
    APPROVED = "APPROVED", "Approved"
    REFUSED = "REFUSED", "Refused"


class AccessRequest(models.Model):
    """A person's request for a role in an organisation, with their data user certificate.

    The person's account is created inactive with the request; approval activates it with the organisation
    and role asked for. Approved by the organisation's IG lead or a national administrator, and only once
    the organisation's Caldicott Guardian is registered.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_requests")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="access_requests")
    role = models.CharField(max_length=24, choices=Role.choices)
    status = models.CharField(
        max_length=10, choices=AccessRequestStatus.choices, default=AccessRequestStatus.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The data user certificate, as declared by the person.
    job_title = models.CharField(max_length=200)
    telephone = models.CharField(max_length=40)
    line_manager_name = models.CharField("line manager's name", max_length=200)
    line_manager_email = models.EmailField("line manager's e-mail")
    ig_training_completed_on = models.DateField("information governance training completed on")
    purpose = models.TextField("what you will use the data for")
    declares_confidentiality = models.BooleanField(default=False)
    declares_purpose_only = models.BooleanField(default=False)
    declares_no_sharing = models.BooleanField(default=False)
    declares_report_breaches = models.BooleanField(default=False)
    # The decision.
    decided_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user.get_username()} for {self.organisation.code} as {self.get_role_display()}"

    @property
    def is_pending(self) -> bool:
        return self.status == AccessRequestStatus.PENDING
