"""Every Registry method against a real database: a SQLite file, and PostgreSQL when
MEDIAMIX_TEST_PG_URL is set (see databases.py)."""
import dataclasses
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from mediamix.errors import MediamixError, NotFoundError, SpecError
from mediamix.registry import MODELS_TABLE_COLUMNS, Registry, Status

UTC = timezone.utc
SPEC = "name: brand\nconversion: sales\ntouchpoints: [tv, search]\n"


def make(registry, name="brand", **overrides):
    fields = dict(description="Brand MMM", conversion="sales", spec_yaml=SPEC)
    fields.update(overrides)
    return registry.create_model(name, **fields)


def trained(registry, name="brand", status=Status.SUCCESS, reasons=(), artifact_dir=None):
    """Create a model and finish one train run with `status`."""
    make(registry, name)
    run_id = registry.start_run(name, "train", {"chains": 2})
    registry.finish_run(run_id, status, {"max_rhat": 1.0}, None, artifact_dir, reasons=reasons)
    return run_id


def count(registry, table, model_id=None):
    sql = f"SELECT COUNT(*) FROM {table}" + (" WHERE model_id = :m" if model_id is not None else "")
    with registry.engine.connect() as connection:
        return connection.execute(text(sql), {"m": model_id}).scalar_one()


# ----- create / get / list -------------------------------------------------------------------

def test_create_and_get_returns_a_frozen_snapshot(registry, clock):
    created = make(registry, run_frequency="Weekly")
    got = registry.get_model("brand")
    assert got == created
    assert (got.name, got.description, got.conversion, got.spec_yaml) == ("brand", "Brand MMM", "sales", SPEC)
    assert got.run_frequency == "weekly"
    assert got.status is Status.AWAITING_TRAINING
    assert got.status_reasons == () and got.status_message is None
    assert got.created_at == got.updated_at == clock.current
    assert got.created_at.tzinfo is not None and got.created_at.utcoffset() == timedelta(0)
    assert got.last_run_at is None and got.next_run_at is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.status = Status.SUCCESS  # type: ignore[misc]
    registry.update_model("brand", description="changed")
    assert got.description == "Brand MMM"  # a snapshot, not a live row


def test_create_refuses_an_existing_name(registry):
    make(registry)
    events_before = len(registry.audit_events())
    with pytest.raises(MediamixError) as info:
        make(registry)
    assert str(info.value) == (
        "model 'brand' already exists; choose another name or use `mediamix model duplicate`"
    )
    assert len(registry.audit_events()) == events_before  # the failed create left no trace


def test_create_refuses_a_name_differing_only_in_case(registry):
    make(registry, "Brand")
    with pytest.raises(MediamixError, match="'brand' would differ from existing model 'Brand' only in letter case"):
        make(registry, "brand")


@pytest.mark.parametrize(
    "name,fields,match",
    [
        ("", {}, "model name '' is empty"),
        (" brand", {}, "starts or ends with spaces"),
        ("a/b", {}, r"contains '/'"),
        ("x" * 201, {}, "201 characters long; use at most 200"),
        ("brand", {"conversion": " "}, "conversion ' ' is empty"),
        ("brand", {"spec_yaml": ""}, "spec_yaml '' is empty"),
        ("brand", {"run_frequency": "hourly"},
         "run_frequency 'hourly' is not one of 'manual', 'daily', 'weekly', 'monthly'"),
    ],
)
def test_create_names_the_bad_field(registry, name, fields, match):
    with pytest.raises(SpecError, match=match):
        make(registry, name, **fields)
    assert registry.list_models() == []


def test_unknown_model_lists_close_matches(registry):
    make(registry, "brand-mmm")
    make(registry, "Brand")
    make(registry, "search-only")
    with pytest.raises(NotFoundError) as info:
        registry.get_model("brand")
    message = str(info.value)
    assert message.startswith("no model named 'brand'; did you mean 'Brand', 'brand-mmm'?")
    with pytest.raises(NotFoundError, match="run `mediamix models` to see the models there are"):
        registry.get_model("zzzzzz")


def test_unknown_model_in_an_empty_registry(registry):
    with pytest.raises(NotFoundError, match="no model named 'brand': the registry has no models yet"):
        registry.start_run("brand", "train", {})


def test_list_models_sorted_by_name_ignoring_case(registry):
    for name in ["zeta", "Alpha", "beta"]:
        make(registry, name)
    assert [m.name for m in registry.list_models()] == ["Alpha", "beta", "zeta"]
    assert registry.has_model("beta") and not registry.has_model("gamma")


