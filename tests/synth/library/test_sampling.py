"""Page 8 helpers: pitch detection, loops on segment boundaries, fitting a long sound."""

from __future__ import annotations

import numpy as np
import pytest

from synth.library.sampling import MIN_RATE_HZ, detect_pitch, find_loop, fitting_rate_hz, resample
from synth.units import midi_to_hz


def _tone(freq_hz: float, rate_hz: float, seconds: float, decay_s: float | None = None) -> np.ndarray:
    t = np.arange(int(rate_hz * seconds)) / rate_hz
    x = 0.6 * np.sin(2 * np.pi * freq_hz * t) + 0.25 * np.sin(2 * np.pi * 2 * freq_hz * t + 0.7)
    x *= np.minimum(1.0, t / 0.01)
    if decay_s is not None:
        x *= np.exp(-t / decay_s)
    return x


@pytest.mark.parametrize("note, rate_hz", [(69, 44100), (69, 30200), (33, 48000), (60, 22050), (96, 30200)])
def test_pitch_of_a_steady_tone_is_within_a_cent(note, rate_hz):
    pitch = detect_pitch(_tone(midi_to_hz(note) * 2 ** (7 / 1200), rate_hz, 0.8), rate_hz)
    assert pitch.note == note
    assert pitch.cents == pytest.approx(7.0, abs=1.0)


def test_pitch_of_a_decaying_pluck_is_found_after_its_attack():
    x = _tone(196.0, 44100, 1.5, decay_s=0.4)
    x[:400] += np.random.default_rng(1).normal(0, 0.3, 400)  # a noisy pick attack
    pitch = detect_pitch(x, 44100)
    assert pitch.note == 55 and abs(pitch.cents) < 2.0


def test_noise_and_silence_have_no_pitch():
    assert detect_pitch(np.random.default_rng(0).standard_normal(30000), 30200) is None
    assert detect_pitch(np.zeros(30000), 30200) is None


def test_loop_joins_a_tone_where_the_waveform_continues():
    rate = 30200
    x = np.round(100 * _tone(440.0, rate, 16384 / rate))
    loop = find_loop(x, len(x))
    start, end = loop.start_segment * 128, (loop.end_segment + 1) * 128
    assert loop.n_segments >= 2 and end <= len(x)
    # Across the jump the signal moves no more than it does between neighbouring samples.
    step = np.max(np.abs(np.diff(x[8000:12000])))
    assert abs(x[start] - x[end - 1]) <= 1.1 * step
    assert loop.seam_cost < 4.0  # LSB^2: a seam no worse than 8-bit rounding


def test_loop_stays_out_of_the_attack_and_the_quiet_tail():
    rate = 30200
    n = 12000
    t = np.arange(n) / rate
    x = np.sin(2 * np.pi * 300.0 * t) * np.interp(t, [0, 0.05, 0.25, 0.3, 0.4], [0, 1, 1, 0.05, 0.05])
    levels = np.zeros(16384)
    levels[:n] = np.round(120 * x)
    loop = find_loop(levels, n)
    assert loop.start_segment * 128 >= 0.05 * rate - 128
    assert (loop.end_segment + 1) * 128 <= 0.3 * rate + 128


def test_no_loop_in_a_sound_of_two_segments():
    assert find_loop(np.ones(16384), 256) is None


def test_fitting_rate_puts_the_whole_sound_in_ram():
    rate = fitting_rate_hz(2 * 44100, 44100)
    assert rate == 8100  # 16,384 samples / 2 s = 8,192 Hz, down to a whole 100 Hz
    assert len(resample(np.zeros(2 * 44100), 44100, rate)) <= 16384
    assert abs(MIN_RATE_HZ - 1962.19) < 0.01  # octave 0, pitch word 0, master tune 0


def test_resampling_keeps_the_pitch_and_the_length():
    x = _tone(440.0, 44100, 0.5)
    y = resample(x, 44100, 30200)
    assert len(y) == pytest.approx(0.5 * 30200, abs=1)
    assert abs(detect_pitch(y, 30200).cents) < 1.0
