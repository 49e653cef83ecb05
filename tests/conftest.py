"""Shared fixtures. Public data sets live in ../shared beside the project; tests that need them
skip (with a reason) only when that folder is absent, as in a user's clone."""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _find_shared(sub: str) -> Path | None:
    for base in (ROOT.parent / "shared", ROOT.parent.parent / "shared"):
        if (base / sub).is_dir():
            return base / sub
    return None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = _find_shared("data")
    if path is None:
        pytest.skip("../shared/data is not present (a user's clone)")
    return path


@pytest.fixture(scope="session")
def shared_cases() -> Path:
    path = _find_shared("cases")
    if path is None:
        pytest.skip("../shared/cases is not present (a user's clone)")
    return path
