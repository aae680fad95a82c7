"""One answer per `Idempotency-Key`: a client that retries a write after an ambiguous
failure (a dropped connection, a 502 from a restarting worker) gets the first answer back
instead of a second case, claim or stock movement.

Used by the domain apps' API operations (`linli.idempotency.decorators.idempotent`), by plain
Django views (`linli.idempotency.services.idempotent_response`, e.g. Open311) and by web
forms against double submission (`linli.idempotency.web.once_per_form` with the template tag
`{% once_token %}`). The rule is written out in services.py. Imports no domain app.
"""
