import itertools

import pytest

from mediamix.errors import MediamixError
from mediamix.registry import Status, can_transition, check_transition

S = Status
# The allowed moves, written out by hand from the product requirements.
LEGAL = {
    (S.AWAITING_TRAINING, S.IN_PROGRESS),
    (S.IN_PROGRESS, S.SUCCESS),
    (S.IN_PROGRESS, S.TRAINING_ISSUE),
    (S.IN_PROGRESS, S.FAILED),
    (S.SUCCESS, S.IN_PROGRESS),
    (S.TRAINING_ISSUE, S.IN_PROGRESS),
    (S.FAILED, S.IN_PROGRESS),
}
ALL_PAIRS = list(itertools.product(list(Status), repeat=2))


def test_display_strings_are_exact():
    assert [s.value for s in Status] == [
        "Awaiting training", "In progress", "Success", "Training issue", "Failed",
    ]
    assert str(Status.TRAINING_ISSUE) == "Training issue"
    assert f"{Status.IN_PROGRESS}" == "In progress"


@pytest.mark.parametrize("old,new", ALL_PAIRS, ids=[f"{a.name}->{b.name}" for a, b in ALL_PAIRS])
def test_every_pair_of_statuses(old, new):
    assert can_transition(old, new) == ((old, new) in LEGAL)
    if (old, new) in LEGAL:
        check_transition("brand", old, new)
    else:
        with pytest.raises(MediamixError) as info:
            check_transition("brand", old, new)
        message = str(info.value)
        assert "'brand'" in message and f"'{old.value}'" in message and f"'{new.value}'" in message


def test_double_start_says_a_run_is_in_progress():
    with pytest.raises(MediamixError, match="already in progress"):
        check_transition("brand", S.IN_PROGRESS, S.IN_PROGRESS)


@pytest.mark.parametrize(
    "text,expected",
    [("Success", S.SUCCESS), ("training issue", S.TRAINING_ISSUE), ("TRAINING_ISSUE", S.TRAINING_ISSUE),
     ("in progress", S.IN_PROGRESS), (S.FAILED, S.FAILED), (" Awaiting Training ", S.AWAITING_TRAINING)],
)
def test_parse_accepts_display_strings_and_names(text, expected):
    assert Status.parse(text) is expected


def test_parse_unknown_lists_the_statuses():
    with pytest.raises(MediamixError, match="unknown status 'done'.*'Training issue'"):
        Status.parse("done")
