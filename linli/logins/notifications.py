"""Reaching people, for staff: a person's notification settings set on their behalf (a
resident who asks by phone) and the messages no retry can deliver, to fix.

Scoped like every login page: the logins of the actor's area (Permission.MANAGE_ROLES)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from linli.accounts.models import AuditAction, User
from linli.forms import form_add_errors
from linli.logins import selectors
from linli.logins.services import _audit_login, _filing_path, _visible
from linli.notify.contacts import contact_address
from linli.notify.forms import PreferenceForm
from linli.notify.models import Channel, NotificationPreference
from linli.notify.selectors import preference_of, undeliverable_messages
from linli.notify.services import preference_update

PAGE_SIZE = 50
# The logins checked for a phone (one query each through the contact sources) and listed.
NO_PHONE_SCANNED = 500
NO_PHONE_SHOWN = 50


@transaction.atomic
def preference_set_on_behalf(*, actor: User, login: User, values: dict) -> NotificationPreference:
    """Staff set a person's channels, quiet hours, digest or SMS phone for them; audited."""
    login = _visible(actor, login)
    before = preference_of(login)
    preference = preference_update(user=login, updated_by=actor, values=values)
    changes = {
        name: [str(getattr(before, name)), str(getattr(preference, name))]
        for name in values
        if getattr(before, name) != getattr(preference, name)
    }
    if changes:
        _audit_login(
            actor=actor,
            login=login,
            action=AuditAction.UPDATE,
            grid_path=_filing_path(actor, login),
            field="notification_preference",
            changes=changes,
            reason_code="notification_preference",
        )
    return preference


@login_required
@never_cache
def preferences_on_behalf(request: HttpRequest, login_id: int) -> HttpResponse:
    login = selectors.login_get(user=request.user, login_id=login_id)
    form = PreferenceForm(request.POST or None, instance=preference_of(login))
    if request.method == "POST" and form.is_valid():
        try:
            preference_set_on_behalf(actor=request.user, login=login, values=form.values())
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, _("The notification settings are saved."))
            return redirect("logins:detail", login_id=login.pk)
    return render(
        request,
        "logins/preferences.html",
        {"login": login, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@never_cache
def undeliverable(request: HttpRequest) -> HttpResponse:
    """Messages to people of the actor's area that failed for good (no phone, a number the
    gateway refused), newest first, each with the reason and a link to fix the person's
    contact."""
    selectors.needs_login_manager(user=request.user)
    people = selectors.logins_visible(user=request.user)
    failed = undeliverable_messages(recipient_ids=people.values("pk"))
    page = Paginator(failed, PAGE_SIZE).get_page(request.GET.get("page"))
    # Who hears only in the inbox because no phone is known for SMS (no message fails for
    # them: a channel without an address is not tried), the first of them to fix.
    active = people.filter(is_active=True).order_by("display_name", "username")
    no_phone = [
        login for login in active[:NO_PHONE_SCANNED] if not contact_address(login, Channel.SMS)
    ]
    return render(
        request,
        "logins/undeliverable.html",
        {"page": page, "no_phone": no_phone[:NO_PHONE_SHOWN], "no_phone_count": len(no_phone)},
    )
