import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_field_key_fingerprint"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="key_prefix",
            field=models.CharField(blank=True, max_length=8, verbose_name="token begins with"),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="name",
            field=models.CharField(blank=True, max_length=100, verbose_name="name"),
        ),
        # Tokens issued before tokens could expire never did: they expire now, and their apps
        # log in again for a token with an expiry.
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, verbose_name="expires at"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="apitoken",
            name="revoked_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="revoked at"),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="revoked_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("by_owner", "Revoked by its owner"),
                    ("by_administrator", "Revoked by an administrator"),
                    ("logout", "Logged out"),
                    ("password_changed", "Password changed"),
                    ("deactivated", "Account deactivated"),
                    ("role_removed", "Role removed"),
                ],
                max_length=20,
                verbose_name="why revoked",
            ),
        ),
        migrations.AddIndex(
            model_name="apitoken",
            index=models.Index(fields=["user", "revoked_at"], name="apitoken_user_revoked"),
        ),
        migrations.AddConstraint(
            model_name="apitoken",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("revoked_at__isnull", True), ("revoked_reason", "")),
                    models.Q(
                        ("revoked_at__isnull", False),
                        models.Q(("revoked_reason", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="apitoken_revocation_has_reason",
            ),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="reason_code",
            field=models.CharField(blank=True, max_length=30),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="action",
            field=models.CharField(
                choices=[
                    ("create", "Created"),
                    ("update", "Updated"),
                    ("delete", "Deleted"),
                    ("reveal", "Revealed"),
                    ("import", "Imported"),
                    ("export", "Exported"),
                    ("import_check", "Checked an import"),
                    ("link", "Linked a login"),
                    ("unlink", "Unlinked a login"),
                    ("role_grant", "Granted a role"),
                    ("role_revoke", "Removed a role"),
                    ("token_revoke", "Revoked an API token"),
                    ("two_factor", "Changed two-factor sign-in"),
                    ("anonymise", "Anonymised"),
                    ("correct", "Corrected on request"),
                    ("consent", "Accepted the privacy notice"),
                ],
                max_length=16,
            ),
        ),
    ]
