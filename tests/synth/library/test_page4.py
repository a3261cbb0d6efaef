"""Page 4 harmonic profiles into single cycles."""

import numpy as np
import pytest

from synth.library import page4
from synth.voice import quantise

LSB = 1.0 / 128


def test_single_harmonic_is_a_full_scale_sine_starting_at_zero():
    profile = np.zeros((1, 5))
    profile[0, 2] = 0.3
    cycle = page4.harmonic_cycles(profile)[0]
    n = np.arange(128)
    assert cycle[0] == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(cycle, page4.FULL_SCALE * np.sin(2 * np.pi * 3 * n / 128), atol=1e-12)


def test_loudest_segment_reaches_full_scale_without_clipping():
    rng = np.random.default_rng(1)
    profile = rng.uniform(0.0, 1.0, size=(32, 32))
    levels = page4.quantised_cycles(profile)
    assert np.max(np.abs(levels)) == 127
    assert levels.min() >= -127


def test_segments_keep_their_relative_levels():
    spectrum = 1.0 / np.arange(1, 17)
    profile = np.vstack([spectrum, 0.5 * spectrum, 0.1 * spectrum])
    cycles = page4.harmonic_cycles(profile)
    peaks_db = 20 * np.log10(np.max(np.abs(cycles), axis=1) / np.max(np.abs(cycles[0])))
    np.testing.assert_allclose(peaks_db, [0.0, -6.02, -20.0], atol=0.01)


def test_cycles_have_no_dc_before_or_after_quantising():
    rng = np.random.default_rng(2)
    profile = rng.uniform(0.0, 1.0, size=(32, 32))
    phases = rng.uniform(0.0, 2 * np.pi, size=(32, 32))
    cycles = page4.harmonic_cycles(profile, phases)
    assert np.max(np.abs(cycles.mean(axis=1))) < 1e-12
    assert np.max(np.abs(quantise(cycles).mean(axis=1))) <= 1.0


def test_quantised_cycle_keeps_strong_harmonics_within_half_a_db():
    rng = np.random.default_rng(3)
    spectrum = rng.uniform(0.05, 1.0, size=32) / np.sqrt(np.arange(1, 33))
    levels = page4.quantised_cycles(spectrum[None, :])[0]
    measured = page4.cycle_harmonics(levels)[:32]
    expected = spectrum * (measured[np.argmax(spectrum)] / spectrum.max())
    strong = expected >= 0.1 * expected.max()  # within 20 dB of the strongest
    assert strong.sum() >= 20
    error_db = 20 * np.log10(measured[strong] / expected[strong])
    assert np.max(np.abs(error_db)) < 0.5


def test_cycle_harmonics_reads_back_a_drawn_harmonic():
    n = np.arange(128)
    cycle = 0.25 * np.sin(2 * np.pi * 63 * n / 128) + 0.5 * np.sin(2 * np.pi * n / 128)
    amplitudes = page4.cycle_harmonics(cycle)
    assert amplitudes.shape == (63,)
    assert amplitudes[0] == pytest.approx(0.5)
    assert amplitudes[62] == pytest.approx(0.25)
    assert np.sum(amplitudes[1:62]) < 1e-12


def test_harmonic_64_does_not_fit_a_128_sample_cycle():
    with pytest.raises(page4.Page4Error, match="64"):
        page4.harmonic_cycles(np.ones((1, 64)))
    assert page4.harmonic_cycles(np.ones((1, 63))).shape == (1, 128)


def test_silent_profile_is_refused():
    with pytest.raises(page4.Page4Error):
        page4.harmonic_cycles(np.zeros((4, 8)))


def test_interpolated_profile_is_linear_between_keyframes_and_holds_outside():
    profile = page4.interpolate_profiles({4: [1.0, 0.0], 8: [0.0, 1.0, 0.5]})
    assert profile.shape == (32, 3)
    np.testing.assert_allclose(profile[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(profile[6], [0.5, 0.5, 0.25])
    np.testing.assert_allclose(profile[31], [0.0, 1.0, 0.5])


def test_keyframe_outside_the_segments_is_refused():
    with pytest.raises(page4.Page4Error, match="32"):
        page4.interpolate_profiles({32: [1.0]})


def test_decaying_profile_fades_each_harmonic_at_its_own_rate():
    profile = page4.decaying_profile([1.0, 1.0], [1.0, 3.0])
    assert profile.shape == (32, 2)
    drop_db = 20 * np.log10(profile[31] / profile[0])
    np.testing.assert_allclose(drop_db, [-31.0, -93.0])


def test_profile_voice_is_mode1_with_its_profile_in_meta():
    profile = page4.decaying_profile(1.0 / np.arange(1, 9), 1.0)
    voice = page4.profile_voice("test", profile, loop_start_segment=31, loop_end_segment=31)
    assert voice.mode == 1
    assert voice.wave.size == 16_384
    np.testing.assert_array_equal(voice.meta["profile"], profile)
    np.testing.assert_array_equal(voice.segments()[:32], page4.quantised_cycles(profile))
    assert voice.source == "page4 harmonic profile"


def test_more_than_32_segments_do_not_fit_mode_1():
    with pytest.raises(page4.Page4Error, match="32"):
        page4.profile_voice("long", np.ones((33, 4)))


def test_a_volume_profile_scales_each_segment_and_is_checked():
    from synth.library.page4 import Page4Error, apply_volume_profile

    profile = np.ones((32, 3))
    volume = np.linspace(1.0, 0.0, 32)
    scaled = apply_volume_profile(profile, volume)
    assert np.allclose(scaled[:, 1], volume)
    with pytest.raises(Page4Error, match="one level for each of the 32 segments"):
        apply_volume_profile(profile, [1.0] * 31)
    with pytest.raises(Page4Error, match="0..1"):
        apply_volume_profile(profile, [1.5] * 32)