def test_a_new_registry_on_the_same_database_sees_the_same_models(registry, db_url, clock):
    trained(registry)
    again = Registry(db_url, clock=clock)
    try:
        record = again.get_model("brand")
        assert record == registry.get_model("brand")
        assert record.last_run_at == clock.current and record.last_run_at.tzinfo is not None
    finally:
        again.close()


# ----- models table ---------------------------------------------------------------------------

def test_models_table_columns_and_values(registry, clock):
    # A clock two hours ahead of UTC: the table must still show UTC.
    plus_two = timezone(timedelta(hours=2))
    clock.current = datetime(2026, 3, 1, 16, 5, 30, tzinfo=plus_two)
    trained(registry, "brand", status=Status.TRAINING_ISSUE, reasons=["max R-hat 1.04 > 1.01"])
    make(registry, "search", description="Search only", conversion="signups", run_frequency="daily")
    table = registry.models_table()
    assert list(table.columns) == list(MODELS_TABLE_COLUMNS) == [
        "Name", "Description", "Conversion event", "Run frequency", "Last run", "Status",
    ]
    assert table.to_dict("records") == [
        {"Name": "brand", "Description": "Brand MMM", "Conversion event": "sales",
         "Run frequency": "manual", "Last run": "2026-03-01 14:05", "Status": "Training issue"},
        {"Name": "search", "Description": "Search only", "Conversion event": "signups",
         "Run frequency": "daily", "Last run": "—", "Status": "Awaiting training"},
    ]


def test_models_table_of_an_empty_registry_has_the_columns(registry):
    table = registry.models_table()
    assert table.empty and list(table.columns) == list(MODELS_TABLE_COLUMNS)


# ----- update / rename / duplicate ------------------------------------------------------------

def test_editing_the_description_keeps_the_status(registry, clock):
    trained(registry)
    clock.advance(hours=1)
    record = registry.update_model("brand", description="New words")
    assert record.description == "New words"
    assert record.status is Status.SUCCESS
    assert record.updated_at == clock.current


@pytest.mark.parametrize(
    "field,value", [("spec_yaml", SPEC + "lookback_weeks: 6\n"), ("conversion", "revenue")], ids=["spec", "conversion"]
)
@pytest.mark.parametrize("status", [Status.SUCCESS, Status.TRAINING_ISSUE, Status.FAILED])
def test_editing_what_a_trained_model_computes_sets_it_awaiting_training(registry, field, value, status):
    trained(registry, status=status, reasons=["min ESS 120 < 400"] if status is Status.TRAINING_ISSUE else ())
    record = registry.update_model("brand", **{field: value})
    assert record.status is Status.AWAITING_TRAINING
    assert record.status_reasons == () and record.status_message is None
    assert getattr(record, field) == value
    assert registry.audit_events("brand", action="model.updated")[-1].detail == {
        "changed": [field], "status_reset_from": status.value,
    }


def test_editing_the_spec_while_in_progress_is_refused(registry):
    make(registry)
    registry.start_run("brand", "train", {})
    expected = "'brand' is 'In progress'; wait for its run to finish before editing spec_yaml"
    with pytest.raises(MediamixError, match=expected):
        registry.update_model("brand", spec_yaml="other: 1\n")
    assert registry.get_model("brand").spec_yaml == SPEC


def test_an_unchanged_edit_changes_nothing(registry):
    make(registry)
    before = registry.get_model("brand")
    assert registry.update_model("brand", spec_yaml=SPEC, description="Brand MMM") == before
    assert registry.audit_events("brand", action="model.updated") == []


def test_changing_run_frequency_clears_next_run(registry, clock):
    make(registry, run_frequency="daily")
    registry.set_next_run_at("brand", clock.current + timedelta(days=1))
    assert registry.get_model("brand").next_run_at == clock.current + timedelta(days=1)
    record = registry.update_model("brand", run_frequency="monthly")
    assert record.run_frequency == "monthly" and record.next_run_at is None


def test_update_refuses_unknown_fields_and_bad_values(registry):
    make(registry)
    with pytest.raises(MediamixError, match="cannot edit name of model 'brand'.*`mediamix model rename`"):
        registry.update_model("brand", name="other")
    with pytest.raises(SpecError, match="run_frequency 'yearly'"):
        registry.update_model("brand", run_frequency="yearly")
    with pytest.raises(NotFoundError, match="did you mean 'brand'"):
        registry.update_model("brnad", description="x")


