"""How a run uses the machine: forked worker processes and the garbage collector.

Every runtime choice is made here, by one `Runtime` object that the pipeline passes down, and
nothing here imports the grader's domain code. The domain code asks the runtime to run work
(`forked`, `split_map`) and to hold a batch (`batch`); it never decides how.

A forked copy shares the batch in memory (copy-on-write) instead of receiving a pickled copy of
it, and sends back only what it computed. Linux only, where fork is the default and is safe for a
process that runs no other thread; elsewhere, with `processes=1`, and for batches under
`min_items`, everything runs in this process, in order. The results are the same either way.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from typing import Callable, ContextManager, Iterator


class WorkerStopped(RuntimeError):
    """A forked worker ended without sending its result (killed, e.g. out of memory)."""


PIPE_BYTES = 1 << 20   # Linux's limit for unprivileged processes (/proc/sys/fs/pipe-max-size)


@dataclass(frozen=True)
class Runtime:
    """The run's use of the machine.

    processes : 1 (this process only) or 2 (a forked copy of it works beside it).
    min_items : batches smaller than this are not worth a process: a class of 30 is done before
        one starts.
    block_rows : the per-question signals read this many of a question's answers at a time, so that
        their vectors' memory does not grow with the answers (nor with their length).
    kept_bytes : between their two passes, the per-question signals keep a question's vectors while
        they fit in this many bytes (answers of about 100 words: under 250 MiB), else make them again.
    pause_gc : keep Python's cyclic garbage collector off while a batch is held (`batch`). A batch
        makes millions of small objects that hold no cycles (tokens, concept results), and every
        full collection walks all of them again: a quarter of the feature time at 100,000 answers.
    """

    processes: int = 2
    min_items: int = 5_000
    block_rows: int = 2_048
    kept_bytes: int = 320 << 20
    pause_gc: bool = True

    def forks(self, n_items: int) -> bool:
        """Whether work on n_items is split across processes."""
        return (self.processes > 1 and n_items >= self.min_items and sys.platform.startswith("linux")
                and threading.active_count() == 1)

    def forked(self, n_items: int, function: Callable, *args) -> ContextManager[Forked | None]:
        """`with runtime.forked(n, f, *args) as pending:` -- f(*args) in a forked process when
        forks(n) (pending.result() gives what it returned), else pending is None and the caller
        computes f(*args) itself when it needs it."""
        return Forked(function, *args) if self.forks(n_items) else nullcontext()

    def split_map(self, function: Callable[[int, int], list], n_items: int) -> list:
        """function(0, n_items), where function(start, stop) returns a list with one entry per item
        of range(start, stop): a forked process computes the second half while this one computes
        the first, when forks(n_items). The function must not depend on being called in one piece."""
        if not self.forks(n_items):
            return function(0, n_items)
        half = n_items // 2
        with Forked(function, half, n_items) as second:
            first = function(0, half)
            return first + second.result()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Hold a batch: the garbage collector off for the duration (when pause_gc; restored after)."""
        enabled = gc.isenabled()
        if self.pause_gc:
            gc.disable()
        try:
            yield
        finally:
            if enabled:
                gc.enable()


SERIAL = Runtime(processes=1)
"""Everything in this process (what a library call gets unless it asks for more)."""


class Forked:
    """function(*args) in a forked copy of this process; result() waits and returns what it
    returned or raises what it raised. Only when Runtime.forks(): fork copies just the calling
    thread. As a context manager, leaving the block stops the worker if its result was never taken
    (this process failed first), so that no worker is left waiting to send it."""

    def __init__(self, function: Callable, *args):
        import fcntl   # (Linux only, as forking is)
        import multiprocessing

        self._receive, send = multiprocessing.Pipe(duplex=False)
        # A result that fits in the pipe is sent at once and the worker ends, giving back its
        # memory, instead of waiting (alive) until this process asks for it.
        with suppress(OSError):
            fcntl.fcntl(send.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        self._process = multiprocessing.get_context("fork").Process(
            target=_call_and_send, args=(send, function, args, os.getpid()), daemon=True)
        self._process.start()
        send.close()

    def result(self):
        try:
            outcome, value = self._receive.recv()
        except EOFError:
            outcome, value = "raised", WorkerStopped("a worker process stopped before it finished (out of memory?); run again")
        finally:
            self._receive.close()
        self._process.join()
        if outcome == "raised":
            raise value
        return value

    def __enter__(self) -> Forked:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
        self._receive.close()


def _call_and_send(send, function, args, parent: int) -> None:
    _die_with(parent)
    try:
        outcome = ("returned", function(*args))
    except BaseException as exc:   # every outcome goes back to the parent, which raises it there
        outcome = ("raised", exc)
    send.send(outcome)
    send.close()


_PR_SET_PDEATHSIG = 1   # from <linux/prctl.h>


def _die_with(parent: int) -> None:
    """Have the kernel kill this worker when its parent dies (a `kill -9` of the run), so no worker
    is left blocked on a pipe, or writing outputs for a run that no longer exists."""
    import ctypes

    with suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:   # the parent died before the request was made
        os._exit(1)
