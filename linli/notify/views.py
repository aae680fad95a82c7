"""The in-app inbox. Reads through notify.selectors, writes through notify.services."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from linli.notify import selectors
from linli.notify.services import notification_mark_read, notifications_mark_all_read

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
