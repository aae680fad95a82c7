"""The small process supervisor of `linli serve`: the web server, the worker and the scheduler
as child processes, each restarted with back-off if it dies, all stopped together.

Production runs the three as separate services (systemd restarts them); the embedded default
has nobody to do that, so `linli serve` does it. The children run in their own process group:
Ctrl+C in the terminal reaches only the supervisor, which then stops them in order, and a
child whose supervisor was killed outright is told to stop by the kernel (Linux).
"""

import ctypes
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

# A child that ran this long is healthy again: its next crash restarts it after the first
# delay, not after the last one.
HEALTHY_AFTER_SECONDS = 30.0
FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 60.0
# How long children get to finish what they are doing after SIGTERM before SIGKILL (gunicorn
# alone may take its graceful timeout, 10 s, and a loaded machine more).
STOP_TIMEOUT_SECONDS = 30.0
# The web server's first run ending sooner than this is a failure to start (the port is
# taken, gunicorn gives up after five tries), not a crash to restart.
ESSENTIAL_START_SECONDS = 60.0
PR_SET_PDEATHSIG = 1


def _stop_with_parent() -> None:
    """In the child, before exec: SIGTERM when the supervisor dies (even by SIGKILL)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the child outlives a killed supervisor


@dataclass
class Child:
    name: str
    argv: list[str]
    # The web server: if its first start fails at once (the port is taken), there is nothing
    # to supervise, and `linli serve` stops with its exit status.
    essential: bool = False
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    starts: int = 0
    quick_failures: int = 0
    restart_at: float | None = None
    exit_codes: list[int] = field(default_factory=list)


class Supervisor:
    def __init__(self, children: list[Child], *, out: TextIO | None = None) -> None:
        self.children = children
        self.out = out or sys.stdout
        self.stopping = False
        self.stop_reason = ""  # the signal that asked to stop: SIGINT (Ctrl+C), SIGTERM
        self.exit_status = 0

    def say(self, message: str) -> None:
        from linli.ops.logging import say

        say("linli.serve", message, out=self.out, prefix="[linli serve] ")

    def start(self, child: Child) -> None:
        child.process = subprocess.Popen(
            child.argv, process_group=0, preexec_fn=_stop_with_parent, close_fds=True
        )
        child.started_at = time.monotonic()
        child.starts += 1
        child.restart_at = None
        self.say(f"{child.name} started, pid {child.process.pid}")

    def request_stop(self, signum, frame) -> None:
        # Said at once: stopping may take gunicorn's graceful timeout, and a second Ctrl+C
        # in the meantime should not look necessary.
        if not self.stopping:
            self.stop_reason = signal.Signals(signum).name
        self.stopping = True

    def check(self, child: Child) -> None:
        """Notice a child that exited and plan its restart."""
        if child.process is None or child.process.poll() is None:
            return
        code = child.process.returncode
        child.exit_codes.append(code)
        child.process = None
        ran = time.monotonic() - child.started_at
        if child.essential and child.starts == 1 and ran < ESSENTIAL_START_SECONDS:
            self.say(f"{child.name} could not start (exit status {code}); stopping")
            self.exit_status = code or 1
            self.stopping = True
            return
        child.quick_failures = 0 if ran >= HEALTHY_AFTER_SECONDS else child.quick_failures + 1
        delay = min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2 ** max(0, child.quick_failures - 1))
        how = f"exit status {code}" if code >= 0 else f"killed by signal {-code}"
        self.say(
            f"{child.name} stopped ({how}) after it ran for {ran:.0f} s; restarting in {delay:g} s"
        )
        child.restart_at = time.monotonic() + delay

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        for child in self.children:
            self.start(child)
        while not self.stopping:
            for child in self.children:
                self.check(child)
                if self.stopping:
                    break
                if child.restart_at is not None and time.monotonic() >= child.restart_at:
                    self.start(child)
            time.sleep(0.2)
        if self.stop_reason:
            names = [child.name for child in self.children]
            listed = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
            self.say(f"{self.stop_reason} received: stopping the {listed} …")
        self.stop_all()
        return self.exit_status

    def stop_all(self) -> None:
        living = [child for child in self.children if child.process is not None]
        for child in living:
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        began = time.monotonic()
        deadline = began + STOP_TIMEOUT_SECONDS
        pending = list(living)
        while pending and time.monotonic() < deadline:
            for child in list(pending):
                if child.process.poll() is not None:
                    pending.remove(child)
                    self.say(f"{child.name} stopped in {time.monotonic() - began:.1f} s")
            time.sleep(0.1)
        for child in pending:
            self.say(f"{child.name} did not stop within {STOP_TIMEOUT_SECONDS:g} s; killed")
            child.process.kill()
            child.process.wait()
        self.say("stopped")


def linli_command(*args: str) -> list[str]:
    """A `linli …` command line for a child, with this interpreter (no PATH needed)."""
    return [sys.executable, "-m", "linli.cli", *args]
