"""Shared fixtures: tiny datasets so unit tests train in milliseconds."""

import importlib.util
from pathlib import Path

import pytest

import helpers

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def blobs():
    """The data of bnomial's blog post "The wrong batch size is all it takes": 800 train / 200 test."""
    return helpers.load_blobs()


@pytest.fixture(scope="session")
def small_blobs():
    """A small 3-class problem: 60 train / 30 validation / 40 test."""
    return helpers.load_blobs(n_samples=100, train_size=60, validation_size=30)


@pytest.fixture(scope="session")
def load_tool():
    """Import a script of tools/ (not a package) by name, e.g. ``load_tool("badges")``."""
    def load(name):
        spec = importlib.util.spec_from_file_location(f"tools_{name}", ROOT / "tools" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    return load
