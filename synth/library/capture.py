"""Capturing a modelled sound the CMI way: resampled, 8-bit, fitted to the wave RAM, looped on segments.

A Mode 4 voice was a recording made through the sampling card: the sound was filtered and
sampled at the recording rate, stored as 8-bit levels in the 16,384-byte voice RAM, and a loop
was set by hand on whole 128-sample segments where the data matched. `capture` does the same to
a float signal made by synth.library.recipes, in a fixed order:

    resample to the recording rate (polyphase, scipy.signal.resample_poly)
    -> block DC (one-pole high-pass, causal, so the first sample stays where it is)
    -> fade in, cut to the target length, fade the tail of unlooped sounds to 0 (and take out
       their DC)
    -> normalise the peak to the top 8-bit level -> quantise
    -> choose the loop on the quantised levels (integers: the choice cannot depend on float rounding)
    -> optionally blend the loop's end into what leads to its start (a prepared crossfade)
    -> centre the loop on 0 (a DC offset in the loop would sound for as long as the key is held)

The loop criterion is the *seam cost* (see `seam_costs`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy import signal as sps

from synth import hardware as hw
from synth.voice import quantise

SEG = hw.SEGMENT_SAMPLES
# The peak of every capture: 127 of 128, the largest positive 8-bit level, so nothing clips on
# either side (the negative side then reaches -127).
FULL_SCALE = (2**7 - 1) / 2**7
# Corner of the DC-blocking high-pass: far below any note the library plays (the lowest, a
# bass drum near 40 Hz, loses less than 0.2 dB), high enough that the offset of a one-sided
# decay (a sine struck from phase 0) dies within the sample. A choice.
DC_BLOCK_HZ = 8.0
# Samples before the loop point that the seam cost compares (see seam_costs): a quarter of a
# segment, about one period of a note near 1 kHz at 30.2 kHz. A choice.
SEAM_WINDOW = 32
# The resampler's pass band (a fraction of the lower Nyquist frequency) and stop band depth: an
# 8-bit capture has about 50 dB of signal to noise, so 80 dB leaves any image far below its floor.
RESAMPLE_PASS = 0.9
RESAMPLE_STOP_DB = 80.0
# Resampling ratios are reduced to a fraction with at most this denominator (48,000 -> 30,200 Hz
# is exactly 151/240).
MAX_RATIO_DENOMINATOR = 1000


class CaptureError(ValueError):
    """Capture settings that cannot be met (a loop that does not fit, an empty signal)."""


@dataclass(frozen=True)
class CaptureSettings:
    """How a sound is captured. Times are seconds at the recording rate; loops are segments.

    loop: "none", "auto" (searched between loop_from_s and the end of the sound, at least
    loop_min_s long) or (start_segment, end_segment) fixed. level_loop: hold the level of a
    decaying sound steady from loop_from_s on (see `level_from`), so the loop's ends match in
    level and the Page 7 envelope does the decaying. loop_crossfade_s: after the loop is chosen,
    blend the end of the loop into the sound that leads up to its start (see `crossfade_loop`).
    length_s: how much of the RAM the sound uses (at most 16,384 samples); the rest is silence.
    """

    recording_rate_hz: float = 30_200.0
    bits: int = 8
    length_s: float | None = None
    loop: str | tuple[int, int] = "none"
    loop_from_s: float = 0.1
    loop_min_s: float = 0.1
    level_loop: bool = False
    loop_crossfade_s: float = 0.0
    fade_in_s: float = 0.0016
    fade_out_s: float = 0.1


@dataclass(frozen=True)
class Capture:
    """A captured sound: wave RAM levels and the loop chosen for them (segments, inclusive)."""

    wave: np.ndarray
    loop_start_segment: int | None
    loop_end_segment: int | None
    seam_cost: float | None
    n_used: int


def quantise_zero_sum(y: np.ndarray, bits: int = 8) -> np.ndarray:
    """Round to integer levels so that the levels sum to exactly 0 when the floats sum to about 0.

    Plain rounding leaves each block with a mean of up to half a level: a DC offset that, in a
    quiet cycle or a loop played for as long as a key is held, can stand 50 dB below the sound
    instead of far below it. The samples whose rounding was closest to a tie are rounded the
    other way, one level each, until the sum is 0 (index order breaks ties, so it is deterministic).
    """
    full = 2 ** (bits - 1)
    scaled = np.asarray(y, dtype=np.float64) * full
    q = np.clip(np.round(scaled), -full, full - 1)
    excess = int(round(float(q.sum())))
    if excess != 0 and abs(float(scaled.sum())) < 0.5 * abs(excess):
        step = -1 if excess > 0 else 1
        # How close each sample came to rounding the other way (0.5 = a tie).
        closeness = (q - scaled) * -step
        allowed = (q + step >= -full) & (q + step <= full - 1)
        order = np.lexsort((np.arange(q.size), -np.where(allowed, closeness, -np.inf)))
        q[order[: abs(excess)]] += step
    return q.astype(np.int16)


def resample(x: np.ndarray, from_rate_hz: float, to_rate_hz: float) -> np.ndarray:
    """x at to_rate_hz, through a polyphase low-pass (scipy.signal.resample_poly with our own filter).

    The filter passes up to 90% of the lower Nyquist frequency (13.6 kHz for 30.2 kHz) and stops
    RESAMPLE_STOP_DB below from the Nyquist frequency on, so nothing folds back: the anti-alias
    filter in front of the sampling card's converter, done digitally.
    """
    ratio = Fraction(to_rate_hz / from_rate_hz).limit_denominator(MAX_RATIO_DENOMINATOR)
    if ratio == 1:
        return np.asarray(x, dtype=np.float64).copy()
    if abs(float(ratio) * from_rate_hz - to_rate_hz) > 1e-6 * to_rate_hz:
        raise CaptureError(f"cannot resample {from_rate_hz} Hz to {to_rate_hz} Hz by a small ratio")
    up, down = ratio.numerator, ratio.denominator
    fs_up = from_rate_hz * up
    nyquist_hz = 0.5 * min(from_rate_hz, to_rate_hz)
    pass_hz = RESAMPLE_PASS * nyquist_hz
    n_taps, beta = sps.kaiserord(RESAMPLE_STOP_DB, (nyquist_hz - pass_hz) / (0.5 * fs_up))
    n_taps |= 1  # odd: a whole-sample delay, which resample_poly takes out
    # resample_poly scales the taps by `up` itself, for the zeros it stuffs between samples.
    taps = sps.firwin(n_taps, 0.5 * (pass_hz + nyquist_hz), window=("kaiser", beta), fs=fs_up)
    return sps.resample_poly(np.asarray(x, dtype=np.float64), up, down, window=taps)


def block_dc(x: np.ndarray, rate_hz: float, corner_hz: float = DC_BLOCK_HZ) -> np.ndarray:
    """One-pole, one-zero high-pass: y[n] = x[n] - x[n-1] + r y[n-1]; starts from rest."""
    r = math.exp(-2.0 * math.pi * corner_hz / rate_hz)
    return sps.lfilter([1.0, -1.0], [1.0, -r], np.asarray(x, dtype=np.float64))


def raised_cosine(n: int) -> np.ndarray:
    """A fade from 0 to 1 over n samples, 0 at -1/2 and 1 at n - 1/2 (no sample is exactly 0)."""
    return 0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)


def seam_costs(levels: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The seam cost of looping levels[s:e] for each pair (s, e) of sample indices, in LSB^2.

    Playing the loop, levels[s] follows levels[e-1] instead of its own predecessor levels[s-1].
    The seam is perfect when the samples played before the jump are the ones that naturally lead
    into levels[s]; the cost measures how far they are from that, as the sum of three squares:
      jump:  levels[e-1] - levels[s-1], the step the ear hears at the seam;
      slope: (levels[e-1] - levels[e-2]) - (levels[s-1] - levels[s-2]), the kink there;
      shape: the mean squared difference of the SEAM_WINDOW samples before the loop end and
             those before the loop start, so the waveform (its phase and level, not just two
             samples) carries on across the jump.
    A loop over whole periods of a periodic signal costs 0. On integer levels every term is exact
    in float64, so the same data always choose the same loop.
    """
    x = np.asarray(levels, dtype=np.float64)
    s = np.asarray(starts)
    e = np.asarray(ends)
    jump = x[e - 1] - x[s - 1]
    slope = (x[e - 1] - x[e - 2]) - (x[s - 1] - x[s - 2])
    k = np.arange(1, SEAM_WINDOW + 1)
    shape = np.mean((x[e[..., None] - k] - x[s[..., None] - k]) ** 2, axis=-1)
    return jump**2 + slope**2 + shape


