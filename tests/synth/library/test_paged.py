"""Page D: one segment of a voice replaced, checked against the card's levels."""

from __future__ import annotations

import numpy as np
import pytest

from synth.library import paged
from synth.library.builtin import builtin_voices
from synth.voice import VoiceError


def test_with_segment_replaces_that_segment_and_nothing_else():
    v = builtin_voices()["sine"]
    levels = np.arange(-64, 64)
    w = paged.with_segment(v, 5, levels)
    assert np.array_equal(w.segments()[5], levels)
    others = np.delete(np.arange(128), 5)
    assert np.array_equal(w.segments()[others], v.segments()[others])
    assert "profile" not in w.meta  # the drawn segment is no longer the profile's
    assert np.array_equal(paged.segment_levels(w, 5), levels)


@pytest.mark.parametrize(("segment", "levels", "message"), [
    (0, [128] * 128, "-128..127"),
    (0, [-129] * 128, "-128..127"),
    (0, [0] * 127, "128 levels"),
    (0, [0.5] * 128, "whole numbers"),
    (128, [0] * 128, "segment 129 is outside 1..128"),
])
def test_with_segment_refuses_levels_the_card_cannot_hold(segment, levels, message):
    with pytest.raises(VoiceError, match=message):
        paged.with_segment(builtin_voices()["sine"], segment, levels)


def test_segment_peaks_are_each_segments_lowest_and_highest_level():
    v = builtin_voices()["sine"]
    peaks = paged.segment_peaks(v)
    assert peaks.shape == (128, 2)
    assert peaks[0, 0] == v.segments()[0].min() and peaks[0, 1] == v.segments()[0].max()


def test_gain_scales_a_span_of_segments_and_clips_to_the_card():
    v = builtin_voices()["sine"]
    w = paged.gain_segments(v, 2, 3, 0.5)
    assert np.array_equal(w.segments()[2], np.round(v.segments()[2] * 0.5).astype(np.int16))
    assert np.array_equal(w.segments()[4], v.segments()[4])
    loud = paged.gain_segments(v, 0, 0, 4.0)
    assert loud.segments()[0].max() == 127 and loud.segments()[0].min() == -128


def test_merge_crossfades_the_segments_between_two():
    v = paged.with_segment(builtin_voices()["sine"], 0, [100] * 128)
    v = paged.with_segment(v, 4, [-100] * 128)
    w = paged.merge_segments(v, 0, 4)
    assert [int(w.segments()[k][0]) for k in range(5)] == [100, 50, 0, -50, -100]
    with pytest.raises(VoiceError, match="in order"):
        paged.merge_segments(v, 4, 0)
