"""Capturing a modelled sound: resampling, 8 bits, the RAM, and loops chosen by the seam cost."""

import numpy as np
import pytest

from synth.library import capture as cp
from synth.units import ratio_to_cents

RATE = 30_200.0


def peak_hz(x: np.ndarray, rate_hz: float) -> float:
    n_fft = 1 << 18
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size), n_fft))
    k = int(np.argmax(spectrum))
    a, b, c = np.log(spectrum[k - 1 : k + 2])
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * rate_hz / n_fft


def test_resampling_48k_to_30k2_keeps_a_tone_and_its_level():
    t = np.arange(48_000) / 48_000.0
    y = cp.resample(0.5 * np.sin(2 * np.pi * 1000.0 * t), 48_000.0, RATE)
    assert y.size == 30_200
    assert abs(ratio_to_cents(peak_hz(y[1000:-1000], RATE) / 1000.0)) < 0.05
    assert np.max(np.abs(y[1000:-1000])) == pytest.approx(0.5, abs=0.005)


def test_resampling_removes_what_lies_above_the_recording_nyquist():
    t = np.arange(48_000) / 48_000.0
    y = cp.resample(np.sin(2 * np.pi * 18_000.0 * t), 48_000.0, RATE)  # 18 kHz > 15.1 kHz
    assert 20 * np.log10(np.max(np.abs(y[2000:-2000]))) < -60


def test_dc_block_keeps_the_first_sample_and_removes_an_offset():
    x = 0.3 + 0.2 * np.sin(2 * np.pi * 440.0 * np.arange(30_200) / RATE)
    y = cp.block_dc(x, RATE)
    assert y[0] == x[0]
    assert abs(np.mean(y[-15_100:])) < 1e-3


def test_seam_cost_is_zero_for_a_loop_of_whole_periods():
    levels = np.round(100 * np.sin(2 * np.pi * np.arange(16_384) / 64)).astype(np.int16)  # period 64
    cost = cp.seam_costs(levels, np.array([128, 1280]), np.array([4096, 16_384]))
    np.testing.assert_array_equal(cost, [0.0, 0.0])


def test_seam_cost_sees_a_jump_a_kink_and_a_shape():
    ramp = np.arange(1000, dtype=np.int16)
    # A ramp looped from 200 to 600: the sample before the end is 599, the one before the start 199.
    cost = cp.seam_costs(ramp, np.array([200]), np.array([600]))[0]
    assert cost == 400.0**2 + 0.0 + 400.0**2


def test_choose_loop_picks_a_length_of_whole_periods():
    # Period 96 samples: only loops of a multiple of 3 segments (384 samples) hold whole periods.
    levels = np.round(100 * np.sin(2 * np.pi * np.arange(16_384) / 96)).astype(np.int16)
    start, end, cost = cp.choose_loop(levels, 10, 128, 4)
    assert (end - start + 1) % 3 == 0
    assert cost == 0.0
    # Ties go to the longest loop (39 x 3 of the 118 segments from 10 on), then the earliest.
    assert (start, end) == (10, 126)


def test_choose_loop_refuses_a_loop_that_cannot_fit():
    with pytest.raises(cp.CaptureError, match="no loop"):
        cp.choose_loop(np.zeros(16_384, dtype=np.int16), 120, 128, 20)


def test_zero_sum_quantising_leaves_no_dc_and_moves_samples_by_at_most_one_level():
    rng = np.random.default_rng(3)
    y = rng.uniform(-0.9, 0.9, size=128)
    y -= y.mean()
    q = cp.quantise_zero_sum(y)
    assert int(q.sum()) == 0
    assert np.max(np.abs(q - np.round(y * 128))) <= 1


def decaying_tone(n: int, rate_hz: float, f_hz: float, tau_s: float) -> np.ndarray:
    t = np.arange(n) / rate_hz
    return np.sin(2 * np.pi * f_hz * t) * np.exp(-t / tau_s)


def test_unlooped_capture_fills_the_ram_with_8_bit_levels_that_end_in_silence():
    x = decaying_tone(27_000, 48_000.0, 440.0, 5.0)
    cap = cp.capture(x, 48_000.0, cp.CaptureSettings(fade_out_s=0.1))
    assert cap.wave.shape == (16_384,) and cap.wave.dtype == np.int16
    assert np.max(np.abs(cap.wave)) == 127 and cap.wave.min() >= -127
    assert cap.loop_start_segment is None
    assert np.all(cap.wave[-20:] == 0)
    assert abs(int(cap.wave[0])) <= 2 and np.max(np.abs(np.diff(cap.wave[:10].astype(int)))) <= 8


