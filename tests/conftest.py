"""Make the policy pack's package importable the way `pulumi preview --policy-pack policy` sees it, and
give every test the one harness (tests/support/runs.py)."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "policy"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

# assertions inside the shared helpers report their values like those in test modules
pytest.register_assert_rewrite("tests.support")

from tests.support.runs import Runs  # noqa: E402 - needs the paths above


@pytest.fixture(scope="session")
def runs() -> Runs:
    return Runs()
