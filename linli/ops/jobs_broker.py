"""The embedded default's Celery broker: files under var/broker, shared by every process on
the machine, with nothing to install or start.

`.delay()` in a web process writes one small file; `linli worker` picks it up within half a
second. It is kombu's filesystem transport with two fixes that matter when several processes
share the folder:

- a message is written under a temporary name and renamed into place, so that a worker never
  reads a half-written file (kombu's own writes the final name first, then the body);
- a worker claims a message by renaming it into `claimed/` on the same file system, an atomic
  step that exactly one worker wins (kombu's moves it to the system temporary directory, which
  is a copy when that is another file system).

Whatever the broker loses is not lost: the outbox is a table and the scheduler's outbox sweep
sends anything still pending (`notify.retry_outbox`, every 30 s). Production uses Redis
(LINLI_CELERY_BROKER_URL=redis://…). The scheme is registered in OpsConfig.ready().
"""

import os
import time
import uuid
from pathlib import Path
from queue import Empty

from django.conf import settings
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads
from kombu.utils.objects import cached_property

SCHEME = "linli-files"


def broker_folder() -> Path:
    return Path(settings.VAR_DIR) / "broker"


def _folder(path: Path) -> str:
    # Messages name outbox rows only, but the folder is the service's own all the same.
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return str(path)


class Channel(filesystem.Channel):
    @cached_property
    def data_folder_in(self):
        return _folder(Path(self.transport_options.get("folder", broker_folder())) / "queue")

    @cached_property
    def data_folder_out(self):
        return self.data_folder_in

    @cached_property
    def claimed_folder(self):
        return _folder(Path(self.transport_options.get("folder", broker_folder())) / "claimed")

    @property
    def control_folder(self):
        return Path(
            _folder(Path(self.transport_options.get("folder", broker_folder())) / "control")
        )

    def _put(self, queue, payload, **kwargs):
        # Names sort in the order written (nanoseconds since the epoch, zero-padded).
        name = f"{time.time_ns():020d}_{uuid.uuid4().hex}.{queue}.msg"
        temporary = os.path.join(self.data_folder_out, f".{uuid.uuid4().hex}.partial")
        with open(temporary, "wb") as handle:
            handle.write(str_to_bytes(dumps(payload)))
        os.replace(temporary, os.path.join(self.data_folder_out, name))

    def _get(self, queue):
        wanted = f"{queue}.msg"
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.startswith(".") or name.partition(".")[2] != wanted:
                continue
            claimed = os.path.join(self.claimed_folder, name)
            try:
                os.rename(os.path.join(self.data_folder_in, name), claimed)
            except FileNotFoundError:
                continue  # another worker claimed it first
            with open(claimed, "rb") as handle:
                payload = handle.read()
            os.remove(claimed)
            return loads(bytes_to_str(payload))
        raise Empty()


class Transport(filesystem.Transport):
    Channel = Channel
    # Half a second between looks at an empty folder: quick enough for a notification, and a
    # directory listing costs next to nothing.
    polling_interval = 0.5
    driver_type = driver_name = SCHEME

    @property
    def default_connection_params(self):
        # No host to connect to (and no "No hostname was supplied" warning).
        return {"port": 0}
