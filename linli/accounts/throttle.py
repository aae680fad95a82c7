"""Login throttling: django-axes with a second limit, per address across usernames.

Axes locks a (username, address) pair after AXES_FAILURE_LIMIT failures. A password sprayer
tries one or two passwords against many usernames and never reaches that limit, so an
address whose failures over every username reach LINLI_LOGIN_ADDRESS_FAILURE_LIMIT within the
cool-off window is locked for every username as well (LinliAxesHandler, AXES_HANDLER).

Why not axes' own `AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]`:
axes compares every parameter group against the one AXES_FAILURE_LIMIT (the callable form
only sees the request, not the group), so the address would be locked after 5 failures over
all usernames — an office behind one NAT address locked by five typos. And with
AXES_RESET_ON_SUCCESS a success deletes the attempts matching every group, so a sprayer
holding one valid account would wipe the address's count by logging in now and then.

The count is read from axes' own AccessAttempt rows (the database, like the rest of the
throttle; a success deletes only that username's row): the sum of the failures recorded from
the address within the cool-off window. The address is the one from
linli.accounts.addresses (AXES_CLIENT_IP_CALLABLE)."""

from axes.attempts import get_cool_off_threshold
from axes.conf import settings
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.db.models import Sum


class LinliAxesHandler(AxesDatabaseHandler):
    def address_failures(self, request) -> int:
        address = getattr(request, "axes_ip_address", None)
        if not address:
            return 0
        attempts = AccessAttempt.objects.filter(ip_address=address)
        if settings.AXES_COOLOFF_TIME is not None:
            attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
        return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0

    def address_is_locked(self, request) -> bool:
        return (
            settings.AXES_LOCK_OUT_AT_FAILURE
            and self.address_failures(request) >= settings.LINLI_LOGIN_ADDRESS_FAILURE_LIMIT
        )

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        return super().is_locked(request, credentials) or self.address_is_locked(request)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or getattr(request, "axes_locked_out", False):
            return
        if self.is_whitelisted(request, credentials):
            return
        if self.address_is_locked(request):
            # The failure that reached the address's limit answers as a lockout, as the
            # pair's limit does (AxesMiddleware's page, the API's 429).
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send(
                "axes",
                request=request,
                username=credentials.get(settings.AXES_USERNAME_FORM_FIELD)
                if credentials
                else None,
                ip_address=request.axes_ip_address,
            )
