"""The page where a signed-in person sees the apps signed in to their account (their API
tokens) and signs one out. Thin: reads through accounts.selectors, writes through
accounts.services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from linli import clock
from linli.accounts.models import TokenRevocation
from linli.accounts.selectors import token_is_live, tokens_of
from linli.accounts.services import client_address, token_revoke
from linli.errors import get_visible_or_404

PAGE_SIZE = 30


@login_required
@never_cache
def token_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(tokens_of(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    now = clock.now()
    rows = [{"token": token, "live": token_is_live(token, now=now)} for token in page]
    return render(request, "accounts/tokens.html", {"page": page, "rows": rows})


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    # Another person's token is not found, exactly like one that does not exist.
    token = get_visible_or_404(tokens_of(user=request.user), token_id)
    if token_revoke(
        actor=request.user,
        token=token,
        reason=TokenRevocation.BY_OWNER,
        ip_address=client_address(request),
    ):
        messages.success(
            request,
            _("The app signed in as %(prefix)s… is signed out.") % {"prefix": token.key_prefix},
        )
    return redirect("tokens:list")
