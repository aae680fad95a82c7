"""Limits on uploaded images, checked before anything is decoded (issue 13, hole 17).

A PNG or WebP of a few hundred kilobytes can say in its header that it is 50 megapixels and
cost seconds and hundreds of megabytes to decode. The header is read first (Pillow's
`Image.open` is lazy: it reads the size, not the pixels) and a file over
LINLI_UPLOAD_MAX_PIXELS is refused by name; Pillow's own guard (`Image.MAX_IMAGE_PIXELS`) is
set to the same bound. And each user may send at most LINLI_UPLOADS_PER_HOUR files an hour,
counted in the shared cache (every web process agrees), whether the files turn out good or
not: the decoding is what costs.

Used by every place that accepts photos (linli.cases.services.photos_prepare).
"""

import warnings

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image, UnidentifiedImageError

from linli import clock
from linli.errors import RATE_LIMITED  # noqa: F401 - the code callers test for

# The code on the ValidationError of a user over their hourly quota: the API answers 429.

Image.MAX_IMAGE_PIXELS = settings.LINLI_UPLOAD_MAX_PIXELS


def max_pixels() -> int:
    return settings.LINLI_UPLOAD_MAX_PIXELS


def pixels_refusal(upload, *, label: str) -> str | None:
    """Why the image is too large to decode (a message naming `label`), or None.

    Reads the header only. A file Pillow cannot identify is left to the decoder's own check
    (which says "not a photo we can read")."""
    limit = max_pixels()
    too_many = _(
        "%(photo)s has too many pixels (%(width)d × %(height)d); at most %(limit)d "
        "megapixels are accepted."
    )
    try:
        upload.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(upload) as probe:
                width, height = probe.size
    except Image.DecompressionBombError:
        return _("%(photo)s has too many pixels; at most %(limit)d megapixels are accepted.") % {
            "photo": label,
            "limit": limit // 1_000_000,
        }
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, TypeError):
        return None
    finally:
        upload.seek(0)
    if width * height > limit:
        return too_many % {
            "photo": label,
            "width": width,
            "height": height,
            "limit": limit // 1_000_000,
        }
    return None


def upload_quota_take(*, user, count: int, field: str = "photos") -> None:
    """Count `count` files against the user's hourly quota, or refuse them all (a
    ValidationError on `field` with code RATE_LIMITED) when they would go over it.

    A fixed window of one clock hour, keyed by user: simple, and at most twice the quota in
    any 60 minutes. Anonymous uploads (none today) are not counted."""
    if count <= 0 or user is None or not getattr(user, "is_authenticated", False):
        return
    limit = settings.LINLI_UPLOADS_PER_HOUR
    hour = clock.now().strftime("%Y%m%d%H")
    key = f"linli:uploads:{user.pk}:{hour}"
    cache.add(key, 0, timeout=3600)
    try:
        used = cache.incr(key, count)
    except ValueError:
        # The entry expired (or the cache lost it) between add() and incr(): start again.
        cache.set(key, count, timeout=3600)
        used = count
    if used > limit:
        raise ValidationError(
            {
                field: ValidationError(
                    ngettext(
                        "You may send at most %(limit)d photo an hour; try again later. "
                        "Nothing was saved.",
                        "You may send at most %(limit)d photos an hour; try again later. "
                        "Nothing was saved.",
                        limit,
                    )
                    % {"limit": limit},
                    code=RATE_LIMITED,
                )
            }
        )
