"""Job functions for tests that run them in other processes: spawned children import them by
module path, so they must live at module level here, not in a test body."""
import os
import signal
import threading

from mediamix.errors import SpecError


def add(model_name, params):
    return {"model": model_name, "sum": params["a"] + params["b"], "pid": os.getpid()}


def raise_spec_error(model_name, params):
    raise SpecError(f"lookback_weeks 60 of model '{model_name}' is over 52; use 1-52")


def raise_value_error(model_name, params):
    raise ValueError("could not broadcast shapes (104, 5) and (104, 4)")


def exit_hard(model_name, params):
    os._exit(params.get("code", 3))


def kill_self(model_name, params):
    os.kill(os.getpid(), signal.SIGKILL)


def return_unpicklable(model_name, params):
    return threading.Lock()


def train_then_crash(model_name, params):
    """Opens a train run and dies before closing it, like a fit killed by the OOM killer."""
    from mediamix.registry import Registry

    Registry(params["db_url"]).start_run(model_name, "train", {})
    os._exit(1)


def train_successfully(model_name, params):
    from mediamix.registry import Registry, Status

    registry = Registry(params["db_url"])
    run_id = registry.start_run(model_name, "train", {})
    registry.finish_run(run_id, Status.SUCCESS, {"max_rhat": 1.0, "pid": os.getpid()}, None, None)


def claim_until_empty(db_url, worker_id, barrier, results):
    """One of two competing claimers: take jobs until none is left, report the ids taken."""
    from mediamix.jobs import JobQueue
    from mediamix.registry import Registry

    queue = JobQueue(Registry(db_url))
    barrier.wait()
    taken = []
    while (job := queue.claim(worker_id)) is not None:
        taken.append(job.id)
    results.put((worker_id, taken))


def meet_and_record(model_name, params):
    """Marks that it started, waits until `params["expect"]` jobs have (so it passes only if
    they run at the same time, however slowly workers start), then records when it ran."""
    import json
    import time
    from pathlib import Path
    folder = Path(params["folder"])
    start = time.time()
    (folder / f"{model_name}.started").touch()
    while len(list(folder.glob("*.started"))) < params["expect"]:
        if time.time() - start > params.get("timeout", 120):
            raise TimeoutError(f"{model_name} waited alone: the jobs did not run at the same time")
        time.sleep(0.05)
    with open(folder / "times.jsonl", "a") as out:
        out.write(json.dumps({"model": model_name, "start": start, "end": time.time(), "pid": os.getpid()}) + "\n")
