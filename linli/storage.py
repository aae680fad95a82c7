"""Uploaded files on the local disk, written so that a failure leaves nothing behind.

Django's FileSystemStorage creates the final file first (mode 0666 minus the umask, so
world-readable) and writes into it; a full disk or a crash mid-write leaves a half-written,
world-readable photo under its real name. Here the bytes go to a private temporary file in
the same directory, are flushed to disk, get their final mode (never world-readable) and only
then take their name, in one step. A write the disk refuses (full, read-only, over quota)
raises StorageUnavailable, whose message is the one users see.
"""

import contextlib
import errno
import logging
import os
import tempfile

from django.core.files.storage import FileSystemStorage
from django.utils.translation import gettext_lazy

from linli.errors import STORAGE_UNAVAILABLE  # noqa: F401 - the code callers test for

logger = logging.getLogger(__name__)

# The failures that are the machine's, not the user's: the disk or the quota is full, the
# file system is read-only or refuses the service user, or a file stands where the media
# directory should be.
UNAVAILABLE_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EFBIG,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.ENOTDIR,
    }
)
# A code on the ValidationError that says "the server's fault": the API answers it with 503.
STORAGE_UNAVAILABLE_MESSAGE = gettext_lazy(
    "The photos could not be saved: the server's storage is full or read-only; "
    "tell the IT staff. Nothing was saved."
)
# Without hard links (some network file systems) the rename is checked instead.
_NO_HARD_LINKS = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK})
TEMPORARY_PREFIX = ".upload-"


class StorageUnavailable(OSError):
    """The disk refused a write (full, read-only, not permitted). Nothing was left behind."""


def _without_world_bits(mode: int | None) -> int:
    return (mode if mode is not None else 0o600) & 0o770


class PrivateFileSystemStorage(FileSystemStorage):
    """FileSystemStorage whose writes are atomic (temporary file, then link or rename) and
    private (files 0640 or narrower, directories 0750, nothing for other users)."""

    def _make_directories(self, directory: str) -> None:
        # Each missing level is made with the directory mode, intermediate ones included
        # (os.makedirs gives those the default 0777 minus the umask).
        missing = []
        current = directory
        while not os.path.isdir(current):
            missing.append(current)
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
        mode = _without_world_bits(self.directory_permissions_mode or 0o750) | 0o700
        for path in reversed(missing):
            try:
                os.mkdir(path, mode)
            except FileExistsError:
                if not os.path.isdir(path):
                    raise NotADirectoryError(errno.ENOTDIR, "not a directory", path) from None

    def _save(self, name, content):
        full_path = self.path(name)
        directory = os.path.dirname(full_path)
        temporary = None
        try:
            self._make_directories(directory)
            descriptor, temporary = tempfile.mkstemp(
                dir=directory, prefix=TEMPORARY_PREFIX, suffix=".part"
            )
            with os.fdopen(descriptor, "wb") as handle:
                for chunk in content.chunks():
                    handle.write(chunk if isinstance(chunk, bytes) else chunk.encode())
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, _without_world_bits(self.file_permissions_mode))
            while True:
                try:
                    self._publish(temporary, full_path)
                    break
                except FileExistsError:
                    # A name taken since get_available_name chose it: choose again.
                    name = self.get_available_name(name)
                    full_path = self.path(name)
            temporary = None
        except OSError as error:
            if temporary is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
            if error.errno in UNAVAILABLE_ERRNOS and not isinstance(error, StorageUnavailable):
                logger.error("Media storage refused a write to %s: %s", directory, error)
                raise StorageUnavailable(error.errno, str(STORAGE_UNAVAILABLE_MESSAGE)) from error
            raise
        except BaseException:
            if temporary is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
            raise
        self._sync_directory(directory)
        return str(name).replace("\\", "/")

    @staticmethod
    def _publish(temporary: str, full_path: str) -> None:
        """Give the finished file its name without ever replacing another file."""
        try:
            os.link(temporary, full_path)
        except OSError as error:
            if error.errno not in _NO_HARD_LINKS:
                raise
            if os.path.lexists(full_path):
                raise FileExistsError(errno.EEXIST, "exists", full_path) from None
            os.rename(temporary, full_path)
            return
        try:
            os.unlink(temporary)
        except OSError as error:
            # The file is in place under its name; a leftover private .part is only clutter.
            logger.warning("Could not remove the temporary upload %s: %s", temporary, error)

    @staticmethod
    def _sync_directory(directory: str) -> None:
        # The new name survives a power cut only once the directory itself is on disk. The
        # file is already in place: a failure here is logged, not raised.
        try:
            descriptor = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        except OSError as error:
            logger.warning("Could not sync the media directory %s: %s", directory, error)
