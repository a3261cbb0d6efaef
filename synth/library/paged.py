"""Page D (and 6): a voice's waveform edited one 128-sample segment at a time."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from synth import hardware as hw
from synth.voice import Voice, VoiceError


def segment_levels(voice: Voice, segment: int) -> np.ndarray:
    """The signed levels of one segment (0-based), int16 (128,)."""
    if not 0 <= segment < hw.N_SEGMENTS:
        raise VoiceError(f"segment {segment + 1} is outside 1..{hw.N_SEGMENTS}")
    return voice.segments()[segment].copy()


def with_segment(voice: Voice, segment: int, levels: Sequence[int]) -> Voice:
    """A copy of the voice with one segment (0-based) replaced by `levels` (128 whole levels in range)."""
    if not 0 <= segment < hw.N_SEGMENTS:
        raise VoiceError(f"segment {segment + 1} is outside 1..{hw.N_SEGMENTS}")
    a = np.asarray(levels)
    if a.shape != (hw.SEGMENT_SAMPLES,):
        raise VoiceError(f"a segment holds {hw.SEGMENT_SAMPLES} levels, not {a.size}")
    if not (np.issubdtype(a.dtype, np.integer) or np.all(np.mod(a, 1) == 0)):
        raise VoiceError("segment levels must be whole numbers")
    low, high = -(2 ** (voice.bits - 1)), 2 ** (voice.bits - 1) - 1
    if a.min() < low or a.max() > high:
        raise VoiceError(f"segment levels must be {low}..{high}")
    wave = voice.wave.copy().reshape(hw.N_SEGMENTS, hw.SEGMENT_SAMPLES)
    wave[segment] = a.astype(np.int16)
    meta = {k: v for k, v in voice.meta.items() if k not in ("profile", "phases")}  # no longer its profile
    return voice.with_params(wave=wave.reshape(-1), meta=meta)


def segment_peaks(voice: Voice) -> np.ndarray:
    """Per segment the lowest and highest level, int16 (128, 2): the whole voice at a glance (Page 8, D)."""
    seg = voice.segments()
    return np.stack([seg.min(axis=1), seg.max(axis=1)], axis=1)


def _span(first: int, last: int) -> None:
    if not 0 <= first <= last < hw.N_SEGMENTS:
        raise VoiceError(f"segments {first + 1}..{last + 1} are not inside 1..{hw.N_SEGMENTS}, in order")


def _clipped(voice: Voice, levels: np.ndarray) -> np.ndarray:
    low, high = -(2 ** (voice.bits - 1)), 2 ** (voice.bits - 1) - 1
    return np.clip(np.round(levels), low, high).astype(np.int16)


def gain_segments(voice: Voice, first: int, last: int, gain: float) -> Voice:
    """Page D's GAIN: segments first..last (0-based, inclusive) scaled by `gain`, clipped to the card's range."""
    _span(first, last)
    if not np.isfinite(gain) or not 0 <= gain <= 16:
        raise VoiceError(f"gain must be 0..16, not {gain}")
    wave = voice.wave.copy().reshape(hw.N_SEGMENTS, hw.SEGMENT_SAMPLES)
    wave[first:last + 1] = _clipped(voice, wave[first:last + 1].astype(np.float64) * gain)
    return voice.with_params(wave=wave.reshape(-1))


def merge_segments(voice: Voice, first: int, last: int) -> Voice:
    """Page D's MERGE: the segments strictly between first and last become a linear crossfade from
    segment `first` to segment `last`, so the timbre moves smoothly from one to the other."""
    _span(first, last)
    wave = voice.wave.copy().reshape(hw.N_SEGMENTS, hw.SEGMENT_SAMPLES)
    a, b = wave[first].astype(np.float64), wave[last].astype(np.float64)
    n = last - first
    for k in range(1, n):
        wave[first + k] = _clipped(voice, a + (b - a) * (k / n))
    return voice.with_params(wave=wave.reshape(-1))
