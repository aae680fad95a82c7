from functools import cache

from linli.notify.selectors import unread_count


def unread_notifications(request):
    """The shell's unread badge: `{% if unread_notifications %}{{ unread_notifications }}`.

    A cached callable, which templates call on first use: the count is queried only by
    pages that show it, and once however often the page uses it.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notifications": lambda: 0}
    return {"unread_notifications": cache(lambda: unread_count(user))}
