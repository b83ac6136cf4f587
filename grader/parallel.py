"""A big batch spread over the machine's cores by forking this process.

A forked copy shares the batch in memory (copy-on-write) instead of receiving a pickled copy of
it, and sends back only what it computed. Linux only, where fork is the default and is safe for a
process that runs no other thread; elsewhere, and for batches under MIN_ITEMS, everything runs
in this process, in order. The results are the same either way.
"""

from __future__ import annotations

import sys
import threading
from contextlib import suppress
from typing import Callable


class WorkerStopped(RuntimeError):
    """A forked worker ended without sending its result (killed, e.g. out of memory)."""


PIPE_BYTES = 1 << 20   # Linux's limit for unprivileged processes (/proc/sys/fs/pipe-max-size)
MIN_ITEMS = 5_000
"""Batches smaller than this are not worth a process: a class of 30 is done before one starts."""


def can_fork(n_items: int) -> bool:
    return n_items >= MIN_ITEMS and sys.platform.startswith("linux") and threading.active_count() == 1


class Forked:
    """function(*args) in a forked copy of this process; result() waits and returns what it
    returned or raises what it raised. Only when can_fork(): fork copies just the calling thread.
    As a context manager, leaving the block stops the worker if its result was never taken (this
    process failed first), so that no worker is left waiting to send it."""

    def __init__(self, function: Callable, *args):
        import fcntl   # (Linux only, as forking is)
        import multiprocessing

        self._receive, send = multiprocessing.Pipe(duplex=False)
        # A result that fits in the pipe is sent at once and the worker ends, giving back its
        # memory, instead of waiting (alive) until this process asks for it.
        with suppress(OSError):
            fcntl.fcntl(send.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        self._process = multiprocessing.get_context("fork").Process(
            target=_call_and_send, args=(send, function, args), daemon=True)
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


def _call_and_send(send, function, args) -> None:
    try:
        outcome = ("returned", function(*args))
    except BaseException as exc:   # every outcome goes back to the parent, which raises it there
        outcome = ("raised", exc)
    send.send(outcome)
    send.close()


def split_map(function: Callable[[int, int], list], n_items: int) -> list:
    """function(0, n_items), where function(start, stop) returns a list with one entry per item
    of range(start, stop): a forked process computes the second half while this one computes the
    first, when can_fork(n_items). The function must not depend on being called in one piece."""
    if not can_fork(n_items):
        return function(0, n_items)
    half = n_items // 2
    with Forked(function, half, n_items) as second:
        first = function(0, half)
        return first + second.result()