def choose_loop(
    levels: np.ndarray, first_segment: int, n_segments: int, min_segments: int
) -> tuple[int, int, float]:
    """(start segment, end segment, seam cost) of the loop with the lowest seam cost.

    The loop starts at or after first_segment, ends inside the first n_segments and spans at
    least min_segments. Ties go to the longer loop, then the earlier start.
    """
    first = max(first_segment, 1)  # the cost looks back from the loop start
    pairs = [(s, e) for s in range(first, n_segments) for e in range(s + min_segments - 1, n_segments)]
    if not pairs:
        raise CaptureError(
            f"no loop of {min_segments} segments fits between segment {first} and segment {n_segments - 1}"
        )
    s_seg = np.array([p[0] for p in pairs])
    e_seg = np.array([p[1] for p in pairs])
    cost = seam_costs(levels, s_seg * SEG, (e_seg + 1) * SEG)
    order = np.lexsort((s_seg, -(e_seg - s_seg), cost))
    best = order[0]
    return int(s_seg[best]), int(e_seg[best]), float(cost[best])


def capture(x: np.ndarray, source_rate_hz: float, settings: CaptureSettings) -> Capture:
    """The wave RAM image (int16 levels, 16,384 of them) of a sound, as the sampling card stored it."""
    rate = settings.recording_rate_hz
    y = block_dc(resample(x, source_rate_hz, rate), rate)
    n_used = hw.WAVE_RAM_SAMPLES if settings.length_s is None else int(round(settings.length_s * rate))
    n_used = min(n_used, hw.WAVE_RAM_SAMPLES, y.size)
    if n_used < 2 * SEG:
        raise CaptureError(f"a sound of {n_used} samples is too short to capture")
    y = y[:n_used].copy()
    n_in = max(1, int(round(settings.fade_in_s * rate)))
    y[:n_in] *= raised_cosine(n_in)
    looped = settings.loop != "none"
    if looped and settings.level_loop:
        y = level_from(y, int(round(settings.loop_from_s * rate)))
    if looped:
        # A loop plays whole segments: the used part ends on a segment boundary.
        n_used -= n_used % SEG
        y = y[:n_used]
    else:
        n_out = max(1, int(round(settings.fade_out_s * rate)))
        y[-n_out:] *= raised_cosine(n_out)[::-1]
    if not looped:
        # What the DC blocker leaves (a one-sided decay leans a little) goes out as a bump that is
        # 0 at both ends: a sub-audio shape that adds no step.
        bump = np.sin(np.pi * np.arange(y.size) / y.size) ** 2
        y -= bump * (y.sum() / bump.sum())
    peak = np.max(np.abs(y))
    if peak == 0.0:
        raise CaptureError("a silent sound cannot be captured")
    y *= FULL_SCALE / peak
    levels = quantise(y, settings.bits) if looped else quantise_zero_sum(y, settings.bits)
    loop_start = loop_end = None
    cost = None
    if looped:
        n_seg = n_used // SEG
        if settings.loop == "auto":
            first = int(math.ceil(settings.loop_from_s * rate / SEG))
            min_segments = max(1, int(math.ceil(settings.loop_min_s * rate / SEG)))
            loop_start, loop_end, cost = choose_loop(levels, first, n_seg, min_segments)
        else:
            loop_start, loop_end = (int(v) for v in settings.loop)
            if not 1 <= loop_start <= loop_end < n_seg:
                raise CaptureError(f"loop {loop_start}..{loop_end} is not inside segments 1..{n_seg - 1}")
        # Past the loop end the card never plays: the RAM image keeps silence there.
        n_used = (loop_end + 1) * SEG
        if settings.loop_crossfade_s > 0:
            y = crossfade_loop(y, loop_start * SEG, n_used, int(round(settings.loop_crossfade_s * rate)))
        y = _centre_loop(y, loop_start * SEG, n_used)
        levels = quantise(y, settings.bits)
        a, b = loop_start * SEG, n_used
        levels[a:b] = quantise_zero_sum(y[a:b], settings.bits)
        cost = float(seam_costs(levels, np.array([loop_start * SEG]), np.array([(loop_end + 1) * SEG]))[0])
    wave = np.zeros(hw.WAVE_RAM_SAMPLES, dtype=np.int16)
    wave[:n_used] = levels
    return Capture(wave, loop_start, loop_end, cost, n_used)


