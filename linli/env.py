"""Typed environment helpers that fail loudly.

Settings read everything from the environment; a value that cannot be parsed stops the
process with the variable's name rather than silently falling back.
"""

import os
import secrets
import tempfile
from pathlib import Path

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class EnvironmentError_(RuntimeError):
    pass


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
    raise EnvironmentError_(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise EnvironmentError_(f"{name} must be an integer, got {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def secret_from_env_or_file(name: str, path: Path, nbytes: int = 32) -> str:
    """Return the secret in `name`, or one generated once into `path` (embedded default).

    The embedded default must survive restarts (sessions, encrypted ID numbers), so the
    generated value is written with owner-only permissions and reused.
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
    return generated