def test_rename_keeps_runs_and_plans(registry):
    run_id = trained(registry)
    registry.save_plan("brand", "q3", {"budget": 100})
    record = registry.rename("brand", "brand-2026")
    assert record.name == "brand-2026"
    assert [r.id for r in registry.runs("brand-2026")] == [run_id]
    assert [p.name for p in registry.plans("brand-2026")] == ["q3"]
    with pytest.raises(NotFoundError, match="did you mean 'brand-2026'"):
        registry.get_model("brand")
    assert registry.audit_events("brand-2026", action="model.renamed")[0].detail == {"old_name": "brand"}


def test_rename_to_a_taken_name_is_refused_but_a_case_change_is_allowed(registry):
    make(registry, "brand")
    make(registry, "search")
    with pytest.raises(MediamixError, match="model 'search' already exists; choose another name"):
        registry.rename("brand", "search")
    assert registry.rename("brand", "Brand").name == "Brand"


def test_duplicate_copies_the_definition_not_the_history(registry, clock):
    trained(registry)
    registry.update_model("brand", run_frequency="weekly")
    registry.save_plan("brand", "q3", {"budget": 100})
    clock.advance(days=1)
    copy = registry.duplicate("brand", "brand-copy")
    source = registry.get_model("brand")
    assert (copy.description, copy.conversion, copy.spec_yaml, copy.run_frequency) == (
        source.description, source.conversion, source.spec_yaml, source.run_frequency,
    )
    assert copy.id != source.id
    assert copy.status is Status.AWAITING_TRAINING and source.status is Status.SUCCESS
    assert copy.last_run_at is None and copy.created_at == clock.current
    assert registry.runs("brand-copy") == [] and registry.plans("brand-copy") == []
    with pytest.raises(MediamixError, match="model 'brand' already exists; choose another name for the copy"):
        registry.duplicate("brand-copy", "brand")


# ----- delete ---------------------------------------------------------------------------------

def test_delete_removes_the_model_runs_and_plans_and_nothing_else(registry, tmp_path):
    trained(registry, "brand", artifact_dir=tmp_path / "brand" / "1")
    registry.start_run("brand", "score", {"from": "2026-01-01"})
    registry.save_plan("brand", "q3", {"budget": 100})
    other_run = trained(registry, "search", artifact_dir=tmp_path / "search" / "1")
    registry.save_plan("search", "q4", {"budget": 50})
    brand, search = registry.get_model("brand"), registry.get_model("search")

    dirs = registry.delete_model("brand")

    assert dirs == [tmp_path / "brand" / "1"]  # the open score run has no artifacts yet
    assert not registry.has_model("brand")
    assert count(registry, "runs", brand.id) == 0 and count(registry, "plans", brand.id) == 0
    # The other model is untouched.
    assert registry.get_model("search") == search
    assert [r.id for r in registry.runs("search")] == [other_run]
    assert [p.name for p in registry.plans("search")] == ["q4"]
    assert count(registry, "runs") == 1 and count(registry, "plans") == 1
    # The audit trail outlives the model.
    actions = [e.action for e in registry.audit_events("brand")]
    assert actions == ["model.created", "run.started", "run.finished", "run.started", "plan.saved", "model.deleted"]
    assert registry.audit_events("brand", action="model.deleted")[0].detail == {
        "model_id": brand.id, "runs": 2, "plans": 1, "artifact_dirs": [str(tmp_path / "brand" / "1")],
    }
    with pytest.raises(NotFoundError):
        registry.runs("brand")


def test_the_database_itself_cascades_deletes(registry):
    """ON DELETE CASCADE is enforced by the database (PRAGMA foreign_keys on SQLite), so even
    a delete that bypasses the Registry leaves no orphan runs or plans."""
    trained(registry)
    registry.save_plan("brand", "q3", {"budget": 1})
    with registry.engine.begin() as connection:
        connection.execute(text("DELETE FROM models WHERE name = 'brand'"))
    assert count(registry, "runs") == 0 and count(registry, "plans") == 0
    with pytest.raises(IntegrityError):  # an orphan run is refused outright
        with registry.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO runs (model_id, kind, status, started_at, reasons, params) "
                "VALUES (9999, 'train', 'In progress', '2026-01-01 00:00:00', '[]', '{}')"
            ))


# ----- statuses and runs ----------------------------------------------------------------------

