"""Typed environment helpers that fail loudly.

Settings read everything from the environment; a value that cannot be parsed stops the
process with Django's ImproperlyConfigured, naming the variable, what it expects and what it
got, rather than silently falling back.
"""

import hashlib
import os
import secrets
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


# The secret files this process generated (not read): a field key generated on a database that
# already holds ID numbers cannot read them, and linli.accounts.fieldkey then takes it back.
GENERATED_SECRET_FILES: set[Path] = set()


def env_str(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    """Comma-separated values, blanks dropped; the default only when the variable is unset."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_url(name: str, default: str = "", *, schemes: tuple[str, ...] = ("http", "https")) -> str:
    """An address with one of `schemes` and a host; empty (the default) when unset or blank,
    which callers read as "not configured"."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip()
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - read for its check: it raises on a port that is no number
        valid = parts.scheme in schemes and bool(parts.hostname)
    except ValueError:  # an unbalanced [ in the host, or a port that is not a number
        valid = False
    if not valid:
        starts = " or ".join(f"{scheme}://" for scheme in schemes)
        raise ImproperlyConfigured(
            f"{name} must be a URL starting with {starts} and naming a host, got {raw!r}"
        )
    return value


def generated_record(path: Path) -> Path:
    """Beside a secret file Linli generated: the SHA-256 of the content it generated (never
    the secret). A file whose content still matches was not set by the operator."""
    return path.with_name(f"{path.name}.generated")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def was_generated(path: Path) -> bool:
    """Whether the secret in `path` is one Linli generated (in this process, or recorded
    beside it by an earlier one) and not since replaced."""
    if path in GENERATED_SECRET_FILES:
        return True
    try:
        return generated_record(path).read_text().strip() == _digest(path.read_text().strip())
    except OSError:
        return False


def forget_generated(path: Path) -> None:
    """`path` no longer holds a generated secret (removed, or replaced by a real one)."""
    GENERATED_SECRET_FILES.discard(path)
    generated_record(path).unlink(missing_ok=True)


def secret_from_env_or_file(
    name: str, path: Path, nbytes: int = 32, *, record_generated: bool = False
) -> str:
    """Return the secret in `name`, or one generated once into `path` (embedded default).

    The embedded default must survive restarts (sessions, encrypted ID numbers), so the
    generated value is written with owner-only permissions and reused. With
    `record_generated`, a generated secret is recorded as such (generated_record), so that a
    later process can tell it from one the operator put there.
    """
    value = os.environ.get(name)
    if value:
        return value
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    generated = secrets.token_urlsafe(nbytes)
    # Written whole under a temporary name, then linked into place: another process starting
    # at the same moment never reads a half-written secret, and never overwrites one.
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(generated)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, path)
    except FileExistsError:
        # Another process (a second gunicorn worker) generated it a moment ago: use theirs.
        return path.read_text().strip()
    finally:
        os.unlink(temporary)
    GENERATED_SECRET_FILES.add(path)
    if record_generated:
        descriptor = os.open(generated_record(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(_digest(generated))
    return generated
