"""Shared fixtures: tiny datasets so unit tests train in milliseconds."""

import pytest

import helpers


@pytest.fixture(scope="session")
def blobs():
    """The first source's data: 800 train / 200 test."""
    return helpers.load_blobs()


@pytest.fixture(scope="session")
def small_blobs():
    """A small 3-class problem: 60 train / 40 test."""
    return helpers.load_blobs(n_samples=100, train_size=60)
