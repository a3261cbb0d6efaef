"""Page 8 helpers for sampling a sound into wave RAM: its pitch, a loop on segment boundaries, a fitting rate."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy.signal import resample_poly

from synth import hardware as hw
from synth.library.capture import seam_costs
from synth.units import hz_to_midi

SEG = hw.SEGMENT_SAMPLES

# --- pitch ---------------------------------------------------------------------------------------
# The detector is YIN (de Cheveigne and Kawahara, 2002): the squared difference of the signal and
# itself delayed, normalised by its running mean, whose first dip under a threshold is the period.
PITCH_LOW_HZ = 27.5  # A0, the piano's lowest note
PITCH_HIGH_HZ = 4186.0  # C8, its highest
YIN_THRESHOLD = 0.15  # YIN's paper uses 0.1-0.15
# A frame whose best dip is still above this is not periodic enough to name a pitch (a choice).
MIN_CLARITY = 0.6
MAX_FRAMES = 24  # frames analysed at most, spread over the steady part


@dataclass(frozen=True)
class Pitch:
    """A detected pitch: its frequency, the nearest MIDI note and how far from it, in cents."""

    freq_hz: float
    note: int
    cents: float
    clarity: float  # 1 - the normalised difference at the period: 1.0 for a pure periodic signal


def _difference(frame: np.ndarray, n_lags: int) -> np.ndarray:
    """YIN's d(tau) for tau 0..n_lags-1 over the first len(frame) - n_lags samples of frame."""
    w = len(frame) - n_lags
    head = frame[:w]
    energy = np.concatenate([[0.0], np.cumsum(frame * frame)])
    # sum_j x[j] x[j + tau] for j < w, by FFT
    size = 1 << (len(frame) + w).bit_length()
    cross = np.fft.irfft(np.fft.rfft(frame, size) * np.conj(np.fft.rfft(head, size)), size)[:n_lags]
    tau = np.arange(n_lags)
    return energy[w] + (energy[tau + w] - energy[tau]) - 2.0 * cross


def _dip(values: np.ndarray, i: int) -> float:
    """The position of the minimum near index i, by a parabola through i-1, i, i+1."""
    if i < 1 or i + 1 >= len(values):
        return float(i)
    a, b, c = values[i - 1], values[i], values[i + 1]
    denom = a - 2.0 * b + c
    return i + 0.5 * (a - c) / denom if denom > 0 else float(i)


