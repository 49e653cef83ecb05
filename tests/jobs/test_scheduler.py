"""Scheduler decisions at explicit times; each expected time is worked out by hand in a comment."""
import threading
from datetime import datetime, timedelta, timezone

import pytest

from mediamix.jobs import JobQueue, JobState, Scheduler, due_at
from mediamix.registry import Registry, Status
from tests.jobs.helpers import make_model

UTC = timezone.utc


def at(*parts):
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture
def scheduler(registry, queue):
    return Scheduler(registry, queue)


def train_at(registry, clock, name, when, status=Status.SUCCESS):
    """Finish a train run at `when`, so the model's last_run_at is `when`."""
    clock.current = when
    run_id = registry.start_run(name, "train", {})
    registry.finish_run(run_id, status, None, "boom" if status is Status.FAILED else None, None)


def test_daily_is_due_one_day_after_the_last_run(registry, clock, scheduler, queue):
    make_model(registry, "brand", run_frequency="daily")
    train_at(registry, clock, "brand", at(2026, 3, 1, 9, 0))
    assert scheduler.due(at(2026, 3, 2, 8, 59)) == []       # 09:00 + 1 day = 03-02 09:00, not yet
    assert scheduler.due(at(2026, 3, 2, 9, 0)) == ["brand"]
    [job] = scheduler.tick(at(2026, 3, 2, 9, 0))
    assert (job.kind, job.model_name, job.state) == ("score", "brand", JobState.QUEUED)
    assert job.params == {"trigger": "schedule", "due_at": "2026-03-02T09:00:00+00:00"}
    assert registry.get_model("brand").next_run_at == at(2026, 3, 3, 9, 0)
    # Ticking again at the same time queues nothing: the model is no longer due.
    assert scheduler.due(at(2026, 3, 2, 9, 0)) == [] and scheduler.tick(at(2026, 3, 2, 9, 0)) == []
    assert len(queue.jobs()) == 1
    # A worker runs that job. The next day the model is due again, at 03-03 09:00.
    queue.claim("w1")
    queue.complete(job.id)
    assert scheduler.due(at(2026, 3, 3, 8, 0)) == []
    assert [j.model_name for j in scheduler.tick(at(2026, 3, 3, 9, 20))] == ["brand"]
    assert registry.get_model("brand").next_run_at == at(2026, 3, 4, 9, 0)


def test_weekly_after_missed_weeks_queues_one_job(registry, clock, scheduler, queue):
    make_model(registry, "brand", run_frequency="weekly")
    train_at(registry, clock, "brand", at(2026, 3, 1, 9, 0))      # a Sunday
    assert scheduler.due(at(2026, 3, 8, 8, 0)) == []              # due 03-08 09:00
    jobs = scheduler.tick(at(2026, 3, 20, 12, 0))                 # 03-08 and 03-15 were missed
    assert len(jobs) == 1 and jobs[0].params["due_at"] == "2026-03-08T09:00:00+00:00"
    assert registry.get_model("brand").next_run_at == at(2026, 3, 22, 9, 0)  # 03-08 + 7 + 7


@pytest.mark.parametrize(
    "due,expected_next",
    [(at(2026, 1, 31, 10), at(2026, 2, 28, 10)), (at(2028, 1, 31, 10), at(2028, 2, 29, 10))],
    ids=["2026", "leap-2028"],
)
def test_monthly_from_january_31(registry, clock, scheduler, due, expected_next):
    make_model(registry, "brand", run_frequency="monthly")
    registry.set_next_run_at("brand", due)
    assert scheduler.due(due - timedelta(seconds=1)) == []
    [job] = scheduler.tick(due)
    assert job.kind == "train"  # never trained
    assert registry.get_model("brand").next_run_at == expected_next


def test_monthly_from_the_last_run(registry, clock, scheduler):
    make_model(registry, "brand", run_frequency="monthly")
    train_at(registry, clock, "brand", at(2026, 3, 31, 6, 0))
    assert scheduler.due(at(2026, 4, 30, 5, 59)) == []            # Mar 31 + 1 month = Apr 30
    assert scheduler.due(at(2026, 4, 30, 6, 0)) == ["brand"]


def test_a_model_never_trained_gets_a_train_job_at_once(registry, clock, scheduler):
    clock.current = at(2026, 3, 1, 9, 0)
    make_model(registry, "brand", run_frequency="daily")
    assert due_at(registry.get_model("brand")) == at(2026, 3, 1, 9, 0)   # due from creation
    [job] = scheduler.tick(at(2026, 3, 1, 9, 5))
    assert job.kind == "train"
    assert registry.get_model("brand").next_run_at == at(2026, 3, 2, 9, 0)


