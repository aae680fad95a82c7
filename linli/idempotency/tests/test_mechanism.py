"""The Idempotency-Key rule itself, on a throw-away API (linli/idempotency/tests/urls.py)
that writes admin log entries; each domain app's tests check its own writes."""

import json
import threading
from datetime import timedelta

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.db import connection, transaction
from django.test import Client

from linli import clock
from linli.conftest import make_user, run_together
from linli.idempotency.models import IdempotencyRecord
from linli.idempotency.services import (
    idempotency_records_purge,
    key_parse,
    record_claim,
)
from linli.idempotency.tasks import purge_expired
from linli.idempotency.tests import urls as test_api
from linli.idempotency.tests.helpers import assert_same_redirect, form_token, submit_twice
from linli.testing.clients import client_for

pytestmark = pytest.mark.urls("linli.idempotency.tests.urls")

URL = "/api/entries"
KEY = "3f1c9a52-7d0e-4b8e-9a51-2c4f0d6e8b17"


@pytest.fixture(autouse=True)
def _ordinary_behaviour():
    test_api.BEHAVIOUR.update(fail_next=0, crash_next=0, pause_seconds=0.0)
    yield
    test_api.BEHAVIOUR.update(fail_next=0, crash_next=0, pause_seconds=0.0)


@pytest.fixture
def user(db):
    return make_user("writer")


@pytest.fixture(autouse=True)
def _sessions_outlive_the_clock(settings):
    # The expiry tests move the clock a day on; the login must not expire with it.
    settings.SESSION_COOKIE_AGE = 30 * 24 * 3600


@pytest.fixture
def client(user) -> Client:
    return client_for(user, raise_request_exception=False)


def post(client, body, *, key: str | None = KEY, url: str = URL, **extra):
    headers = {"Idempotency-Key": key} if key is not None else {}
    payload = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, payload, content_type="application/json", headers=headers, **extra)


def test_the_same_key_twice_answers_the_first_answer_and_writes_once(client, user):
    first = post(client, {"name": "一号"})
    second = post(client, {"name": "一号"})

    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"] == "application/json; charset=utf-8"
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert LogEntry.objects.count() == 1
    record = IdempotencyRecord.objects.get()
    assert (record.caller, record.key, record.method, record.status_code, record.completed) == (
        f"user:{user.pk}",
        KEY,
        "POST",
        201,
        True,
    )
    assert record.route == "linli.idempotency.tests.urls.entry_create"
    assert json.loads(record.response_body) == first.json()


def test_without_a_key_every_post_writes(client):
    post(client, {"name": "一号"}, key=None)
    post(client, {"name": "一号"}, key=None)
    assert LogEntry.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 0


def test_a_different_key_is_a_second_write(client):
    first = post(client, {"name": "一号"}, key="key-1")
    second = post(client, {"name": "一号"}, key="key-2")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert LogEntry.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 2


def test_the_same_key_with_another_body_is_refused_and_writes_nothing(client):
    post(client, {"name": "一号"})
    refused = post(client, {"name": "二号"})
    assert refused.status_code == 422
    assert refused.json() == {
        "message": "This Idempotency-Key was already used for a different request; send a new "
        "key with a new request.",
        "field": "Idempotency-Key",
    }
    assert "Idempotent-Replayed" not in refused
    assert list(LogEntry.objects.values_list("object_repr", flat=True)) == ["一号"]
    assert IdempotencyRecord.objects.count() == 1


def test_the_same_key_on_another_route_or_path_is_refused(client):
    created = post(client, {"name": "一号"}).json()
    on_another_route = post(client, {"name": "一号"}, url=f"{URL}/{created['id']}/rename")
    assert on_another_route.status_code == 422
    other = post(client, {"name": "二号"}, key="other").json()
    post(client, {"name": "改名"}, key="rename", url=f"{URL}/{created['id']}/rename")
    on_another_path = post(
        client, {"name": "改名"}, key="rename", url=f"{URL}/{other['id']}/rename"
    )
    assert on_another_path.status_code == 422
    assert LogEntry.objects.get(pk=other["id"]).object_repr == "二号"