def _frame_period(frame: np.ndarray, min_lag: int, n_lags: int) -> tuple[float, float] | None:
    """(period in samples, clarity) of one frame, or None when it has no clear period."""
    d = _difference(frame, n_lags)
    cmnd = np.ones_like(d)
    running = np.cumsum(d[1:])
    with np.errstate(divide="ignore", invalid="ignore"):
        cmnd[1:] = d[1:] * np.arange(1, n_lags) / running
    cmnd = np.nan_to_num(cmnd, nan=1.0, posinf=1.0)
    below = np.flatnonzero(cmnd[min_lag:] < YIN_THRESHOLD)
    if below.size:
        i = min_lag + int(below[0])
        while i + 1 < n_lags and cmnd[i + 1] < cmnd[i]:
            i += 1
    else:
        i = min_lag + int(np.argmin(cmnd[min_lag:]))
    clarity = 1.0 - float(cmnd[i])
    if clarity < MIN_CLARITY:
        return None
    period = _dip(d, i)
    # The same dip recurs at every multiple of the period; measuring at the furthest one inside
    # the frame divides the interpolation's error by that multiple.
    m = int((n_lags - 2) // period)
    if m > 1:
        j = int(round(m * period))
        lo, hi = max(j - 2, 1), min(j + 3, n_lags - 1)
        k = lo + int(np.argmin(d[lo:hi]))
        period = _dip(d, k) / m
    return period, clarity


# The attack is over at the first frame reaching this part of the loudest one's level (a choice:
# the loudest frame itself could be anywhere in a steady tone).
ATTACK_LEVEL = 0.9


def _attack_end(rms: np.ndarray) -> int:
    return int(np.argmax(rms >= ATTACK_LEVEL * rms.max()))


def steady_start(x: np.ndarray, frame_samples: int) -> int:
    """Where the attack is over, in samples (frames of frame_samples, see ATTACK_LEVEL)."""
    n = len(x) // frame_samples
    if n < 2:
        return 0
    rms = np.sqrt(np.mean(x[: n * frame_samples].reshape(n, frame_samples) ** 2, axis=1))
    return _attack_end(rms) * frame_samples


def detect_pitch(x: np.ndarray, rate_hz: float, low_hz: float = PITCH_LOW_HZ,
                 high_hz: float = PITCH_HIGH_HZ) -> Pitch | None:
    """The pitch of a sound's steady part (after its attack), or None if it has none.

    Frames with a clear period each give one; the answer is their median, so a few bad frames
    (a noisy attack, the fade at the end) do not move it.
    """
    x = np.asarray(x, dtype=np.float64)
    max_lag = int(math.ceil(rate_hz / low_hz)) + 2
    min_lag = max(2, int(rate_hz / high_hz))
    window = 1 << max(2 * max_lag - 1, 1).bit_length()  # at least two periods of the lowest pitch
    if len(x) < 2 * window:
        window = len(x) // 2
        max_lag = min(max_lag, window)
    if max_lag <= min_lag + 2:
        return None
    frame_samples = window + max_lag
    start = steady_start(x, frame_samples)
    peak = np.max(np.abs(x)) if len(x) else 0.0
    if peak == 0.0:
        return None
    starts = range(start, len(x) - frame_samples + 1, max(1, window // 2))
    if len(starts) > MAX_FRAMES:
        starts = starts[:: math.ceil(len(starts) / MAX_FRAMES)]
    found = []
    for s in starts:
        frame = x[s : s + frame_samples]
        if np.max(np.abs(frame)) < 0.05 * peak:  # the fade-out; quiet frames only add noise
            continue
        result = _frame_period(frame, min_lag, max_lag)
        if result is not None:
            found.append(result)
    if not found:
        return None
    periods = np.array([p for p, _ in found])
    period = float(np.median(periods))
    freq_hz = rate_hz / period
    midi = hz_to_midi(freq_hz)
    note = int(round(midi))
    if not 0 <= note <= 127:
        return None
    return Pitch(freq_hz, note, 100.0 * (midi - note), float(np.median([c for _, c in found])))


# --- loops ---------------------------------------------------------------------------------------
# How well a loop joins is the library's seam cost (synth.library.capture.seam_costs): the step,
# the kink and the difference of the waveforms leading into the jump, in LSB^2. What differs for
# a user's recording is which loops are candidates and which of the good ones wins.

# Segments quieter than this part of the loudest are not used for a loop (a fade-out, a tail).
LOOP_MIN_LEVEL = 0.3
MIN_LOOP_SEGMENTS = 2
# Seams costing at most this much more than the best one (a quarter more, plus 2 LSB^2 for seams
# so good that only 8-bit rounding is left) count as equally good, and the longest loop among
# them wins: a long loop repeats less audibly than a short one with a marginally better seam.
LOOP_TOLERANCE = 0.25
LOOP_SLACK_LSB2 = 2.0


@dataclass(frozen=True)
class Loop:
    """A loop on whole segments, inclusive, and the seam cost of its join (0 = seamless)."""

    start_segment: int
    end_segment: int
    seam_cost: float  # LSB^2 of the voice's levels, see synth.library.capture.seam_costs

    @property
    def n_segments(self) -> int:
        return self.end_segment - self.start_segment + 1


def find_loop(levels: np.ndarray, n_used: int) -> Loop | None:
    """The loop start and end segments of a Mode 4 RAM image where the data join best.

    Candidates start after the attack (see ATTACK_LEVEL), use only segments at least
    LOOP_MIN_LEVEL as loud as the loudest, lie wholly inside the first n_used samples and span
    MIN_LOOP_SEGMENTS or more. None when no loop fits.
    """
    x = np.asarray(levels, dtype=np.float64)
    n_full = min(int(n_used), len(x)) // SEG
    if n_full < MIN_LOOP_SEGMENTS + 1:
        return None
    rms = np.sqrt(np.mean(x[: n_full * SEG].reshape(n_full, SEG) ** 2, axis=1))
    if rms.max() == 0.0:
        return None
    loud = rms >= LOOP_MIN_LEVEL * rms.max()
    first = max(_attack_end(rms), 1)  # the seam cost looks back from the loop start
    segments = np.arange(n_full)
    start, end = np.meshgrid(segments, segments, indexing="ij")  # [i, j]: loop from segment i to j
    valid = (start >= first) & loud[start] & loud[end] & (end - start + 1 >= MIN_LOOP_SEGMENTS)
    if not valid.any():
        return None
    s, e = start[valid], end[valid]
    cost = seam_costs(x, s * SEG, (e + 1) * SEG)
    good = cost <= cost.min() * (1.0 + LOOP_TOLERANCE) + LOOP_SLACK_LSB2
    length = np.where(good, e - s, -1)
    best = int(np.argmax(length))  # the longest good loop; among equals the earliest start
    return Loop(int(s[best]), int(e[best]), float(cost[best]))


# --- fitting a long sound --------------------------------------------------------------------------
# A sound too long for the RAM at the asked rate is recorded at a lower one, rounded down to a
# whole 100 Hz (a choice: it keeps the resampling ratio simple and the rate easy to read).
FIT_RATE_STEP_HZ = 100
# The lowest clock a card can run at (octave 0, pitch word 0, master tune 0): a sound recorded
# slower than this could not even be played at its own pitch.
MIN_RATE_HZ = hw.card_clock_hz(0, 0, 0)


def fitting_rate_hz(n_frames: int, rate_hz: float, n_samples: int = hw.WAVE_RAM_SAMPLES) -> int:
    """The highest recording rate (a multiple of 100 Hz) at which n_frames at rate_hz fit n_samples."""
    return int(rate_hz * n_samples / n_frames) // FIT_RATE_STEP_HZ * FIT_RATE_STEP_HZ


def resample(x: np.ndarray, from_hz: float, to_hz: float) -> np.ndarray:
    """x at from_hz as it would be recorded at to_hz (polyphase, anti-aliased); a copy if equal."""
    x = np.asarray(x, dtype=np.float64)
    if from_hz == to_hz:
        return x.copy()

    ratio = Fraction(to_hz).limit_denominator(1_000_000) / Fraction(from_hz).limit_denominator(1_000_000)
    ratio = ratio.limit_denominator(10_000)
    return resample_poly(x, ratio.numerator, ratio.denominator)
