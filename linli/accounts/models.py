import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.accounts.fields import GridPathField
from linli.accounts.grid_paths import within


class User(AbstractUser):
    """A person who logs in. What they may see comes from their RoleAssignments (grids)."""

    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    # Optional: where SMS notifications go (linli.notify.channels); without it SMS fails with
    # that reason. Set by an operator in the admin (superusers only).
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username


class TokenRevocation(models.TextChoices):
    """Why a bearer token stopped answering before it expired."""

    BY_OWNER = "by_owner", _("Revoked by its owner")
    BY_ADMINISTRATOR = "by_administrator", _("Revoked by an administrator")
    LOGOUT = "logout", _("Logged out")
    PASSWORD_CHANGED = "password_changed", _("Password changed")
    DEACTIVATED = "deactivated", _("Account deactivated")
    ROLE_REMOVED = "role_removed", _("Role removed")


class ApiToken(models.Model):
    """A bearer token for apps. Only its SHA-256 is stored; the token is shown once.

    A token answers until `expires_at` or until it is revoked (`revoked_at`, with the reason);
    revoked and expired rows are kept for the owner's list and the audit trail."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    # The first characters of the token, so that its owner can tell their tokens apart.
    key_prefix = models.CharField(_("token begins with"), max_length=8, blank=True)
    name = models.CharField(_("name"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_reason = models.CharField(
        _("why revoked"), max_length=20, choices=TokenRevocation.choices, blank=True
    )

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [models.Index(fields=["user", "revoked_at"], name="apitoken_user_revoked")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(revoked_at__isnull=True, revoked_reason="")
                | (models.Q(revoked_at__isnull=False) & ~models.Q(revoked_reason="")),
                name="apitoken_revocation_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.created_at:%Y-%m-%d}"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def new_key() -> str:
        return secrets.token_urlsafe(32)


class AuditAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Updated")
    DELETE = "delete", _("Deleted")
    REVEAL = "reveal", _("Revealed")
    IMPORT = "import", _("Imported")
    EXPORT = "export", _("Exported")
    # An import checked without writing (dry run): it reads ID numbers against the register.
    IMPORT_CHECK = "import_check", _("Checked an import")
    LINK = "link", _("Linked a login")
    UNLINK = "unlink", _("Unlinked a login")
    ROLE_GRANT = "role_grant", _("Granted a role")
    ROLE_REVOKE = "role_revoke", _("Removed a role")
    TOKEN_REVOKE = "token_revoke", _("Revoked an API token")
    TWO_FACTOR = "two_factor", _("Changed two-factor sign-in")
    ANONYMISE = "anonymise", _("Anonymised")
    CORRECT = "correct", _("Corrected on request")
    CONSENT = "consent", _("Accepted the privacy notice")


class AuditEntryQuerySet(models.QuerySet):
    def within_paths(self, paths: list[str]) -> "AuditEntryQuerySet":
        return self.filter(within(paths))


class AuditEntry(models.Model):
    """Append-only record of who changed, revealed or exported personal data, and why.

    `grid_path` is the path of the grid unit the object belongs to, so that a secretary reads
    exactly the entries of their own subtree.
    """

    actor = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    object_type = models.CharField(max_length=50)
    object_id = models.CharField(max_length=50, blank=True)
    object_label = models.CharField(max_length=200, blank=True)
    field = models.CharField(max_length=50, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    # For reveals: the purpose picked from a short list (linli.accounts.reveals), beside the
    # free text in `reason`.
    reason_code = models.CharField(max_length=30, blank=True)
    grid_path = GridPathField(blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["grid_path"], name="auditentry_grid_path_prefix")]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(action="reveal") | ~models.Q(reason=""),
                name="audit_reveal_needs_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.actor} {self.action} {self.object_type}:{self.object_id}"


class FieldKeyFingerprint(models.Model):
    """Which field key the ID numbers stored here need: an HMAC of a fixed label under the
    key (linli.accounts.fieldkey), never the key itself. One row.

    Written at migrate and whenever the configured key is proven to read the stored numbers;
    the platform refuses to start with a key whose fingerprint differs while ID numbers are
    stored, instead of answering every reveal with a 500 and storing duplicates on import."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    fingerprint = models.CharField(max_length=64)
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("field key fingerprint")
        verbose_name_plural = _("field key fingerprints")
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="fieldkeyfingerprint_one_row"),
        ]

    def __str__(self) -> str:
        return self.fingerprint[:16]
