"""Two real processes claim from one queue at once: every job goes to exactly one of them."""
import multiprocessing

from sqlalchemy import text

from mediamix.jobs import JobState
from tests.jobs import job_functions
from tests.jobs.helpers import make_model

N_JOBS = 60


def test_two_processes_never_claim_the_same_job(queue, registry, db_url):
    # One job per model: a model's second job would wait until its first has finished.
    ids = []
    for i in range(N_JOBS):
        make_model(registry, f"brand-{i}")
        ids.append(queue.enqueue("train", f"brand-{i}", {"n": i}))
    registry.close()  # the children open their own connections

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    processes = [
        context.Process(target=job_functions.claim_until_empty, args=(db_url, f"p{i}", barrier, results))
        for i in range(2)
    ]
    for p in processes:
        p.start()
    reports = dict(results.get(timeout=60) for _ in processes)
    for p in processes:
        p.join(timeout=30)
        assert p.exitcode == 0

    taken = reports["p0"] + reports["p1"]
    assert sorted(taken) == ids                            # every job claimed ...
    assert not set(reports["p0"]) & set(reports["p1"])     # ... by one process only
    jobs = queue.jobs()
    assert all(j.state is JobState.RUNNING and j.attempts == 1 for j in jobs)
    for worker, claimed in reports.items():
        assert {j.id for j in jobs if j.worker == worker} == set(claimed)
    with registry.engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM jobs WHERE state = 'queued'")).scalar_one() == 0