def test_the_same_json_with_its_keys_in_another_order_is_the_same_request(client):
    first = post(client, '{"name": "一号", "extra": 1}')
    again = post(client, '{ "extra" : 1 , "name" : "一号" }')
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert LogEntry.objects.count() == 1


def test_a_key_from_another_user_is_independent(client, user, db):
    other = Client(headers={"Accept-Language": "en"})
    other.force_login(make_user("other-writer"))
    mine = post(client, {"name": "一号"})
    theirs = post(other, {"name": "一号"})
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert mine.json()["id"] != theirs.json()["id"]
    assert LogEntry.objects.count() == 2
    assert set(IdempotencyRecord.objects.values_list("key", flat=True)) == {KEY}
    assert IdempotencyRecord.objects.count() == 2


@pytest.mark.parametrize(
    "key",
    ["", " ", "a" * 256, "has space", "含中文", "semi;colon", 'quote"inside', "tab\there"],
)
def test_a_malformed_key_is_refused_naming_the_header_and_writes_nothing(client, key):
    refused = post(client, {"name": "一号"}, key=key)
    assert refused.status_code == 422
    assert refused.json() == {
        "message": "The Idempotency-Key header must be 1 to 255 characters: letters, digits "
        "and . _ : ~ + / = -",
        "field": "Idempotency-Key",
    }
    assert LogEntry.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0


def test_the_longest_key_and_a_quoted_key_are_accepted():
    longest = "A1._:~+/=-" * 25 + "Z" * 5
    assert key_parse(longest) == longest
    # The IETF draft sends the key as a quoted string: the quoted and the bare key are one.
    assert key_parse(f'"{KEY}"') == KEY


def test_a_quoted_key_replays_the_bare_key(client):
    post(client, {"name": "一号"})
    again = post(client, {"name": "一号"}, key=f'"{KEY}"')
    assert again["Idempotent-Replayed"] == "true"
    assert LogEntry.objects.count() == 1


def test_a_refusal_is_stored_and_replayed(client):
    first = post(client, {"name": "refused"})
    again = post(client, {"name": "refused"})
    assert first.status_code == again.status_code == 400
    assert again.json() == first.json() == {"message": "This name is refused.", "field": "name"}
    assert again["Idempotent-Replayed"] == "true"
    assert IdempotencyRecord.objects.get().status_code == 400


def test_input_outside_the_schema_is_answered_before_the_key_is_claimed(client):
    invalid = post(client, {"title": "no name"})
    assert invalid.status_code == 422
    assert IdempotencyRecord.objects.count() == 0
    # The corrected request may then use the same key.
    assert post(client, {"name": "一号"}).status_code == 201
    assert LogEntry.objects.count() == 1


def test_an_anonymous_caller_is_refused_before_the_key_is_claimed(db):
    anonymous = Client(headers={"Accept-Language": "en"})
    assert post(anonymous, {"name": "一号"}).status_code == 401
    assert IdempotencyRecord.objects.count() == 0


def test_a_5xx_answer_keeps_neither_the_write_nor_the_record_and_a_retry_runs_again(client):
    test_api.BEHAVIOUR["fail_next"] = 1
    failed = post(client, {"name": "一号"})
    assert failed.status_code == 503
    assert LogEntry.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0

    retried = post(client, {"name": "一号"})
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried
    assert LogEntry.objects.count() == 1
    assert IdempotencyRecord.objects.get().status_code == 201


def test_a_handler_that_crashes_after_writing_leaves_nothing_behind(client):
    test_api.BEHAVIOUR["crash_next"] = 1
    crashed = post(client, {"name": "一号"})
    assert crashed.status_code == 500
    assert LogEntry.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0
    assert post(client, {"name": "一号"}).status_code == 201
    assert LogEntry.objects.count() == 1


