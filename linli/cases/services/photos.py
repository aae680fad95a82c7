"""Photos of a case, and the checks every photo upload of the platform goes through.

Rules: a step of the timeline (filing, resolving with a photo of the result, or an "add
photos" step of its own) carries at most 3 photos; each is a real JPEG, PNG or WebP image
(HEIC only when a Pillow plugin can read it), at most 10 MB. Every file is checked and
re-encoded in memory before anything is written, so one bad file writes nothing.
Re-encoding applies the EXIF orientation and then drops all metadata: residents' phone
photos carry the GPS position of their home.

`photos_prepare` and `photos_store` are shared: activity photos (linli.participation) go
through the same checks, quota (linli.uploads) and storage rules (linli.storage).
"""

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.cases.models import PHOTO_MAX_BYTES, Case, CaseEvent, CasePhoto
from linli.cases.services.events import event_append
from linli.errors import NotAllowed
from linli.grids.selectors import scope_for
from linli.storage import STORAGE_UNAVAILABLE, STORAGE_UNAVAILABLE_MESSAGE, StorageUnavailable
from linli.uploads import pixels_refusal, upload_quota_take

PHOTOS_PER_STEP = 3
# Longest side kept: plenty to show a problem or a repair, and bounded storage per case.
PHOTO_MAX_SIDE = 2560
# Pillow's format name -> (stored format, content type). HEIF appears only when a plugin
# (pillow-heif) is installed; it is stored as JPEG, which every browser shows.
PHOTO_FORMATS = {
    "JPEG": ("JPEG", "image/jpeg"),
    "MPO": ("JPEG", "image/jpeg"),  # phones' multi-picture JPEGs: the first frame is kept
    "PNG": ("PNG", "image/png"),
    "WEBP": ("WEBP", "image/webp"),
    "HEIF": ("JPEG", "image/jpeg"),
}


@dataclass(frozen=True)
class PreparedPhoto:
    """A checked photo, re-encoded in memory and ready to be stored."""

    data: bytes
    content_type: str
    width: int
    height: int


# What a caller hands in: uploaded files, or photos photos_prepare has already checked.
PhotoFiles = Iterable[File | PreparedPhoto]


def _photo_label(position: int, upload: File) -> str:
    name = getattr(upload, "name", "") or ""
    return _("Photo %(position)d (%(name)s)") % {"position": position, "name": name[-60:]}


def _reencode(upload: File) -> PreparedPhoto | None:
    """The photo without metadata, or None when it is not an image we accept."""
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            if probe.format not in PHOTO_FORMATS:
                return None
            probe.verify()
        # verify() leaves the image unusable: open it again to decode it fully.
        upload.seek(0)
        with Image.open(upload) as image:
            stored_format, content_type = PHOTO_FORMATS[str(image.format)]
            image.load()
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
            output = io.BytesIO()
            if stored_format == "JPEG":
                upright.convert("RGB").save(output, "JPEG", quality=85, optimize=True)
            elif stored_format == "PNG":
                upright.save(output, "PNG", optimize=True)
            else:
                upright.save(output, "WEBP", quality=85)
            # No exif=, pnginfo= or icc_profile= above: the stored file carries no metadata.
            return PreparedPhoto(output.getvalue(), content_type, upright.width, upright.height)
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        SyntaxError,
        ValueError,
        TypeError,
    ):
        return None


def photos_prepare(*, files: PhotoFiles | None, actor: User | None) -> list[PreparedPhoto]:
    """Check and re-encode uploaded photos; a ValidationError on `photos` names every bad
    file by position and name. Writes nothing. The files count against the actor's hourly
    upload quota, and an image whose header says it is too large is refused before it is
    decoded (linli.uploads)."""
    uploads = [upload for upload in (files or []) if upload]
    errors: list[str] = []
    if len(uploads) > PHOTOS_PER_STEP:
        errors.append(
            _("At most %(count)d photos at a time; %(given)d were sent.")
            % {"count": PHOTOS_PER_STEP, "given": len(uploads)}
        )
        raise ValidationError({"photos": errors})
    # Files already checked (PreparedPhoto) were counted when they were.
    upload_quota_take(
        user=actor, count=sum(not isinstance(upload, PreparedPhoto) for upload in uploads)
    )
    prepared: list[PreparedPhoto] = []
    for position, upload in enumerate(uploads, start=1):
        if isinstance(upload, PreparedPhoto):
            prepared.append(upload)
            continue
        if (upload.size or 0) > PHOTO_MAX_BYTES:
            errors.append(
                _("%(photo)s is larger than 10 MB.") % {"photo": _photo_label(position, upload)}
            )
            continue
        refusal = pixels_refusal(upload, label=_photo_label(position, upload))
        if refusal is not None:
            errors.append(refusal)
            continue
        photo = _reencode(upload)
        if photo is None:
            errors.append(
                _("%(photo)s is not a photo we can read (JPEG, PNG or WebP).")
                % {"photo": _photo_label(position, upload)}
            )
        elif len(photo.data) > PHOTO_MAX_BYTES:
            errors.append(
                _("%(photo)s is larger than 10 MB.") % {"photo": _photo_label(position, upload)}
            )
        else:
            prepared.append(photo)
    if errors:
        raise ValidationError({"photos": errors})
    return prepared


