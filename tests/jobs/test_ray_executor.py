"""The Ray executor on a real local Ray instance: values, errors and crashes come back as the
local executor reports them, and a worker with two slots runs two jobs at the same time,
including two real model fits (variants of the demo model) through the job handlers."""
import json
import os

import pytest

from mediamix.jobs import Executor, JobCrashed, JobFailed, JobQueue, Worker
from tests.jobs import job_functions
from tests.jobs.helpers import make_model

ray = pytest.importorskip("ray")
# Ray starts its daemons with fork+exec from a process that has JAX loaded: no shared state
# survives the exec, so JAX's warning about forking does not apply.
pytestmark = pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")


@pytest.fixture(scope="module")
def executor(tmp_path_factory):
    from mediamix.jobs.ray_executor import RayExecutor
    home = tmp_path_factory.mktemp("ray-home")
    os.environ["MEDIAMIX_HOME"] = str(home)       # forwarded to the tasks when Ray starts
    ex = RayExecutor(num_cpus=2)
    yield ex
    ex.shutdown()
    os.environ.pop("MEDIAMIX_HOME", None)


def test_values_errors_and_crashes(executor):
    assert isinstance(executor, Executor)
    value = executor.submit(job_functions.add, "brand", {"a": 2, "b": 3}).result(timeout=120)
    assert value["sum"] == 5 and value["pid"] != os.getpid()
    with pytest.raises(JobFailed) as info:
        executor.submit(job_functions.raise_spec_error, "brand", {}).result(timeout=120)
    assert str(info.value) == "lookback_weeks 60 of model 'brand' is over 52; use 1-52"
    with pytest.raises(JobCrashed, match="died before reporting a result"):
        executor.submit(job_functions.exit_hard, "brand", {"code": 3}).result(timeout=120)
    assert executor.submit(job_functions.add, "brand", {"a": 1, "b": 1}).result(timeout=120)["sum"] == 2


def test_a_worker_with_two_slots_runs_two_jobs_at_once(executor, registry, tmp_path):
    queue = JobQueue(registry)
    for name in ("brand-a", "brand-b"):
        make_model(registry, name)
        queue.enqueue("train", name, {"folder": str(tmp_path), "expect": 2})
    worker = Worker(queue, {"train": job_functions.meet_and_record}, executor=executor)
    ended = worker.run_batch(2)
    assert [j.state.value for j in ended] == ["done", "done"], [j.error for j in ended]
    a, b = (json.loads(line) for line in (tmp_path / "times.jsonl").read_text().splitlines())
    assert a["pid"] != b["pid"]
    assert max(a["start"], b["start"]) < min(a["end"], b["end"])    # the two ran at the same time


@pytest.mark.slow
def test_two_model_variants_train_in_parallel_through_ray(executor):
    from mediamix.data.simulate import demo_data_dir
    from mediamix.job_handlers import HANDLERS
    from mediamix.model.spec import ModelSpec
    from mediamix.workspace import Workspace
    from tests.fitting import RELAXED, TEST_SAMPLER

    ws = Workspace.init(os.environ["MEDIAMIX_HOME"])
    ws.load_data(demo_data_dir() / "demo_weekly.csv", "demo")
    base = ModelSpec.from_yaml((demo_data_dir() / "demo_model.yaml").read_text())
    for name, lookback in (("demo-8w", 8), ("demo-4w", 4)):
        ws.create_model(base.replace(name=name, lookback_weeks=lookback, sampler=TEST_SAMPLER, thresholds=RELAXED,
                                     touchpoints=tuple(t.__class__(**{**t.__dict__, "adstock": t.adstock.__class__(
                                         **{**t.adstock.__dict__, "max_lookback": None})}) for t in base.touchpoints)))
    queue = JobQueue(ws.registry)
    for name in ("demo-8w", "demo-4w"):
        queue.enqueue("train", name, {})
    ended = Worker(queue, HANDLERS, executor=executor).run_batch(2)
    assert [j.state.value for j in ended] == ["done", "done"], [j.error for j in ended]
    statuses = {m.name: m.status.value for m in ws.registry.list_models()}
    assert statuses == {"demo-8w": "Success", "demo-4w": "Success"}
