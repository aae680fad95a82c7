"""The in-app inbox. Reads through notify.selectors, writes through notify.services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from linli.forms import form_add_errors
from linli.notify import selectors
from linli.notify.contacts import contact_address
from linli.notify.events import EVENTS, describe_target, event_for, is_urgent
from linli.notify.forms import PreferenceForm
from linli.notify.models import Channel
from linli.notify.services import (
    mute_kind_undo,
    notification_mark_read,
    notifications_mark_all_read,
    preference_update,
    unfollow,
    unsubscribe_apply,
)
from linli.notify.unsubscribe import unsubscribe_read

PAGE_SIZE = 30


@login_required
def inbox(request):
    notifications = selectors.inbox(request.user)
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notify/inbox.html",
        {"page": page, "unread": selectors.unread_count(request.user)},
    )


@login_required
@require_POST
def mark_read(request, notification_id: int):
    notification = selectors.notification_get(user=request.user, notification_id=notification_id)
    notification_mark_read(user=request.user, notification=notification)
    # "Open" marks read and follows the link; the link is validated as a site path on send.
    if request.POST.get("open") and notification.link:
        return redirect(notification.link)
    return redirect("notify:inbox")


@login_required
@require_POST
def mark_all_read(request):
    notifications_mark_all_read(user=request.user)
    return redirect("notify:inbox")


# Exempt: a mail client posts the one-click form without a CSRF token; the signed token
# is the proof, and unsubscribing is all it can do.
@csrf_exempt
def unsubscribe(request, token: str):
    """A message's unsubscribe link: no login needed (the token is signed). The page asks
    for one click (a GET changes nothing: mail scanners follow links); a mail client's own
    one-click button (RFC 8058) POSTs."""
    try:
        what = unsubscribe_read(token)
    except ValidationError:
        return render(request, "notify/unsubscribe.html", {"invalid": True}, status=400)
    done = False
    if request.method == "POST":
        what = unsubscribe_apply(token)
        done = True
    return render(
        request,
        "notify/unsubscribe.html",
        {
            "what": what,
            "done": done,
            "urgent": not what.target and is_urgent(what.kind),
            "event": event_for(what.kind),
        },
    )


@login_required
def preferences(request):
    """The person's own channels, quiet hours, digest, follows and muted kinds."""
    preference = selectors.preference_of(request.user)
    form = PreferenceForm(request.POST or None, instance=preference)
    if request.method == "POST" and form.is_valid():
        try:
            preference_update(user=request.user, updated_by=request.user, values=form.values())
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, _("Your notification settings are saved."))
            return redirect("notify:preferences")
    muted = [EVENTS.get(kind) or kind for kind in preference.muted_kinds or []]
    # A channel without an address cannot reach the person, ticked or not: say so by it.
    missing = {
        channel: not contact_address(request.user, channel)
        for channel in (Channel.SMS, Channel.EMAIL, Channel.WECHAT)
    }
    return render(
        request,
        "notify/preferences.html",
        {
            "form": form,
            "missing": missing,
            "subscriptions": [
                (subscription, *describe_target(subscription.target))
                for subscription in selectors.subscriptions_of(request.user)
            ],
            "muted": list(zip(preference.muted_kinds or [], muted, strict=True)),
        },
    )


@login_required
@require_POST
def unfollow_target(request):
    unfollow(user=request.user, target=request.POST.get("target", ""))
    return redirect(_safe_next(request, "notify:preferences"))


@login_required
@require_POST
def unmute(request):
    mute_kind_undo(user=request.user, kind=request.POST.get("kind", ""))
    return redirect("notify:preferences")


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(default)