def loop_pitch_hz(levels: np.ndarray, start: int, end: int, rate_hz: float, guess_hz: float) -> float:
    """The mean pitch of a loop played over and over: the power-weighted centre of the spectrum
    within 40 cents of guess_hz, from 16 repeats of levels[start:end] (whole repeats, so no window).

    A loop cut from a voice with vibrato holds whole vibrato cycles only by chance; its mean
    pitch is what the ear hears while the key is held.
    """
    x = np.tile(np.asarray(levels[start:end], dtype=np.float64), 16)
    power = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(x.size, 1.0 / rate_hz)
    band = (freqs > guess_hz * 2 ** (-40 / 1200)) & (freqs < guess_hz * 2 ** (40 / 1200))
    if not power[band].any():
        raise CaptureError(f"the loop holds nothing near {guess_hz:.1f} Hz to tune by")
    return float(np.sum(freqs[band] * power[band]) / np.sum(power[band]))


def crossfade_loop(y: np.ndarray, start: int, end: int, n: int) -> np.ndarray:
    """y with the last n samples of the loop start..end blended into the n samples before `start`.

    The card jumps from the loop end to its start without a crossfade; the data can be prepared
    so that the jump lands where the sound already is, as sample editors did: towards the loop
    end the samples turn (by a raised cosine, the two gains summing to 1) into the ones that
    lead into the loop start, so the sample before the jump is the one before the start.
    Fewer than n samples are blended when the loop or the lead-in is shorter.
    """
    n = min(n, start, end - start)
    out = y.copy()
    if n > 0:
        w = raised_cosine(n)
        out[end - n : end] = (1.0 - w) * y[end - n : end] + w * y[start - n : start]
    return out