def test_an_unfinished_first_request_answers_409(client):
    # Records are completed inside the claiming transaction, so no other request sees an
    # unfinished one; a record left unfinished (by hand, or by a future non-atomic caller)
    # is answered "in progress" rather than run a second time.
    post(client, {"name": "一号"}, key="probe")
    probe = IdempotencyRecord.objects.get(key="probe")
    IdempotencyRecord.objects.create(
        caller=probe.caller,
        key=KEY,
        method=probe.method,
        route=probe.route,
        request_hash=probe.request_hash,
        completed=False,
    )
    busy = post(client, {"name": "一号"})
    assert busy.status_code == 409
    assert busy.json() == {
        "message": "The first request with this Idempotency-Key has not finished; retry in a "
        "moment.",
        "field": "Idempotency-Key",
    }
    assert LogEntry.objects.count() == 1


def test_an_operation_without_the_decorator_ignores_the_header(client):
    post(client, {"name": "一号"}, url=f"{URL}/plain")
    post(client, {"name": "一号"}, url=f"{URL}/plain")
    assert LogEntry.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 0


def test_a_claim_outside_a_transaction_is_a_programming_error(transactional_db):
    with pytest.raises(RuntimeError):
        record_claim(caller="user:1", key=KEY, method="POST", route="r", request_hash="0" * 64)
    assert IdempotencyRecord.objects.count() == 0


def test_records_expire_after_a_day_and_the_key_may_be_used_again(client):
    with time_machine.travel(clock.now(), tick=False) as traveller:
        first = post(client, {"name": "一号"})
        traveller.shift(timedelta(hours=23, minutes=59))
        assert post(client, {"name": "一号"})["Idempotent-Replayed"] == "true"
        traveller.shift(timedelta(minutes=2))
        again = post(client, {"name": "一号"})
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert again.json()["id"] != first.json()["id"]
    assert LogEntry.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 1


def test_the_lifetime_is_a_setting(client, settings):
    settings.LINLI_IDEMPOTENCY_HOURS = 1
    with time_machine.travel(clock.now(), tick=False) as traveller:
        post(client, {"name": "一号"})
        traveller.shift(timedelta(minutes=61))
        assert "Idempotent-Replayed" not in post(client, {"name": "一号"})
    assert LogEntry.objects.count() == 2


def test_the_purge_deletes_expired_records_only(client):
    with time_machine.travel(clock.now(), tick=False) as traveller:
        post(client, {"name": "旧"}, key="old-1")
        post(client, {"name": "旧"}, key="old-2")
        traveller.shift(timedelta(hours=20))
        post(client, {"name": "新"}, key="recent")
        traveller.shift(timedelta(hours=5))
        assert idempotency_records_purge() == 2
        assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]
        traveller.shift(timedelta(hours=20))
        # The periodic job (linli/settings.py) runs the same purge.
        assert purge_expired.apply().get() == 1
    assert IdempotencyRecord.objects.count() == 0
    assert LogEntry.objects.count() == 3


def test_the_purge_is_scheduled(settings):
    schedule = settings.LINLI_JOBS
    tasks = {entry["task"] for entry in schedule.values()}
    assert "idempotency.purge_expired" in tasks


# PostgreSQL: two requests with the same key at the same instant ---------------------------


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are a PostgreSQL matter")
def test_two_requests_with_the_same_key_at_once_write_once_and_answer_alike(transactional_db):
    user = make_user("racer")
    # The first holds its transaction open a moment, so the second really arrives while the
    # first is running and has to wait for it on the key's unique index.
    test_api.BEHAVIOUR["pause_seconds"] = 0.3
    answers: list = []
    lock = threading.Lock()

    def send():
        client = Client()
        client.force_login(user)
        response = post(client, {"name": "同时"})
        with lock:
            answers.append(response)

    assert run_together(send, send, send) == []

    assert LogEntry.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1
    assert [response.status_code for response in answers] == [201, 201, 201]
    assert len({response.content for response in answers}) == 1
    assert sorted(response.get("Idempotent-Replayed", "") for response in answers) == [
        "",
        "true",
        "true",
    ]


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are a PostgreSQL matter")
def test_a_first_request_that_fails_lets_the_waiting_one_run(transactional_db):
    user = make_user("racer")
    test_api.BEHAVIOUR.update(pause_seconds=0.3, fail_next=1)
    statuses: list[int] = []
    lock = threading.Lock()

    def send():
        client = Client()
        client.force_login(user)
        response = post(client, {"name": "同时"})
        with lock:
            statuses.append(response.status_code)

    assert run_together(send, send) == []

    # One answered 503 and rolled back; the other, waiting on the key, then ran it.
    assert sorted(statuses) == [201, 503]
    assert LogEntry.objects.count() == 1
    assert IdempotencyRecord.objects.get().status_code == 201


