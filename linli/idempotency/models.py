"""The stored first answer to a write sent with an `Idempotency-Key`.

One row per (caller, key). The row is written in the same transaction as the write it
guards, so a crash either commits both or neither: a client that retries after an
ambiguous failure finds the answer if, and only if, the write happened.
"""

import re

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli import clock

HEADER = "Idempotency-Key"
# Long enough for a UUID, a ULID or a client's own "<device>:<counter>"; the charset is that
# of a URL-safe token, so a key never needs escaping in a log line or a header.
KEY_MAX_LENGTH = 255
KEY_CHARACTERS = r"A-Za-z0-9._:~+/=-"
KEY_PATTERN = re.compile(rf"[{KEY_CHARACTERS}]{{1,{KEY_MAX_LENGTH}}}")


class IdempotencyRecord(models.Model):
    # "user:<id>" for an /api/v1 caller, "open311:<key id>" for an Open311 client: a key is
    # only ever looked up among its own caller's, so two callers never share an answer.
    caller = models.CharField(_("caller"), max_length=64)
    key = models.CharField(_("idempotency key"), max_length=KEY_MAX_LENGTH)
    method = models.CharField(_("HTTP method"), max_length=10)
    # The operation, as the dotted name of its handler (e.g. linli.cases.api.case_file).
    route = models.CharField(_("route"), max_length=200)
    # SHA-256 of the path, query string and body: the same key with another request is
    # refused instead of answered with the wrong write's answer.
    request_hash = models.CharField(_("request hash"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    content_type = models.CharField(_("response content type"), max_length=100, blank=True)
    response_body = models.TextField(_("response body"), blank=True)
    # The headers a replay must repeat: a web form's answer is a redirect, its Location.
    response_headers = models.JSONField(_("response headers"), default=dict, blank=True)
    # False only inside the transaction that claimed the key; the answer and the flag are
    # written before that transaction commits, so other requests see a completed record.
    completed = models.BooleanField(_("answer stored"), default=False)
    created_at = models.DateTimeField(_("created at"), default=clock.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(
                fields=["caller", "key"], name="idempotencyrecord_unique_caller_key"
            ),
            models.CheckConstraint(
                condition=Q(completed=False) | Q(status_code__isnull=False),
                name="idempotencyrecord_completed_has_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.caller} · {self.key}"