def may_add_photos(*, user: User | None, case: Case) -> bool:
    """The reporter, and staff who may handle the case."""
    if user is None or not user.is_authenticated:
        return False
    return case.reporter_id == user.pk or scope_for(user).allows(
        Permission.CASE_HANDLE, case.grid_path
    )


@transaction.atomic
def case_photos_add(
    *, case: Case, actor: User | None, files: PhotoFiles | None, event: CaseEvent | None = None
) -> list[CasePhoto]:
    """Attach up to 3 photos to a step of the case's timeline.

    `event` is the step the photos document (the filing, a resolution, ...): call this right
    after that step, in the same transaction (case_create and case_transition do, when given
    photos). Without one, the photos are a step of their own ("Photos added"), allowed while
    the case is open. `files` are uploaded files (or PreparedPhoto from photos_prepare).
    Nothing is written unless every file is good; files already stored are removed again if
    a row cannot be written."""
    if not may_add_photos(user=actor, case=case):
        raise NotAllowed(_("You may not add photos to this case."))
    if event is not None and event.case_id != case.pk:
        raise ValidationError({"event": _("This step belongs to another case.")})
    if event is None and not case.is_open:
        raise ValidationError({"photos": _("Photos can be added while the case is open.")})
    prepared = photos_prepare(files=files, actor=actor)
    if not prepared:
        raise ValidationError({"photos": _("Choose at least one photo.")})
    if event is not None:
        already = CasePhoto.objects.filter(event=event).count()
        if already + len(prepared) > PHOTOS_PER_STEP:
            raise ValidationError(
                {
                    "photos": _(
                        "A step carries at most %(count)d photos; this one has %(already)d."
                    )
                    % {"count": PHOTOS_PER_STEP, "already": already}
                }
            )
    else:
        event = event_append(case=case, actor=actor, action="add_photos", from_state=case.state)
    uploader = actor if actor is not None and actor.is_authenticated else None
    return photos_store(
        prepared=prepared,
        make_row=lambda photo: CasePhoto(case=case, event=event, uploaded_by=uploader),
    )


def photos_store(
    *, prepared: list[PreparedPhoto], make_row: Callable[[PreparedPhoto], Any]
) -> list:
    """Write checked photos, each as the unsaved row `make_row(photo)` returns (an image
    model with content_type, size, width and height, whose upload_to names the file). Call
    inside the caller's transaction: the rows roll back with it, and files already stored
    are removed again if a row cannot be written. A disk that refuses the write (full,
    read-only) is a ValidationError on `photos` with code STORAGE_UNAVAILABLE: the caller's
    transaction rolls back, the form shows it, and the API answers 503."""
    stored: list[str] = []
    rows = []
    try:
        for photo in prepared:
            row = make_row(photo)
            row.content_type = photo.content_type
            row.size = len(photo.data)
            row.width, row.height = photo.width, photo.height
            # upload_to names the file; the name given here is ignored. The storage writes
            # it whole or not at all (linli.storage).
            row.image.save("photo", ContentFile(photo.data), save=False)
            stored.append(row.image.name)
            row.save()
            rows.append(row)
    except BaseException as error:
        for name in stored:
            default_storage.delete(name)
        if isinstance(error, StorageUnavailable):
            raise ValidationError(
                {"photos": ValidationError(STORAGE_UNAVAILABLE_MESSAGE, code=STORAGE_UNAVAILABLE)}
            ) from error
        raise
    return rows
