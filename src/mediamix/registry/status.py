"""A model's status and the only moves between statuses that the registry allows."""
from __future__ import annotations

from enum import StrEnum

from mediamix.errors import MediamixError


class Status(StrEnum):
    """What a user sees in the Status column; the value is the display string."""

    AWAITING_TRAINING = "Awaiting training"
    IN_PROGRESS = "In progress"
    SUCCESS = "Success"
    TRAINING_ISSUE = "Training issue"
    FAILED = "Failed"

    @property
    def is_finished(self) -> bool:
        """True for the three outcomes a run can end with."""
        return self in FINISHED

    @classmethod
    def parse(cls, value: "Status | str") -> "Status":
        """Accept a Status, its display string or its name, in any case ("training issue",
        "TRAINING_ISSUE"), so the CLI and API can pass what a user typed."""
        if isinstance(value, Status):
            return value
        key = str(value).strip().lower().replace("_", " ")
        for status in cls:
            if status.value.lower() == key:
                return status
        allowed = ", ".join(f"'{s.value}'" for s in cls)
        raise MediamixError(f"unknown status '{value}'; use one of {allowed}")


FINISHED = frozenset({Status.SUCCESS, Status.TRAINING_ISSUE, Status.FAILED})

# A model only changes status through a run: it starts (-> In progress) and ends with an outcome.
# A finished model goes back to In progress when it is retrained or rescored.
ALLOWED_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.AWAITING_TRAINING: frozenset({Status.IN_PROGRESS}),
    Status.IN_PROGRESS: FINISHED,
    Status.SUCCESS: frozenset({Status.IN_PROGRESS}),
    Status.TRAINING_ISSUE: frozenset({Status.IN_PROGRESS}),
    Status.FAILED: frozenset({Status.IN_PROGRESS}),
}


def can_transition(old: Status, new: Status) -> bool:
    return new in ALLOWED_TRANSITIONS[old]


def check_transition(model_name: str, old: Status, new: Status) -> None:
    """Raise a MediamixError naming both statuses when `old -> new` is not allowed."""
    if can_transition(old, new):
        return
    allowed = " or ".join(f"'{s.value}'" for s in sorted(ALLOWED_TRANSITIONS[old]))
    hint = ""
    if old is Status.IN_PROGRESS and new is Status.IN_PROGRESS:
        hint = "; a run is already in progress: wait for it to finish"
    elif new is Status.AWAITING_TRAINING:
        hint = "; a model returns to 'Awaiting training' only when its spec is edited"
    raise MediamixError(
        f"model '{model_name}' cannot go from '{old.value}' to '{new.value}' "
        f"(from '{old.value}' it can only go to {allowed}){hint}"
    )