def test_set_status_follows_the_allowed_transitions(registry):
    make(registry)
    for status in [Status.IN_PROGRESS, Status.SUCCESS, Status.IN_PROGRESS, Status.FAILED, Status.IN_PROGRESS]:
        registry.set_status("brand", status, message="boom" if status is Status.FAILED else None)
    record = registry.set_status("brand", "Training issue", reasons=["2 divergences"])
    assert record.status is Status.TRAINING_ISSUE and record.status_reasons == ("2 divergences",)
    moves = [(e.detail["from"], e.detail["to"]) for e in registry.audit_events("brand", action="model.status")]
    assert moves[0] == ("Awaiting training", "In progress") and moves[-1] == ("In progress", "Training issue")


@pytest.mark.parametrize(
    "path,illegal",
    [
        ([], Status.SUCCESS),                                   # Awaiting training -> Success
        ([], Status.FAILED),
        ([Status.IN_PROGRESS], Status.IN_PROGRESS),
        ([Status.IN_PROGRESS], Status.AWAITING_TRAINING),
        ([Status.IN_PROGRESS, Status.SUCCESS], Status.FAILED),  # Success -> Failed
        ([Status.IN_PROGRESS, Status.FAILED], Status.SUCCESS),
    ],
)
def test_illegal_transitions_name_both_states_and_change_nothing(registry, path, illegal):
    make(registry)
    for status in path:
        registry.set_status("brand", status, message="boom")
    before = registry.get_model("brand")
    with pytest.raises(MediamixError) as info:
        registry.set_status("brand", illegal, reasons=["r"], message="m")
    assert f"from '{before.status.value}' to '{illegal.value}'" in str(info.value)
    assert registry.get_model("brand") == before


def test_training_issue_needs_a_reason(registry):
    make(registry)
    registry.set_status("brand", Status.IN_PROGRESS)
    with pytest.raises(MediamixError, match="'Training issue' needs at least one reason"):
        registry.set_status("brand", Status.TRAINING_ISSUE)


def test_a_train_run_from_start_to_finish(registry, clock, tmp_path):
    make(registry)
    run_id = registry.start_run("brand", "train", {"chains": 2, "seed": 7})
    assert registry.get_model("brand").status is Status.IN_PROGRESS
    started = clock.current
    clock.advance(minutes=3)
    diagnostics = {"max_rhat": np.float32(1.004), "min_ess": np.int64(812), "ess_tail": float("nan")}
    run = registry.finish_run(run_id, "Success", diagnostics, "fit in 9.1 s", tmp_path / "run1")
    assert run.status is Status.SUCCESS and run.kind == "train" and run.model_name == "brand"
    assert run.started_at == started and run.finished_at == clock.current
    assert run.params == {"chains": 2, "seed": 7}
    assert run.message == "fit in 9.1 s" and run.artifact_dir == str(tmp_path / "run1")
    assert run.diagnostics["min_ess"] == 812 and run.diagnostics["ess_tail"] is None
    assert abs(run.diagnostics["max_rhat"] - 1.004) < 1e-6
    assert registry.get_run(run_id) == run
    model = registry.get_model("brand")
    assert model.status is Status.SUCCESS and model.last_run_at == clock.current


def test_one_run_at_a_time(registry):
    make(registry)
    registry.start_run("brand", "train", {})
    # In words, not as a status transition: which run is going on, and when it can run again.
    with pytest.raises(MediamixError, match=r"model 'brand' is already being trained \(run \d+, started "
                                            r"\d{4}-\d\d-\d\d \d\d:\d\d UTC\); it can be scored once that run "
                                            r"has finished") as info:
        registry.start_run("brand", "score", {})
    assert "'In progress' to" not in str(info.value)
    with pytest.raises(MediamixError, match="already being trained .* it can be trained once that run has finished"):
        registry.start_run("brand", "train", {})
    assert len(registry.runs("brand")) == 1


def test_finish_run_refuses_bad_endings(registry):
    make(registry)
    run_id = registry.start_run("brand", "train", {})
    with pytest.raises(MediamixError, match="must end with 'Success', 'Training issue' or 'Failed', not 'In progress'"):
        registry.finish_run(run_id, Status.IN_PROGRESS, None, None, None)
    with pytest.raises(MediamixError, match="needs at least one reason"):
        registry.finish_run(run_id, Status.TRAINING_ISSUE, None, None, None)
    with pytest.raises(NotFoundError, match="no run with id 999"):
        registry.finish_run(999, Status.SUCCESS, None, None, None)
    assert registry.get_model("brand").status is Status.IN_PROGRESS  # nothing half-done
    registry.finish_run(run_id, Status.FAILED, None, "NaN in spend column 'tv'", None)
    with pytest.raises(MediamixError, match="run .* of model 'brand' already finished with 'Failed'"):
        registry.finish_run(run_id, Status.SUCCESS, None, None, None)


