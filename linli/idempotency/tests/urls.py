"""A throw-away API for the mechanism's own tests. It writes admin log entries (a table of
no domain app, with no unique column, so that two writes of the same body can both land),
and can refuse, fail or crash on demand."""

import time

from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.template import Context, Template
from django.urls import path
from ninja import NinjaAPI, Schema, Status
from ninja.security import django_auth

from linli.idempotency.decorators import idempotent
from linli.idempotency.web import once_per_form

api = NinjaAPI(urls_namespace="idempotency-test", auth=django_auth, docs_url=None)

# The test sets these to make the next call fail, or to hold the transaction open.
BEHAVIOUR = {"fail_next": 0, "crash_next": 0, "pause_seconds": 0.0}


class EntryIn(Schema):
    name: str


class EntryOut(Schema):
    id: int
    name: str


class ErrorOut(Schema):
    message: str
    field: str | None = None


@api.exception_handler(ValueError)
def refused(request, exc):
    return api.create_response(request, {"message": str(exc), "field": "name"}, status=400)


def _entry(request, name: str) -> LogEntry:
    return LogEntry.objects.create(user=request.user, object_repr=name, action_flag=ADDITION)


@api.post("/entries", response={201: EntryOut, 400: ErrorOut, 503: ErrorOut})
@idempotent
def entry_create(request, payload: EntryIn):
    if payload.name == "refused":
        raise ValueError("This name is refused.")
    entry = _entry(request, payload.name)
    if BEHAVIOUR["pause_seconds"]:
        time.sleep(BEHAVIOUR["pause_seconds"])
    if BEHAVIOUR["fail_next"]:
        BEHAVIOUR["fail_next"] -= 1
        return Status(503, {"message": "Try again later."})
    if BEHAVIOUR["crash_next"]:
        BEHAVIOUR["crash_next"] -= 1
        raise RuntimeError("the handler crashed after writing")
    return Status(201, {"id": entry.pk, "name": entry.object_repr})


@api.post("/entries/{int:entry_id}/rename", response={200: EntryOut})
@idempotent
def entry_rename(request, entry_id: int, payload: EntryIn):
    entry = LogEntry.objects.get(pk=entry_id)
    entry.object_repr = payload.name
    entry.save()
    return {"id": entry.pk, "name": entry.object_repr}


@api.post("/entries/plain", response={201: EntryOut})
def entry_create_plain(request, payload: EntryIn):
    entry = _entry(request, payload.name)
    return Status(201, {"id": entry.pk, "name": entry.object_repr})


FORM = Template(
    '{% load idempotency %}<form method="post" data-testid="entry-form">{% once_token %}'
    '<input name="name"></form>'
)


@login_required
@once_per_form
def entry_form(request):
    """A web form: a redirect when it did its work, the form again (200) when it did not."""
    if request.method == "POST":
        name = request.POST.get("name", "")
        if name:
            entry = _entry(request, name)
            return HttpResponseRedirect(f"/entries/{entry.pk}/")
    return HttpResponse(FORM.render(Context()))


urlpatterns = [path("api/", api.urls), path("entries/new/", entry_form)]