def test_the_record_is_written_in_the_writes_transaction(client, user):
    # A caller's own transaction that rolls back takes the record with it.
    with pytest.raises(RuntimeError), transaction.atomic():
        record_claim(
            caller=f"user:{user.pk}", key=KEY, method="POST", route="r", request_hash="0" * 64
        )
        raise RuntimeError("rolled back")
    assert IdempotencyRecord.objects.count() == 0


# Web forms: the one-time token ------------------------------------------------------------


FORM_URL = "/entries/new/"


def test_a_form_sent_twice_with_its_token_writes_once_and_redirects_alike(client):
    token = form_token(client.get(FORM_URL).content.decode(), 'data-testid="entry-form"')
    first, second = submit_twice(client, FORM_URL, {"name": "一号", "once_token": token})
    assert_same_redirect(first, second)
    assert LogEntry.objects.count() == 1
    assert first["Location"] == f"/entries/{LogEntry.objects.get().pk}/"
    record = IdempotencyRecord.objects.get()
    assert (record.status_code, record.response_headers) == (302, {"Location": first["Location"]})


def test_each_rendering_of_a_form_carries_a_new_token(client):
    tokens = {
        form_token(client.get(FORM_URL).content.decode(), 'data-testid="entry-form"')
        for _ in range(3)
    }
    assert len(tokens) == 3


def test_a_form_without_a_token_or_with_a_mangled_one_is_an_ordinary_submission(client):
    client.post(FORM_URL, {"name": "一号"})
    client.post(FORM_URL, {"name": "一号"})
    client.post(FORM_URL, {"name": "一号", "once_token": "not a token"})
    client.post(FORM_URL, {"name": "一号", "once_token": "not a token"})
    assert LogEntry.objects.count() == 4
    assert IdempotencyRecord.objects.count() == 0


def test_a_form_redisplayed_with_errors_keeps_no_record(client):
    token = form_token(client.get(FORM_URL).content.decode(), 'data-testid="entry-form"')
    again = client.post(FORM_URL, {"name": "", "once_token": token})
    assert again.status_code == 200
    assert IdempotencyRecord.objects.count() == 0
    # The corrected form goes through, even were it sent with the old token.
    assert client.post(FORM_URL, {"name": "一号", "once_token": token}).status_code == 302
    assert LogEntry.objects.count() == 1


def test_a_token_sent_back_with_a_changed_form_is_an_ordinary_submission(client):
    # The browser restored an old form (back button) and the user changed it: not a repeat.
    token = form_token(client.get(FORM_URL).content.decode(), 'data-testid="entry-form"')
    client.post(FORM_URL, {"name": "一号", "once_token": token})
    changed = client.post(FORM_URL, {"name": "二号", "once_token": token})
    assert changed.status_code == 302
    assert "Idempotent-Replayed" not in changed
    assert list(LogEntry.objects.order_by("id").values_list("object_repr", flat=True)) == [
        "一号",
        "二号",
    ]


def test_a_form_token_from_another_user_is_independent(client, db):
    token = form_token(client.get(FORM_URL).content.decode(), 'data-testid="entry-form"')
    other = Client()
    other.force_login(make_user("other-writer"))
    client.post(FORM_URL, {"name": "一号", "once_token": token})
    theirs = other.post(FORM_URL, {"name": "一号", "once_token": token})
    assert "Idempotent-Replayed" not in theirs
    assert LogEntry.objects.count() == 2