def test_length_leaves_silence_after_the_sound():
    x = decaying_tone(27_000, 48_000.0, 440.0, 0.05)
    cap = cp.capture(x, 48_000.0, cp.CaptureSettings(length_s=0.2))
    assert cap.n_used == round(0.2 * RATE)
    assert not cap.wave[cap.n_used :].any()


def test_auto_loop_lies_on_segments_inside_its_search_window_with_a_small_seam():
    # 53 periods in 50 segments: a loop of whole periods exists, and the search must find one.
    x = decaying_tone(27_000, 48_000.0, RATE * 53 / (50 * 128), 30.0)
    settings = cp.CaptureSettings(loop="auto", loop_from_s=0.2, loop_min_s=0.1)
    cap = cp.capture(x, 48_000.0, settings)
    assert cap.loop_start_segment * 128 >= 0.2 * RATE
    assert (cap.loop_end_segment - cap.loop_start_segment + 1) * 128 >= 0.1 * RATE
    assert cap.n_used == (cap.loop_end_segment + 1) * 128
    assert (cap.loop_end_segment - cap.loop_start_segment + 1) % 50 == 0
    assert cap.seam_cost < 4.0  # rounding and the slow decay: about 1 LSB at the seam
    loop = cap.wave[cap.loop_start_segment * 128 : cap.n_used]
    assert int(loop.sum()) == 0


def test_fixed_loop_is_kept_and_a_loop_outside_the_ram_is_refused():
    x = decaying_tone(27_000, 48_000.0, 236.0, 30.0)
    cap = cp.capture(x, 48_000.0, cp.CaptureSettings(loop=(40, 100)))
    assert (cap.loop_start_segment, cap.loop_end_segment) == (40, 100)
    with pytest.raises(cp.CaptureError, match="loop"):
        cp.capture(x, 48_000.0, cp.CaptureSettings(loop=(40, 130)))


def test_levelled_loop_holds_the_level_of_a_decaying_sound():
    x = decaying_tone(27_000, 48_000.0, 236.0, 0.3)
    plain = cp.capture(x, 48_000.0, cp.CaptureSettings(loop=(64, 127)))
    level = cp.capture(x, 48_000.0, cp.CaptureSettings(loop=(64, 127), level_loop=True, loop_from_s=0.25))

    def end_to_start_db(wave):
        seg = wave[: 128 * 128].astype(float).reshape(128, 128)
        rms = np.sqrt(np.mean(seg**2, axis=1))
        return 20 * np.log10(rms[126] / rms[65])

    assert end_to_start_db(plain.wave) < -6
    assert abs(end_to_start_db(level.wave)) < 0.5


def test_silent_sound_cannot_be_captured():
    with pytest.raises(cp.CaptureError, match="silent"):
        cp.capture(np.zeros(27_000), 48_000.0, cp.CaptureSettings())


def test_loop_pitch_finds_the_mean_pitch_of_a_loop():
    f_hz = 239 * RATE / 16_384  # 239 whole periods in the RAM: 440.55 Hz
    levels = np.round(100 * np.sin(2 * np.pi * f_hz * np.arange(16_384) / RATE)).astype(np.int16)
    assert cp.loop_pitch_hz(levels, 0, 16_384, RATE, 440.0) == pytest.approx(f_hz, abs=0.01)


def test_crossfaded_loop_ends_on_the_samples_that_lead_into_its_start():
    rng = np.random.default_rng(9)
    noise = rng.standard_normal(27_000)  # nothing in noise matches: only the crossfade can join it
    plain = cp.capture(noise, 48_000.0, cp.CaptureSettings(loop=(40, 100)))
    blended = cp.capture(noise, 48_000.0, cp.CaptureSettings(loop=(40, 100), loop_crossfade_s=0.02))
    assert plain.seam_cost > 100.0
    assert blended.seam_cost <= 2.0
    # Before the blend starts, the loop is untouched (but for the loop's centring, under a level).
    head = slice(40 * 128, 90 * 128)
    assert np.max(np.abs(blended.wave[head].astype(int) - plain.wave[head].astype(int))) <= 1
