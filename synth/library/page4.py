"""Page 4 timbres: harmonic profiles turned into the 32 single cycles of a Mode 1 voice."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from synth import hardware as hw
from synth.voice import Voice, quantise, single_cycle_voice

# Page 4 draws 32 harmonics for each of the 32 Mode 1 segments (Fairlight Explained).
N_HARMONICS = 32
N_SEGMENTS = hw.MODE1_SEGMENTS
# Harmonic 64 of a 128-sample cycle sits on its Nyquist frequency (it samples as 0 in sine phase),
# so 63 is the highest harmonic a cycle can hold.
MAX_HARMONIC = hw.SEGMENT_SAMPLES // 2 - 1
# The largest positive 8-bit level is 127 of 128; scaling the peak there keeps the negative side
# (which reaches -127) inside the range too, so normalised cycles never clip.
FULL_SCALE = (2**7 - 1) / 2**7


class Page4Error(ValueError):
    """A harmonic profile that cannot become single cycles."""


def _as_profile(profile: np.ndarray) -> np.ndarray:
    a = np.asarray(profile, dtype=np.float64)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 1:
        raise Page4Error(f"a harmonic profile is (segments, harmonics), not shape {np.shape(profile)}")
    if a.shape[1] > MAX_HARMONIC:
        raise Page4Error(
            f"harmonic {a.shape[1]} does not fit a {hw.SEGMENT_SAMPLES}-sample cycle (at most {MAX_HARMONIC})"
        )
    if not np.all(np.isfinite(a)):
        raise Page4Error("a harmonic profile must hold finite amplitudes")
    return a


def harmonic_cycles(
    profile: np.ndarray, phases: np.ndarray | None = None, full_scale: float = FULL_SCALE
) -> np.ndarray:
    """Single cycles (n_segments, 128) from harmonic amplitudes (n_segments, n_harmonics).

    Column h - 1 is the amplitude of harmonic h, drawn as a sine starting at phase 0 (plus
    `phases`, radians, per harmonic or per segment and harmonic). All segments share one scale,
    chosen so the loudest sample of the loudest segment reaches `full_scale`: quieter segments
    stay quieter, which is how a Page 4 timbre fades and changes colour in time. A sum of whole
    harmonics has no DC; with phases 0 (or pi) every cycle starts at level 0.
    """
    a = _as_profile(profile)
    n_harmonics = a.shape[1]
    if phases is None:
        ph = np.zeros_like(a)
    else:
        try:
            ph = np.broadcast_to(np.asarray(phases, dtype=np.float64), a.shape)
        except ValueError:
            raise Page4Error(f"phases of shape {np.shape(phases)} do not match profile {a.shape}") from None
    h = np.arange(1, n_harmonics + 1)
    n = np.arange(hw.SEGMENT_SAMPLES)
    basis = np.exp(2j * np.pi * np.outer(h, n) / hw.SEGMENT_SAMPLES)  # (harmonics, samples)
    cycles = ((a * np.exp(1j * ph)) @ basis).imag
    peak = np.max(np.abs(cycles))
    if peak == 0.0:
        raise Page4Error("a harmonic profile that is silent in every segment cannot be normalised")
    return cycles * (full_scale / peak)


def quantised_cycles(profile: np.ndarray, phases: np.ndarray | None = None, bits: int = 8) -> np.ndarray:
    """The cycles of harmonic_cycles as the wave RAM stores them: signed integer levels."""
    return quantise(harmonic_cycles(profile, phases), bits)


def cycle_harmonics(cycle: np.ndarray) -> np.ndarray:
    """Amplitudes of harmonics 1..63 of one 128-sample cycle, in the cycle's own units.

    The inverse of harmonic_cycles for a single segment: a sine of peak A at harmonic h gives A
    at index h - 1.
    """
    x = np.asarray(cycle, dtype=np.float64)
    if x.shape[-1] != hw.SEGMENT_SAMPLES:
        raise Page4Error(f"a cycle holds {hw.SEGMENT_SAMPLES} samples, not {x.shape[-1]}")
    spectrum = np.fft.rfft(x, axis=-1)
    return np.abs(spectrum[..., 1 : MAX_HARMONIC + 1]) * (2.0 / hw.SEGMENT_SAMPLES)


def interpolate_profiles(
    keyframes: Mapping[int, Sequence[float]], n_segments: int = N_SEGMENTS, n_harmonics: int | None = None
) -> np.ndarray:
    """A profile (n_segments, n_harmonics) through keyframe spectra {segment: amplitudes}.

    Amplitudes move linearly between keyframes and hold before the first and after the last,
    as Page 4 fills the segments between the ones drawn. Shorter keyframe spectra are padded
    with silent harmonics.
    """
    if not keyframes:
        raise Page4Error("interpolate_profiles needs at least one keyframe")
    segments = sorted(keyframes)
    for s in segments:
        if not 0 <= s < n_segments:
            raise Page4Error(f"keyframe segment {s} outside 0..{n_segments - 1}")
    width = n_harmonics if n_harmonics is not None else max(len(keyframes[s]) for s in segments)
    if not 1 <= width <= MAX_HARMONIC:
        raise Page4Error(f"{width} harmonics do not fit a {hw.SEGMENT_SAMPLES}-sample cycle")
    frames = np.zeros((len(segments), width))
    for i, s in enumerate(segments):
        row = np.asarray(keyframes[s], dtype=np.float64)[:width]
        frames[i, : len(row)] = row
    at = np.arange(n_segments)
    return np.stack([np.interp(at, segments, frames[:, k]) for k in range(width)], axis=1)


def decaying_profile(
    spectrum: Sequence[float], decay_db_per_segment: Sequence[float] | float, n_segments: int = N_SEGMENTS
) -> np.ndarray:
    """A profile whose harmonics each fade at their own rate (dB per segment) from `spectrum`.

    Higher harmonics fading faster is the darkening of a struck or plucked string.
    """
    a = np.asarray(spectrum, dtype=np.float64)
    d = np.broadcast_to(np.asarray(decay_db_per_segment, dtype=np.float64), a.shape)
    s = np.arange(n_segments)[:, None]
    return a[None, :] * 10.0 ** (-d[None, :] * s / 20.0)


def profile_voice(name: str, profile: np.ndarray, phases: np.ndarray | None = None, **params) -> Voice:
    """A Mode 1 voice from a harmonic profile of up to 32 segments; Page 7 parameters as keywords.

    The profile (and phases) go into the voice's `meta` so that its cycles can be checked
    against it later.
    """
    a = _as_profile(profile)
    if a.shape[0] > N_SEGMENTS:
        raise Page4Error(f"voice {name!r}: Mode 1 holds {N_SEGMENTS} segments, not {a.shape[0]}")
    cycles = harmonic_cycles(a, phases)
    meta = dict(params.pop("meta", {}))
    stored = a.copy()
    stored.setflags(write=False)
    meta["profile"] = stored
    if phases is not None:
        meta["phases"] = np.broadcast_to(np.asarray(phases, dtype=np.float64), a.shape).copy()
    params.setdefault("source", "page4 harmonic profile")
    return single_cycle_voice(name, cycles, meta=meta, **params)


def apply_volume_profile(profile: np.ndarray, volume: Sequence[float]) -> np.ndarray:
    """Page 4's volume profile: each segment's harmonics scaled by its level (0..1), one level a segment.

    harmonic_cycles keeps the segments' levels relative to each other, so a segment at 0.5 plays
    6 dB below one at 1.0.
    """
    a = _as_profile(profile)
    v = np.asarray(volume, dtype=np.float64)
    if v.shape != (a.shape[0],):
        raise Page4Error(f"a volume profile has one level for each of the {a.shape[0]} segments, not {v.size}")
    if not np.all(np.isfinite(v)) or v.min() < 0 or v.max() > 1:
        raise Page4Error("volume levels must be 0..1")
    return a * v[:, None]
