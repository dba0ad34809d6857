"""Fixtures shared by the runtime bootstrap tests."""

import pytest

from mock_runtime_api import MockRuntimeApi


@pytest.fixture
def runtime_api():
    """A started MockRuntimeApi on 127.0.0.1, stopped after the test."""
    api = MockRuntimeApi().start()
    try:
        yield api
    finally:
        api.stop()