def test_a_model_whose_training_failed_is_trained_again(registry, clock, scheduler):
    make_model(registry, "brand", run_frequency="daily")
    train_at(registry, clock, "brand", at(2026, 3, 1, 9, 0), status=Status.FAILED)
    [job] = scheduler.tick(at(2026, 3, 2, 9, 0))
    assert job.kind == "train"


def test_a_model_edited_since_training_is_trained_not_scored(registry, clock, scheduler):
    make_model(registry, "brand", run_frequency="daily")
    train_at(registry, clock, "brand", at(2026, 3, 1, 9, 0))
    registry.update_model("brand", spec_yaml="name: m\nconversion: sales\nlookback_weeks: 4\n")
    [job] = scheduler.tick(at(2026, 3, 2, 9, 0))
    assert job.kind == "train"


def test_manual_models_are_never_due(registry, clock, scheduler):
    make_model(registry, "brand", run_frequency="manual")
    train_at(registry, clock, "brand", at(2026, 3, 1, 9, 0))
    assert scheduler.due(at(2030, 1, 1)) == [] and scheduler.tick(at(2030, 1, 1)) == []


def test_no_second_job_when_one_is_already_queued(registry, clock, scheduler, queue):
    make_model(registry, "brand", run_frequency="daily")
    train_at(registry, clock, "brand", at(2026, 3, 1, 9, 0))
    manual = queue.enqueue("score", "brand", {"from": "2026-01-01"})
    assert scheduler.tick(at(2026, 3, 2, 9, 0)) == []
    assert [j.id for j in queue.jobs()] == [manual]
    # The slot is covered by the queued job, so the schedule still moves on.
    assert registry.get_model("brand").next_run_at == at(2026, 3, 3, 9, 0)


def test_a_model_in_progress_without_a_job_is_left_for_a_later_tick(registry, clock, scheduler, queue):
    make_model(registry, "brand", run_frequency="daily")
    train_at(registry, clock, "brand", at(2026, 3, 1, 9, 0))
    registry.start_run("brand", "train", {})                      # someone retrains by hand
    assert scheduler.tick(at(2026, 3, 2, 9, 0)) == []
    assert registry.get_model("brand").next_run_at is None and queue.jobs() == []


def test_several_models_each_on_their_own_schedule(registry, clock, scheduler):
    for name, frequency in [("d", "daily"), ("w", "weekly"), ("m", "monthly"), ("x", "manual")]:
        make_model(registry, name, run_frequency=frequency)
        train_at(registry, clock, name, at(2026, 3, 1, 9, 0))
    # At 03-09 10:00: daily (due 03-02) and weekly (due 03-08) are due; monthly waits for 04-01.
    assert scheduler.due(at(2026, 3, 9, 10, 0)) == ["d", "w"]
    assert [j.model_name for j in scheduler.tick(at(2026, 3, 9, 10, 0))] == ["d", "w"]
    assert registry.get_model("d").next_run_at == at(2026, 3, 10, 9, 0)
    assert registry.get_model("w").next_run_at == at(2026, 3, 15, 9, 0)
    assert registry.get_model("m").next_run_at is None
    assert scheduler.due(at(2026, 4, 1, 9, 0)) == ["d", "m", "w"]


def test_changing_the_frequency_reschedules_from_the_last_run(registry, clock, scheduler):
    make_model(registry, "brand", run_frequency="monthly")
    train_at(registry, clock, "brand", at(2026, 3, 1, 9, 0))
    registry.set_next_run_at("brand", at(2026, 4, 1, 9, 0))
    registry.update_model("brand", run_frequency="daily")
    assert scheduler.due(at(2026, 3, 2, 9, 0)) == ["brand"]


def test_scheduled_jobs_are_audited(registry, clock, scheduler):
    make_model(registry, "brand", run_frequency="daily")
    [job] = scheduler.tick(clock.current + timedelta(minutes=1))
    [event] = registry.audit_events("brand", action="job.enqueued")
    assert event.actor == "scheduler" and event.detail["job_id"] == job.id and event.detail["kind"] == "train"


def test_two_schedulers_ticking_at_once_queue_each_job_once(registry, clock, queue, db_url):
    names = [f"m{i}" for i in range(6)]
    for name in names:
        make_model(registry, name, run_frequency="daily")
    registries = [Registry(db_url, clock=clock) for _ in range(2)]
    try:
        schedulers = [Scheduler(r, JobQueue(r)) for r in registries]
        start = threading.Barrier(2)
        results = []

        def tick(scheduler):
            start.wait()
            results.append(scheduler.tick(clock.current + timedelta(minutes=1)))

        threads = [threading.Thread(target=tick, args=(s,)) for s in schedulers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(j.model_name for batch in results for j in batch) == names
        assert sorted(j.model_name for j in queue.jobs()) == names
    finally:
        for r in registries:
            r.close()


def test_now_must_be_timezone_aware(scheduler):
    with pytest.raises(ValueError, match="naive"):
        scheduler.due(datetime(2026, 3, 1, 9, 0))
