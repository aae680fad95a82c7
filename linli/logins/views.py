"""The login pages: the area's logins, a new login, one login's page and its actions, and
the page where someone who got a temporary password sets their own.

Thin: reads through linli.logins.selectors, writes through linli.logins.services. Anyone who
assigns no posts gets 404 from every page but the last; a refusal of a service (NotAllowed)
reaches the web's one handler, the 403 page with the service's reason.
"""

from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from linli import clock
from linli.accounts.addresses import client_address
from linli.accounts.audit_words import describe
from linli.accounts.two_factor import may_reset_for
from linli.errors import status_for
from linli.forms import form_add_errors
from linli.idempotency.web import once_per_form
from linli.logins import notifications, selectors, services
from linli.logins.forms import (
    LoginCreateForm,
    LoginFilterForm,
    PostAddForm,
    ReasonForm,
    RequiredReasonForm,
)
from linli.logins.signin_bridge import phone_sign_in_available

PAGE_SIZE = 50
AUDIT_ENTRIES_SHOWN = 50
# A temporary password waits here (with its login's id) until the login's page shows it once.
SHOWN_ONCE_SESSION_KEY = "linli_logins_temporary_password"


def _keep_password_to_show(request: HttpRequest, login_id: int, password: str) -> None:
    request.session[SHOWN_ONCE_SESSION_KEY] = {"login_id": login_id, "password": password}


def _password_to_show(request: HttpRequest, login_id: int) -> str:
    waiting = request.session.get(SHOWN_ONCE_SESSION_KEY)
    if not isinstance(waiting, dict) or waiting.get("login_id") != login_id:
        return ""
    del request.session[SHOWN_ONCE_SESSION_KEY]
    return str(waiting.get("password", ""))


@login_required
@never_cache
def login_list(request: HttpRequest) -> HttpResponse:
    actor = request.user
    selectors.needs_login_manager(user=actor)
    form = LoginFilterForm(request.GET or None)
    logins = selectors.login_search(user=actor, **form.filters())
    page = Paginator(logins, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "logins/login_list.html",
        {"form": form, "page": page, "rows": selectors.login_rows(user=actor, logins=page)},
    )


@login_required
@never_cache
@once_per_form
def login_create(request: HttpRequest) -> HttpResponse:
    actor = request.user
    selectors.needs_login_manager(user=actor)
    form = LoginCreateForm(request.POST or None, actor=actor)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                created = services.login_create(
                    actor=actor,
                    username=data["username"],
                    display_name=data["display_name"],
                    phone=data["phone"],
                    email=data["email"],
                    post=data["post"],
                    grid_unit=data["grid_unit"],
                    sign_in=data["sign_in"],
                    ip_address=client_address(request),
                )
            except ValidationError as error:
                if status_for(error) != 400:
                    raise
                form_add_errors(form, error)
            else:
                if created.temporary_password:
                    _keep_password_to_show(request, created.login.pk, created.temporary_password)
                messages.success(
                    request, _("The login %(name)s is made.") % {"name": created.login}
                )
                return redirect("logins:detail", login_id=created.login.pk)
        status = 400
    return render(
        request,
        "logins/login_create.html",
        {"form": form, "phone_sign_in": phone_sign_in_available()},
        status=status,
    )


def _detail_context(request: HttpRequest, login, **forms) -> dict:
    actor = request.user
    resident, resident_visible = selectors.login_resident(user=actor, login=login)
    entries = list(selectors.login_audit_entries(user=actor, login=login)[:AUDIT_ENTRIES_SHOWN])
    for entry in entries:
        entry.words = describe(entry)
    return {
        "row": selectors.login_row(user=actor, login=login),
        "login": login,
        "resident": resident,
        "resident_visible": resident_visible,
        "live_tokens": selectors.live_token_count(login=login),
        "entries": entries,
        "post_form": forms.get("post_form") or PostAddForm(actor=actor),
        "two_factor_form": forms.get("two_factor_form") or RequiredReasonForm(),
        "may_reset_two_factor": login.pk != actor.pk and may_reset_for(actor=actor, user=login),
        "phone_sign_in": phone_sign_in_available(),
        "is_self": login.pk == actor.pk,
        "temporary_password": _password_to_show(request, login.pk),
        "temporary_password_pending": services.temporary_password_of(user=login) is not None,
    }


@login_required
@never_cache
def login_detail(request: HttpRequest, login_id: int) -> HttpResponse:
    actor = request.user
    selectors.needs_login_manager(user=actor)
    login = selectors.login_get(user=actor, login_id=login_id)
    return render(request, "logins/login_detail.html", _detail_context(request, login))


def _after_change(request: HttpRequest, login_id: int) -> HttpResponse:
    """Back to the login's page, or to the list when the change took it out of the area."""
    if selectors.logins_visible(user=request.user).filter(pk=login_id).exists():
        return redirect("logins:detail", login_id=login_id)
    return redirect("logins:list")


def _managed_login(request: HttpRequest, login_id: int):
    selectors.needs_login_manager(user=request.user)
    return selectors.login_get(user=request.user, login_id=login_id)


@login_required
@require_POST
def post_add(request: HttpRequest, login_id: int) -> HttpResponse:
    actor = request.user
    login = _managed_login(request, login_id)
    form = PostAddForm(request.POST, actor=actor)
    if form.is_valid():
        try:
            services.login_post_add(
                actor=actor,
                login=login,
                post=form.cleaned_data["post"],
                grid_unit=form.cleaned_data["grid_unit"],
            )
        except ValidationError as error:
            if status_for(error) != 400:
                raise
            form_add_errors(form, error)
        else:
            messages.success(request, _("The post is given."))
            return redirect("logins:detail", login_id=login.pk)
    context = _detail_context(request, login, post_form=form)
    return render(request, "logins/login_detail.html", context, status=400)


