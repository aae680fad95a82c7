"""What the domain apps' Idempotency-Key tests share: a keyed POST and the replay check."""

import json
import re

from django.test import Client

from linli.idempotency.models import IdempotencyRecord

KEY = "9b2d7c1e-4f3a-4e6b-8c5d-1a2b3c4d5e6f"
OTHER_KEY = "0c8e6a4f-2b1d-4c3e-9f7a-6b5c4d3e2f1a"


def keyed_post(client: Client, url: str, data: dict | None = None, *, key: str | None = KEY):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(
        url, json.dumps(data or {}), content_type="application/json", headers=headers
    )


def assert_replayed(first, second, status: int) -> None:
    """The second answer is the first one again, marked as a replay."""
    assert first.status_code == status, first.content
    assert second.status_code == status
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first


def assert_refused_as_reused(response) -> None:
    assert response.status_code == 422
    assert response.json() == {
        "message": "This Idempotency-Key was already used for a different request; send a new "
        "key with a new request.",
        "field": "Idempotency-Key",
    }


def records() -> int:
    return IdempotencyRecord.objects.count()


def form_token(page: str, marker: str) -> str:
    """The one-time token inside the form whose opening tag contains `marker` (its action
    or its data-testid): proves the page renders it, as a browser would send it."""
    start = page.index(marker)
    form = page[start : page.index("</form>", start)]
    found = re.search(r'name="once_token" value="([0-9a-f]{32})"', form)
    assert found, f"no once_token in the form at {marker!r}"
    return found.group(1)


def submit_twice(client: Client, url: str, data: dict):
    """The same form sent twice, as a double tap sends it."""
    return client.post(url, data), client.post(url, data)


def assert_same_redirect(first, second) -> None:
    assert first.status_code == 302, first.content[:500]
    assert second.status_code == 302
    assert second["Location"] == first["Location"]
    assert second["Idempotent-Replayed"] == "true"