def test_failed_and_training_issue_are_stored_and_shown(registry):
    make(registry)
    run_id = registry.start_run("brand", "train", {})
    reasons = ["max R-hat 1.03 > 1.01", "3 divergences"]
    registry.finish_run(run_id, Status.TRAINING_ISSUE, {}, None, None, reasons=reasons)
    model = registry.get_model("brand")
    assert model.status_reasons == ("max R-hat 1.03 > 1.01", "3 divergences") and model.status_message is None
    run_id = registry.start_run("brand", "train", {})  # retrain from Training issue
    assert registry.get_model("brand").status_reasons == ()
    registry.finish_run(run_id, Status.FAILED, None, "sampler produced NaN", None)
    model = registry.get_model("brand")
    assert model.status is Status.FAILED and model.status_message == "sampler produced NaN"
    assert model.status_reasons == ()


def test_scoring_needs_a_trained_posterior(registry):
    make(registry)
    with pytest.raises(MediamixError, match="model 'brand' has no trained posterior to score; train it first"):
        registry.start_run("brand", "score", {})
    run_id = registry.start_run("brand", "train", {})
    registry.finish_run(run_id, Status.FAILED, None, "boom", None)
    with pytest.raises(MediamixError, match="no trained posterior"):
        registry.start_run("brand", "score", {})


def test_a_posterior_of_an_older_spec_is_not_scored(registry):
    first = trained(registry)
    assert registry.trained_run("brand").id == first
    assert registry.get_run(first).spec_version == 1
    registry.update_model("brand", spec_yaml=SPEC + "lookback_weeks: 4\n")
    assert registry.get_model("brand").spec_version == 2
    assert registry.trained_run("brand") is None
    with pytest.raises(MediamixError, match=r"'brand' was edited after its last training \(spec version 1 -> 2\)"):
        registry.start_run("brand", "score", {})
    registry.update_model("brand", description="words only")  # not a modeling change
    assert registry.get_model("brand").spec_version == 2
    second = registry.start_run("brand", "train", {})
    registry.finish_run(second, Status.FAILED, None, "boom", None)
    assert registry.trained_run("brand") is None  # the failed retrain left nothing usable
    third = registry.start_run("brand", "train", {})
    registry.finish_run(third, Status.SUCCESS, None, None, None)
    assert registry.trained_run("brand").id == third and registry.get_run(third).spec_version == 2


def test_a_scored_model_keeps_the_verdict_of_its_training(registry):
    trained(registry, status=Status.TRAINING_ISSUE, reasons=["min ESS 210 < 400"])
    score = registry.start_run("brand", "score", {"from": "2026-01-05", "to": "2026-03-30"})
    assert registry.get_run(score).params == {"from": "2026-01-05", "to": "2026-03-30"}
    registry.finish_run(score, Status.SUCCESS, None, None, "/tmp/score1")
    model = registry.get_model("brand")
    assert model.status is Status.TRAINING_ISSUE and model.status_reasons == ("min ESS 210 < 400",)
    # A score run's own issue adds to the training's.
    score = registry.start_run("brand", "score", {})
    registry.finish_run(score, Status.TRAINING_ISSUE, None, None, None, reasons=["no spend after 2026-03-01"])
    assert registry.get_model("brand").status_reasons == ("min ESS 210 < 400", "no spend after 2026-03-01")
    # A failed score fails the model; rescoring from Failed is allowed and restores the verdict.
    score = registry.start_run("brand", "score", {})
    registry.finish_run(score, Status.FAILED, None, "dates 2027-01-04.. are not in the data", None)
    assert registry.get_model("brand").status is Status.FAILED
    score = registry.start_run("brand", "score", {})
    registry.finish_run(score, Status.SUCCESS, None, None, None)
    assert registry.get_model("brand").status is Status.TRAINING_ISSUE


def test_scoring_a_successful_model_keeps_success(registry):
    trained(registry)
    score = registry.start_run("brand", "score", {})
    registry.finish_run(score, Status.SUCCESS, None, None, None)
    model = registry.get_model("brand")
    assert model.status is Status.SUCCESS and model.status_reasons == ()


