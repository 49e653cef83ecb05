"""Where a job function runs: in the worker's own thread, or in a fresh process per job.

An executor is anything with `submit(fn, *args)` returning a future-like object whose
`result(timeout=None)` returns fn's value or raises its error. concurrent.futures executors
already fit; a Ray executor fits by returning `ray.remote(fn).remote(*args).future()`.
"""
from __future__ import annotations

import multiprocessing
import signal
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol, runtime_checkable

from mediamix.errors import MediamixError


@runtime_checkable
class JobFuture(Protocol):
    def result(self, timeout: float | None = None) -> Any: ...

    def done(self) -> bool: ...


@runtime_checkable
class Executor(Protocol):
    def submit(self, fn: Callable[..., Any], *args: Any) -> JobFuture: ...


class JobError(MediamixError):
    """A job function did not return normally."""


class JobFailed(JobError):
    """The job function raised in its process; the message is its error, as the worker records it."""

    def __init__(self, message: str, traceback_text: str = "") -> None:
        super().__init__(message)
        self.traceback_text = traceback_text


class JobCrashed(JobError):
    """The job process died before it could report (a segfault, the OOM killer, os._exit)."""


def describe_error(exc: BaseException) -> str:
    """The text stored as a failed job's error: a MediamixError's own message (written for the
    user), otherwise the exception type and message, which is what a developer needs first."""
    text = str(exc)
    if isinstance(exc, MediamixError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class InlineExecutor:
    """Runs the job in the calling thread: for tests, notebooks and debugging with pdb."""

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except Exception as exc:
            future.set_exception(exc)
        return future


def _run_in_child(connection, fn: Callable[..., Any], args: tuple) -> None:
    try:
        value = fn(*args)
        connection.send(("ok", value))
    except BaseException as exc:  # report everything, SystemExit included; the parent decides
        connection.send(("error", describe_error(exc), traceback.format_exc()))
    finally:
        connection.close()


def _exit_description(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"was killed by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"was killed by signal {-exitcode}"
    return f"exited with code {exitcode}"


def _watch(process, connection, future: Future, label: str) -> None:
    # Read before join: a large result fills the pipe, and the child cannot exit until it is read.
    try:
        message = connection.recv()
    except (EOFError, OSError):
        message = None
    finally:
        process.join()
        connection.close()
    if message is None:
        future.set_exception(JobCrashed(
            f"the job process for {label} {_exit_description(process.exitcode)} before reporting a result; "
            "the worker carries on (look for out-of-memory or native crashes in its log)"
        ))
    elif message[0] == "ok":
        future.set_result(message[1])
    else:
        future.set_exception(JobFailed(message[1], message[2]))


class LocalProcessExecutor:
    """Runs each job in a new process, started with `spawn`.

    A new process per job: a crash, a leak or a hung native library takes down that job only,
    memory (JAX buffers of a large fit) goes back to the system after each job, and nothing
    inherited from the worker (threads, open database connections) is shared, which is why
    `spawn` rather than `fork`. The job function and its arguments must be picklable: a
    module-level function, not a lambda or a closure.
    """

    def __init__(self, start_method: str = "spawn") -> None:
        self._context = multiprocessing.get_context(start_method)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        label = getattr(fn, "__qualname__", repr(fn))
        receiver, sender = self._context.Pipe(duplex=False)
        # Not a daemon: daemonic processes may not start children of their own.
        process = self._context.Process(
            target=_run_in_child, args=(sender, fn, args), name=f"mediamix-job:{label}"
        )
        try:
            process.start()
        except Exception as exc:
            receiver.close()
            sender.close()
            raise JobError(
                f"cannot start a process for {label}: {describe_error(exc)}; job functions must be "
                "module-level functions with picklable arguments"
            ) from exc
        sender.close()  # keep only the child's end open, so its death reads as EOF here
        future: Future = Future()
        future.set_running_or_notify_cancel()
        threading.Thread(
            target=_watch, args=(process, receiver, future, label), name=f"watch:{label}", daemon=True
        ).start()
        return future