def level_from(y: np.ndarray, start: int) -> np.ndarray:
    """y with its decay from `start` on taken out: divided by the exponential fitted to its level.

    The fit is a least-squares line through the log RMS of each segment after `start`; dividing
    by a smooth exponential (1 at `start`) keeps the waveform and its beats, and only a decay
    (never a growth) is removed.
    """
    n_seg = (y.size - start) // SEG
    if n_seg < 2:
        return y
    rms = np.sqrt(np.mean(y[start : start + n_seg * SEG].reshape(n_seg, SEG) ** 2, axis=1))
    centres = np.arange(n_seg) + 0.5
    slope, _ = np.polyfit(centres, np.log(np.maximum(rms, 1e-12)), 1)
    out = y.copy()
    if slope < 0.0:
        out[start:] *= np.exp(-slope * np.arange(y.size - start) / SEG)
    return out


def _centre_loop(y: np.ndarray, start: int, end: int) -> np.ndarray:
    """Take the loop's mean out, reaching it by a raised cosine from the first sample (no step)."""
    mean = float(np.mean(y[start:end]))
    ramp = np.ones(end)
    ramp[:start] = raised_cosine(start)
    out = y[:end] - mean * ramp
    # The shift (and a crossfade before it) moves the peak: back to full scale by a gain, never a clip.
    return out * (FULL_SCALE / np.max(np.abs(out)))