def test_runs_and_latest_run(registry, clock):
    make(registry)
    assert registry.latest_run("brand") is None
    train1 = registry.start_run("brand", "train", {})
    registry.finish_run(train1, Status.SUCCESS, None, None, None)
    score1 = registry.start_run("brand", "score", {})
    registry.finish_run(score1, Status.SUCCESS, None, None, None)
    train2 = registry.start_run("brand", "train", {})
    registry.finish_run(train2, Status.FAILED, None, "boom", None)
    open_score = registry.start_run("brand", "score", {})  # scores the last usable posterior (train1)

    assert [r.id for r in registry.runs("brand")] == [train1, score1, train2, open_score]
    assert [r.id for r in registry.runs("brand", kind="train")] == [train1, train2]
    assert registry.latest_run("brand").id == open_score
    assert registry.latest_run("brand", kind="train").id == train2
    assert registry.latest_run("brand", kind="train", successful_only=True).id == train1
    assert registry.latest_run("brand", successful_only=True).id == score1
    assert not registry.get_run(open_score).is_finished
    with pytest.raises(MediamixError, match="run kind 'predict' is not 'train' or 'score'"):
        registry.runs("brand", kind="predict")


def test_fail_unfinished_runs_releases_a_model_stuck_in_progress(registry, clock):
    trained(registry)
    clock.advance(hours=1)
    since = clock.current
    stuck = registry.start_run("brand", "score", {})
    assert registry.fail_unfinished_runs("brand", "job process exited with code -9", started_since=since) == [stuck]
    run = registry.get_run(stuck)
    assert run.status is Status.FAILED and run.message == "job process exited with code -9"
    model = registry.get_model("brand")
    assert model.status is Status.FAILED and model.status_message == "job process exited with code -9"
    assert registry.fail_unfinished_runs("brand", "again") == []  # nothing open any more


def test_fail_unfinished_runs_leaves_runs_started_before_the_job(registry, clock):
    make(registry)
    earlier = registry.start_run("brand", "train", {})
    clock.advance(minutes=5)
    assert registry.fail_unfinished_runs("brand", "crash", started_since=clock.current) == []
    assert registry.get_model("brand").status is Status.IN_PROGRESS
    assert not registry.get_run(earlier).is_finished


def test_set_next_run_at_inside_a_caller_transaction_rolls_back_with_it(registry, clock):
    make(registry, run_frequency="daily")
    with pytest.raises(RuntimeError):
        with registry.transaction() as session:
            registry.set_next_run_at("brand", clock.current + timedelta(days=1), session=session)
            registry.audit("job.enqueued", model_name="brand", actor="scheduler", session=session)
            raise RuntimeError("something after both writes failed")
    assert registry.get_model("brand").next_run_at is None
    assert registry.audit_events("brand", action="job.enqueued") == []


def test_naive_datetimes_are_refused(registry):
    make(registry)
    with pytest.raises(ValueError, match="naive datetime"):
        registry.set_next_run_at("brand", datetime(2026, 3, 2, 9, 0))


# ----- plans ----------------------------------------------------------------------------------

def test_plans(registry, clock):
    make(registry)
    plan = registry.save_plan("brand", "q3", {"budget": 1_000_000, "channels": ["tv"]}, {"roi": np.float64(2.5)})
    assert plan.name == "q3" and plan.model_name == "brand" and plan.created_at == clock.current
    assert plan.spec == {"budget": 1_000_000, "channels": ["tv"]} and plan.result == {"roi": 2.5}
    registry.save_plan("brand", "q4", {"budget": 5})
    assert [p.name for p in registry.plans("brand")] == ["q3", "q4"]
    assert registry.get_plan("brand", "q3") == plan
    with pytest.raises(MediamixError, match="model 'brand' already has a plan named 'q3'"):
        registry.save_plan("brand", "q3", {})
    registry.delete_plan("brand", "q3")
    with pytest.raises(NotFoundError, match="model 'brand' has no plan named 'q3'; its plans: 'q4'"):
        registry.get_plan("brand", "q3")


# ----- audit ----------------------------------------------------------------------------------