@login_required
@require_POST
def post_remove(request: HttpRequest, login_id: int, assignment_id: int) -> HttpResponse:
    login = _managed_login(request, login_id)
    services.login_post_remove(actor=request.user, login=login, assignment_id=assignment_id)
    messages.success(request, _("The post is removed."))
    return _after_change(request, login.pk)


def _reason_or_400(request: HttpRequest, login, form_class=ReasonForm):
    form = form_class(request.POST)
    if form.is_valid():
        return form.cleaned_data["reason"], None
    context = _detail_context(request, login, two_factor_form=form)
    return None, render(request, "logins/login_detail.html", context, status=400)


@login_required
@require_POST
def deactivate(request: HttpRequest, login_id: int) -> HttpResponse:
    login = _managed_login(request, login_id)
    reason, refused = _reason_or_400(request, login)
    if refused:
        return refused
    if services.login_deactivate(
        actor=request.user, login=login, reason=reason, ip_address=client_address(request)
    ):
        messages.success(
            request,
            _("%(name)s can no longer sign in: their apps and sessions are signed out.")
            % {"name": login},
        )
    return redirect("logins:detail", login_id=login.pk)


@login_required
@require_POST
def reactivate(request: HttpRequest, login_id: int) -> HttpResponse:
    login = _managed_login(request, login_id)
    reason, refused = _reason_or_400(request, login)
    if refused:
        return refused
    if services.login_reactivate(
        actor=request.user, login=login, reason=reason, ip_address=client_address(request)
    ):
        messages.success(request, _("%(name)s can sign in again.") % {"name": login})
    return redirect("logins:detail", login_id=login.pk)


@login_required
@require_POST
def temporary_password(request: HttpRequest, login_id: int) -> HttpResponse:
    login = _managed_login(request, login_id)
    password = services.login_temporary_password_issue(
        actor=request.user, login=login, ip_address=client_address(request)
    )
    _keep_password_to_show(request, login.pk, password)
    return redirect("logins:detail", login_id=login.pk)


@login_required
@require_POST
def reset_code(request: HttpRequest, login_id: int) -> HttpResponse:
    login = _managed_login(request, login_id)
    services.login_reset_code_send(
        actor=request.user, login=login, ip_address=client_address(request)
    )
    messages.success(
        request,
        _("A reset code is sent to %(phone)s. It works for a short while only.")
        % {"phone": selectors.login_row(user=request.user, login=login).phone_masked},
    )
    return redirect("logins:detail", login_id=login.pk)


@login_required
@require_POST
def two_factor_reset(request: HttpRequest, login_id: int) -> HttpResponse:
    login = _managed_login(request, login_id)
    reason, refused = _reason_or_400(request, login, RequiredReasonForm)
    if refused:
        return refused
    if services.login_two_factor_reset(
        actor=request.user, login=login, reason=reason, request=request
    ):
        messages.success(
            request,
            _("%(name)s sets up a new authenticator app at their next sign-in.") % {"name": login},
        )
    else:
        messages.info(request, _("%(name)s has no two-factor sign-in to reset.") % {"name": login})
    return redirect("logins:detail", login_id=login.pk)


# The person's own step -------------------------------------------------------------------------


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("web:home")


@login_required
@never_cache
def password_change(request: HttpRequest) -> HttpResponse:
    """Set one's own password in place of the temporary one (the middleware sends here)."""
    user = request.user
    marker = services.temporary_password_of(user=user)
    if marker is None:
        return redirect(_next_url(request))
    if marker.expires_at <= clock.now():
        # Never used in time: it no longer signs anyone in; they ask for a new one.
        logout(request)
        return render(request, "logins/password_expired.html", status=403)
    form = SetPasswordForm(user, request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.temporary_password_replace(
                    user=user, password=form.cleaned_data["new_password1"]
                )
            except ValidationError as error:
                form_add_errors(form, error)
            else:
                # This session stays signed in; every other one ends with the old password.
                update_session_auth_hash(request, user)
                messages.success(request, _("Your password is set."))
                return redirect(_next_url(request))
        status = 400
    return render(
        request,
        "logins/password_change.html",
        {"form": form, "next": _next_url(request)},
        status=status,
    )


urlpatterns = [
    path("", login_list, name="list"),
    path("new/", login_create, name="create"),
    path("password/", password_change, name="password"),
    path("<int:login_id>/", login_detail, name="detail"),
    path("<int:login_id>/posts/", post_add, name="post_add"),
    path("<int:login_id>/posts/<int:assignment_id>/remove/", post_remove, name="post_remove"),
    path("<int:login_id>/deactivate/", deactivate, name="deactivate"),
    path("<int:login_id>/reactivate/", reactivate, name="reactivate"),
    path("<int:login_id>/temporary-password/", temporary_password, name="temporary_password"),
    path("<int:login_id>/reset-code/", reset_code, name="reset_code"),
    path("<int:login_id>/two-factor-reset/", two_factor_reset, name="two_factor_reset"),
    path(
        "<int:login_id>/notifications/",
        notifications.preferences_on_behalf,
        name="preferences",
    ),
    path("undeliverable/", notifications.undeliverable, name="undeliverable"),
]
