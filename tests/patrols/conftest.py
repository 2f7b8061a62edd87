"""Fixtures for the patrols tests."""

from __future__ import annotations

import pytest
from patrols_cli import run_cli


@pytest.fixture
def cli():
    return run_cli