def test_every_action_is_audited_with_actor_and_time(registry, clock):
    make(registry)
    run_id = registry.start_run("brand", "train", {})
    registry.finish_run(run_id, Status.SUCCESS, None, None, None)
    registry.update_model("brand", description="d2")
    registry.duplicate("brand", "copy")
    registry.rename("copy", "copy2")
    registry.set_status("copy2", Status.IN_PROGRESS)
    registry.save_plan("brand", "q3", {})
    registry.delete_plan("brand", "q3")
    registry.audit("report.exported", model_name="brand", detail={"path": Path("/tmp/r.html")}, actor="alice")
    registry.delete_model("copy2")
    events = registry.audit_events()
    assert [(e.action, e.model_name) for e in events] == [
        ("model.created", "brand"), ("run.started", "brand"), ("run.finished", "brand"),
        ("model.updated", "brand"), ("model.duplicated", "copy"), ("model.renamed", "copy2"),
        ("model.status", "copy2"), ("plan.saved", "brand"), ("plan.deleted", "brand"),
        ("report.exported", "brand"), ("model.deleted", "copy2"),
    ]
    assert {e.actor for e in events} == {"tester", "alice"}
    assert events[-2].detail == {"path": "/tmp/r.html"}
    assert all(e.at == clock.current for e in events)


# ----- edits that keep the fit, and re-judging a posterior --------------------------------------
# SPEC_DESCRIBED differs from SPEC only in a field that does not change the fit; the caller (the
# Workspace, which can read specs) says so with same_fit=True.
SPEC_DESCRIBED = SPEC + "description: Simulated world\n"


def test_a_same_fit_spec_edit_keeps_the_version_the_posterior_and_the_status(registry):
    run_id = trained(registry, status=Status.TRAINING_ISSUE, reasons=["min bulk ESS 120 < 400"])
    record = registry.update_model("brand", spec_yaml=SPEC_DESCRIBED, description="Simulated world", same_fit=True)
    assert record.spec_yaml == SPEC_DESCRIBED and record.description == "Simulated world"
    assert record.spec_version == 1
    assert record.status is Status.TRAINING_ISSUE and record.status_reasons == ("min bulk ESS 120 < 400",)
    assert registry.trained_run("brand").id == run_id
    assert registry.check_scorable("brand").id == run_id
    registry.start_run("brand", "score", {})      # scoring is not refused as "edited after its last training"
    assert registry.audit_events("brand", action="model.updated")[-1].detail == {
        "changed": ["description", "spec_yaml"], "status_reset_from": None,
    }


def test_without_same_fit_the_same_spec_edit_needs_training_again(registry):
    trained(registry)
    record = registry.update_model("brand", spec_yaml=SPEC_DESCRIBED)
    assert record.spec_version == 2 and record.status is Status.AWAITING_TRAINING
    with pytest.raises(MediamixError, match=r"edited after its last training \(spec version 1 -> 2\)"):
        registry.check_scorable("brand")


def test_same_fit_does_not_cover_a_new_conversion(registry):
    trained(registry)
    record = registry.update_model("brand", conversion="revenue", same_fit=True)
    assert record.spec_version == 2 and record.status is Status.AWAITING_TRAINING


def test_a_description_edit_is_allowed_while_a_run_is_in_progress(registry):
    make(registry)
    registry.start_run("brand", "train", {})
    record = registry.update_model("brand", spec_yaml=SPEC_DESCRIBED, same_fit=True)
    assert record.status is Status.IN_PROGRESS and record.spec_version == 1


def verdict(run_id, status, reasons=()):
    from mediamix.registry import TrainVerdict
    return TrainVerdict(run_id, status, list(reasons), {"status": status.value, "reasons": list(reasons)})


def test_a_verdict_rejudges_the_run_and_the_model(registry, clock):
    run_id = trained(registry, status=Status.TRAINING_ISSUE, reasons=["min bulk ESS 120 < 400"])
    clock.advance(minutes=3)
    record = registry.update_model("brand", spec_yaml=SPEC + "thresholds: {min_ess: 100}\n", same_fit=True,
                                   verdict=verdict(run_id, Status.SUCCESS))
    assert record.status is Status.SUCCESS and record.status_reasons == () and record.spec_version == 1
    run = registry.get_run(run_id)
    assert run.status is Status.SUCCESS and run.reasons == ()
    assert run.diagnostics == {"max_rhat": 1.0, "status": "Success", "reasons": []}   # merged, not replaced
    [event] = registry.audit_events("brand", action="run.rejudged")
    assert event.detail == {"run_id": run_id, "from": "Training issue", "to": "Success",
                            "reasons_before": ["min bulk ESS 120 < 400"], "reasons": [],
                            "model_status_from": "Training issue", "model_status": "Success"}
    # And back: stricter thresholds make it a Training issue, with the reasons given.
    record = registry.update_model("brand", spec_yaml=SPEC + "thresholds: {min_ess: 4000}\n", same_fit=True,
                                   verdict=verdict(run_id, Status.TRAINING_ISSUE, ["min bulk ESS 812 < 4000"]))
    assert record.status is Status.TRAINING_ISSUE and record.status_reasons == ("min bulk ESS 812 < 4000",)
    assert registry.get_run(run_id).reasons == ("min bulk ESS 812 < 4000",)


