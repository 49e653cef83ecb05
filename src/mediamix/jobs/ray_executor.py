"""Jobs as Ray tasks: many fits (model variants, brands) at once, on one machine or a cluster.

`RayExecutor()` starts a local Ray instance (a process per job, like LocalProcessExecutor,
but scheduled by Ray over the machine's CPUs); `RayExecutor(address="ray://head:10001")` or
`address="auto"` joins a running cluster, whose machines need mediamix installed and the
workspace (MEDIAMIX_HOME) on a shared path. The worker claims as many jobs as it has slots
(`mediamix worker --jobs N --executor ray`) and Ray places them.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from mediamix.jobs.executors import JobCrashed, JobError, JobFailed, describe_error


class RayFuture:
    """A submitted job: `result()` returns its value or raises JobFailed / JobCrashed."""

    def __init__(self, ref, label: str) -> None:
        self._ref, self._label = ref, label

    def done(self) -> bool:
        import ray
        ready, _ = ray.wait([self._ref], timeout=0)
        return bool(ready)

    def result(self, timeout: float | None = None) -> Any:
        import ray
        from ray import exceptions as rex
        try:
            return ray.get(self._ref, timeout=timeout)
        except rex.RayTaskError as exc:          # the job function raised: its own error, as the user should read it
            cause = exc.cause if exc.cause is not None else exc
            raise JobFailed(describe_error(cause), str(exc)) from None
        except (rex.WorkerCrashedError, rex.NodeDiedError, rex.ActorDiedError) as exc:
            raise JobCrashed(f"the Ray worker running {self._label} died before reporting a result "
                             f"({type(exc).__name__}); look for out-of-memory or native crashes in the Ray logs") from None
        except rex.GetTimeoutError:
            raise TimeoutError(f"{self._label} did not finish within {timeout} s") from None


class RayExecutor:
    """Submits each job as a Ray task with `cpus_per_job` CPUs reserved (a fit uses two devices).

    Environment variables named in `forward_env` (MEDIAMIX_HOME by default: where the job
    finds the workspace) are passed to the tasks as they are when the executor starts.
    """

    def __init__(self, address: str | None = None, *, cpus_per_job: float = 1.0, num_cpus: int | None = None,
                 forward_env: tuple[str, ...] = ("MEDIAMIX_HOME", "MEDIAMIX_COMPILE_CACHE")) -> None:
        try:
            import ray
        except ImportError:
            raise JobError("the Ray executor needs Ray: pip install 'mediamix[ray]' (or pip install ray)") from None
        self.cpus_per_job = cpus_per_job
        env = {k: os.environ[k] for k in forward_env if k in os.environ}
        if not ray.is_initialized():
            options = dict(address=address, include_dashboard=False, log_to_driver=False,
                           runtime_env={"env_vars": env} if env else None)
            if address is None:
                options["num_cpus"] = num_cpus
            try:
                ray.init(**options)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise JobError(f"cannot start or reach Ray at {address or 'a new local instance'}: {exc}; "
                               f"check the address (ray://host:10001 or auto) and that the cluster runs") from None
            self._started_here = True
        else:
            self._started_here = False

    def submit(self, fn: Callable[..., Any], *args: Any) -> RayFuture:
        import ray
        label = getattr(fn, "__qualname__", repr(fn))
        # No retries: a job records its own run in the registry, so a silent rerun would double it.
        task = ray.remote(num_cpus=self.cpus_per_job, max_retries=0)(fn)
        return RayFuture(task.remote(*args), label)

    def shutdown(self) -> None:
        """Stop the local Ray instance this executor started (a joined cluster is left running)."""
        import ray
        if self._started_here and ray.is_initialized():
            ray.shutdown()
