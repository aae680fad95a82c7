"""The client's address: one function for login throttling (django-axes, through
AXES_CLIENT_IP_CALLABLE) and for the address written into audit entries.

Without a trusted proxy (LINLI_TRUSTED_PROXY off) it is the connection's address and
X-Forwarded-For is ignored: any client can write that header, and believing it would let a
password sprayer pick a new address for every guess. Behind a trusted proxy, the connection
comes from the proxy, which appends the address it saw to X-Forwarded-For; that address is
the rightmost one. Entries further left were written by the client and are never believed.
When more proxies of ours stand in a chain (a load balancer in front of the web proxy),
LINLI_TRUSTED_PROXY_ADDRESSES lists them and they are skipped from the right.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR") or None
    if not settings.LINLI_TRUSTED_PROXY:
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    trusted = {_address(entry) for entry in settings.LINLI_TRUSTED_PROXY_ADDRESSES}
    for entry in reversed(forwarded.split(",")):
        address = _address(entry)
        if address is None:
            # Not written by our proxy (it writes addresses): stop believing the header.
            break
        if address not in trusted:
            return address
    return remote