def test_a_verdict_keeps_the_issues_of_a_later_score_run(registry):
    run_id = trained(registry)
    score = registry.start_run("brand", "score", {})
    registry.finish_run(score, Status.TRAINING_ISSUE, reasons=["3 weeks outside the data"])
    record = registry.update_model("brand", spec_yaml=SPEC_DESCRIBED, same_fit=True,
                                   verdict=verdict(run_id, Status.TRAINING_ISSUE, ["max R-hat 1.02 > 1.01"]))
    assert record.status_reasons == ("max R-hat 1.02 > 1.01", "3 weeks outside the data")


def test_a_verdict_leaves_a_failed_model_failed_but_rejudges_its_posterior(registry):
    run_id = trained(registry, status=Status.TRAINING_ISSUE, reasons=["min bulk ESS 120 < 400"])
    score = registry.start_run("brand", "score", {})
    registry.finish_run(score, Status.FAILED, message="data set 'weekly' is missing column tv_spend")
    record = registry.update_model("brand", spec_yaml=SPEC_DESCRIBED, same_fit=True,
                                   verdict=verdict(run_id, Status.SUCCESS))
    assert record.status is Status.FAILED and record.status_message.startswith("data set 'weekly'")
    assert registry.get_run(run_id).status is Status.SUCCESS


def test_a_verdict_is_refused_while_in_progress_for_a_stale_run_or_without_same_fit(registry):
    run_id = trained(registry)
    with pytest.raises(ValueError, match="same_fit=True"):
        registry.update_model("brand", spec_yaml=SPEC_DESCRIBED, verdict=verdict(run_id, Status.SUCCESS))
    newer = registry.start_run("brand", "train", {})
    with pytest.raises(MediamixError, match="'In progress'; wait for its run to finish before editing its thresholds"):
        registry.update_model("brand", spec_yaml=SPEC_DESCRIBED, same_fit=True, verdict=verdict(run_id, Status.SUCCESS))
    registry.finish_run(newer, Status.SUCCESS, None, None, None)
    with pytest.raises(MediamixError, match="was trained or edited again while this edit was being prepared"):
        registry.update_model("brand", spec_yaml=SPEC_DESCRIBED, same_fit=True, verdict=verdict(run_id, Status.SUCCESS))
    with pytest.raises(MediamixError, match="needs at least one reason"):
        registry.update_model("brand", spec_yaml=SPEC_DESCRIBED, same_fit=True,
                              verdict=verdict(newer, Status.TRAINING_ISSUE))
    assert registry.get_model("brand").spec_yaml == SPEC       # a refused edit stores nothing
    assert registry.audit_events("brand", action="run.rejudged") == []


def test_check_scorable_names_the_fix(registry):
    make(registry)
    with pytest.raises(MediamixError, match="has no trained posterior to score; train it first with "
                                            "`mediamix model train brand`"):
        registry.check_scorable("brand")
    run_id = registry.start_run("brand", "train", {})
    registry.finish_run(run_id, Status.TRAINING_ISSUE, reasons=["min bulk ESS 120 < 400"])
    assert registry.check_scorable("brand").id == run_id       # a Training issue posterior can be scored


def test_latest_run_after_a_given_run(registry):
    first = trained(registry)
    assert registry.latest_run("brand", after=first) is None
    second = registry.start_run("brand", "score", {})
    assert registry.latest_run("brand", after=first).id == second
    assert registry.latest_run("brand", "train", after=first) is None
    assert registry.latest_run("brand", after=0).id == second


def test_delete_model_joins_the_callers_transaction(registry):
    make(registry)
    with pytest.raises(RuntimeError), registry.transaction() as session:
        registry.delete_model("brand", session=session)
        raise RuntimeError("the caller's next step failed")
    assert registry.has_model("brand")                         # rolled back with the caller's transaction
    with registry.transaction() as session:
        registry.delete_model("brand", session=session)
    assert not registry.has_model("brand")
