"""Shared fixtures of the score tests: the three scores, the two sample files, and their arrangements, each
made once per test session."""

from functools import cache

import pytest

from scores import build_score
from scores.samples import SAMPLES
from scores.score import from_midi
from scores.styles import apply_style

PIECES = ("sonnerie", "trionfo", "laurel", "chorale", "piano")


@cache
def source(piece: str):
    """A score by name, or a sample file read as a score."""
    return from_midi(SAMPLES[piece]()) if piece in SAMPLES else build_score(piece)


@cache
def arranged(piece: str, style: str, seed: int = 0):
    return apply_style(source(piece), style, seed=seed)


@pytest.fixture
def arrange_piece():
    return arranged


@pytest.fixture
def source_piece():
    return source
