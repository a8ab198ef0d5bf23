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
