import os

import pytest

from mediamix.errors import MediamixError, SpecError
from mediamix.jobs import (
    Executor,
    InlineExecutor,
    JobCrashed,
    JobError,
    JobFailed,
    LocalProcessExecutor,
    describe_error,
)
from tests.jobs import job_functions


def test_both_executors_fit_the_protocol():
    assert isinstance(InlineExecutor(), Executor)
    assert isinstance(LocalProcessExecutor(), Executor)


def test_describe_error():
    assert describe_error(SpecError("lookback_weeks 60 is over 52")) == "lookback_weeks 60 is over 52"
    assert describe_error(ValueError("bad shape")) == "ValueError: bad shape"
    assert describe_error(KeyError("tv")) == "KeyError: 'tv'"
    assert describe_error(RuntimeError()) == "RuntimeError"


def test_inline_executor_returns_and_raises_in_this_process():
    executor = InlineExecutor()
    assert executor.submit(job_functions.add, "brand", {"a": 2, "b": 3}).result()["pid"] == os.getpid()
    with pytest.raises(ValueError, match="could not broadcast"):
        executor.submit(job_functions.raise_value_error, "brand", {}).result()


def test_local_process_executor_runs_in_another_process():
    value = LocalProcessExecutor().submit(job_functions.add, "brand", {"a": 2, "b": 3}).result(timeout=60)
    assert value["model"] == "brand" and value["sum"] == 5
    assert value["pid"] != os.getpid()


def test_an_error_in_the_child_comes_back_with_its_message_and_traceback():
    executor = LocalProcessExecutor()
    with pytest.raises(JobFailed) as info:
        executor.submit(job_functions.raise_spec_error, "brand", {}).result(timeout=60)
    assert str(info.value) == "lookback_weeks 60 of model 'brand' is over 52; use 1-52"
    assert "raise_spec_error" in info.value.traceback_text
    with pytest.raises(JobFailed, match=r"^ValueError: could not broadcast shapes \(104, 5\) and \(104, 4\)$"):
        executor.submit(job_functions.raise_value_error, "brand", {}).result(timeout=60)


@pytest.mark.parametrize(
    "fn,params,expected",
    [
        (job_functions.exit_hard, {"code": 3}, "exited with code 3 before reporting a result"),
        (job_functions.kill_self, {}, "was killed by signal SIGKILL before reporting a result"),
    ],
    ids=["exit-3", "sigkill"],
)
def test_a_crashing_child_is_reported_not_fatal(fn, params, expected):
    executor = LocalProcessExecutor()
    with pytest.raises(JobCrashed, match=expected):
        executor.submit(fn, "brand", params).result(timeout=60)
    # This process is fine and the executor still works.
    assert executor.submit(job_functions.add, "brand", {"a": 1, "b": 1}).result(timeout=60)["sum"] == 2


def test_an_unpicklable_result_is_an_error_not_a_hang():
    with pytest.raises(JobFailed, match="cannot pickle"):
        LocalProcessExecutor().submit(job_functions.return_unpicklable, "brand", {}).result(timeout=60)


def test_a_lambda_cannot_be_sent_to_a_process():
    with pytest.raises(JobError, match="job functions must be module-level functions") as info:
        LocalProcessExecutor().submit(lambda name, params: None, "brand", {})
    assert isinstance(info.value, MediamixError)
