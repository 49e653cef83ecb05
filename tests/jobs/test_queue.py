from datetime import date

import pytest

from mediamix.errors import MediamixError, NotFoundError
from mediamix.jobs import JobQueue, JobState
from tests.jobs.helpers import make_model, make_trained_model


def test_enqueue_claim_complete(queue, registry, clock):
    make_trained_model(registry)
    job_id = queue.enqueue("score", "brand", {"from": date(2026, 1, 5), "to": "2026-03-30"})
    job = queue.get(job_id)
    assert (job.kind, job.model_name, job.state, job.attempts) == ("score", "brand", JobState.QUEUED, 0)
    assert job.params == {"from": "2026-01-05", "to": "2026-03-30"}  # dates stored as ISO strings
    assert job.enqueued_at == clock.current and job.started_at is None and job.worker is None

    clock.advance(seconds=5)
    claimed = queue.claim("w1")
    assert claimed.id == job_id and claimed.state is JobState.RUNNING
    assert claimed.worker == "w1" and claimed.attempts == 1 and claimed.started_at == clock.current
    assert queue.claim("w2") is None  # nothing else queued

    clock.advance(seconds=60)
    done = queue.complete(job_id)
    assert done.state is JobState.DONE and done.finished_at == clock.current and done.error is None
    [event] = registry.audit_events("brand", action="job.enqueued")
    assert event.actor == "tester" and event.detail["job_id"] == job_id and event.detail["kind"] == "score"


def test_claims_oldest_first_and_only_the_kinds_asked_for(queue, registry):
    make_model(registry, "a")
    make_trained_model(registry, "b")
    first = queue.enqueue("train", "a")
    second = queue.enqueue("score", "b")
    third = queue.enqueue("train", "b")
    assert queue.claim("scorer", kinds=["score"]).id == second
    assert queue.claim("scorer", kinds=["score"]) is None
    assert queue.claim("any").id == first
    assert queue.claim("any") is None          # b's train job waits while b's score job runs
    queue.complete(second)
    assert queue.claim("any").id == third


def test_fail_records_the_error_and_requeue_retries(queue, registry):
    make_model(registry)
    job_id = queue.enqueue("train", "brand")
    queue.claim("w1")
    failed = queue.fail(job_id, "NaN in spend column 'tv' on 2026-02-02")
    assert failed.state is JobState.FAILED and failed.error == "NaN in spend column 'tv' on 2026-02-02"
    requeued = queue.requeue(job_id)
    assert requeued.state is JobState.QUEUED and requeued.worker is None
    again = queue.claim("w2")
    assert again.id == job_id and again.attempts == 2 and again.error is None


def test_only_running_jobs_finish(queue, registry):
    make_model(registry)
    job_id = queue.enqueue("train", "brand")
    expected = r"job \d+ \(train 'brand'\) is queued, not running; only a running job can be marked done"
    with pytest.raises(MediamixError, match=expected):
        queue.complete(job_id)
    queue.claim("w1")
    queue.complete(job_id)
    with pytest.raises(MediamixError, match="is done, not running"):
        queue.fail(job_id, "late")
    with pytest.raises(MediamixError, match="only a failed or running job can be requeued"):
        queue.requeue(job_id)
    with pytest.raises(NotFoundError, match="no job with id 424242"):
        queue.complete(424242)


def test_enqueue_refuses_unknown_models_and_kinds(queue, registry):
    make_model(registry, "brand")
    with pytest.raises(NotFoundError, match="no model named 'brnad'; did you mean 'brand'"):
        queue.enqueue("train", "brnad")
    with pytest.raises(MediamixError, match="job kind 'fit' is not 'train' or 'score'"):
        queue.enqueue("fit", "brand")
    assert queue.jobs() == []


def test_listing_pending_and_discarding(queue, registry):
    make_model(registry, "a")
    make_model(registry, "b")
    running = queue.enqueue("train", "a")
    queue.claim("w1")
    queued = queue.enqueue("score", "a")
    other = queue.enqueue("train", "b")
    assert [j.id for j in queue.pending("a")] == [running, queued]
    assert [j.id for j in queue.jobs(state="queued")] == [queued, other]
    assert [j.id for j in queue.jobs("b")] == [other]
    assert queue.discard_queued("a") == 1
    assert [j.id for j in queue.pending("a")] == [running]
    assert [j.id for j in queue.jobs()] == [running, other]


def test_the_queue_is_durable(queue, registry, db_url):
    make_model(registry)
    job_id = queue.enqueue("train", "brand", {"seed": 1})
    from mediamix.registry import Registry

    reopened = Registry(db_url)
    try:
        assert JobQueue(reopened).claim("after-restart").id == job_id
    finally:
        reopened.close()
