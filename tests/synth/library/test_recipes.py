"""Recipes: spectra, Page 4 profiles, the modelled sources, and a recipe into a voice."""

import numpy as np
import pytest

from synth import hardware as hw
from synth.library import page4
from synth.library import recipes as rc
from synth.units import midi_to_hz, ratio_to_cents

H = np.arange(1, 33, dtype=float)
RATE = 48_000.0


def peak_hz(x: np.ndarray, rate_hz: float, guess_hz: float) -> float:
    n_fft = 1 << 20
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size), n_fft))
    freqs = np.fft.rfftfreq(n_fft, 1.0 / rate_hz)
    band = np.flatnonzero(np.abs(freqs - guess_hz) < 0.03 * guess_hz)
    k = band[np.argmax(spectrum[band])]
    a, b, c = np.log(spectrum[k - 1 : k + 2])
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * rate_hz / n_fft


def centre_hz(x: np.ndarray, rate_hz: float, guess_hz: float) -> float:
    """Power-weighted mean frequency within 40 cents of guess_hz: the pitch of a chorus or a vibrato."""
    power = np.abs(np.fft.rfft(x * np.hanning(x.size))) ** 2
    freqs = np.fft.rfftfreq(x.size, 1.0 / rate_hz)
    band = np.abs(ratio_to_cents_array(freqs / guess_hz)) < 40
    return float(np.sum(freqs[band] * power[band]) / np.sum(power[band]))


def ratio_to_cents_array(ratio: np.ndarray) -> np.ndarray:
    return 1200 * np.log2(np.maximum(ratio, 1e-9))


def test_spectrum_keys_shape_the_harmonics():
    np.testing.assert_allclose(rc.spectrum({"power": -1.0}, H, H * 100), 1.0 / H)
    square = rc.spectrum({"power": -1.0, "odd": 1.0, "even": 0.0}, H, H * 100)
    assert np.all(square[1::2] == 0.0) and square[2] == pytest.approx(1 / 3)
    plucked = rc.spectrum({"pluck": 5.0}, H, H * 100)
    assert np.all(plucked[4::5] < 1e-12) and plucked[0] > 0.5
    assert np.all(rc.spectrum({"drop_every": 4}, H, H * 100)[3::4] == 0.0)
    explicit = rc.spectrum({"amplitudes": [1.0, 0.5], "boost": [[3, 0.25]]}, H, H * 100)
    np.testing.assert_allclose(explicit[:4], [1.0, 0.5, 0.25, 0.0])


def test_formants_peak_at_their_centre_frequency():
    f_hz = np.linspace(100.0, 4000.0, 3901)
    env = rc.formant_envelope([[800.0, 1.0, 100.0], [2500.0, 0.5, 200.0]], f_hz)
    assert f_hz[np.argmax(env)] == pytest.approx(800.0, abs=2.0)
    # Half the bandwidth away, a resonance is down by 3 dB.
    lone = rc.formant_envelope([[800.0, 1.0, 100.0]], np.array([800.0, 850.0]))
    assert 20 * np.log10(lone[1] / lone[0]) == pytest.approx(-3.01, abs=0.01)


def test_page4_keyframes_are_joined_linearly_and_decay_per_harmonic():
    profile, phases = rc.page4_profile(
        {"keyframes": [{"segment": 0, "amplitudes": [1.0]}, {"segment": 4, "amplitudes": [0.0, 1.0]}],
         "n_segments": 8}
    )
    assert profile.shape == (8, 32) and phases is None
    np.testing.assert_allclose(profile[:, 0], [1.0, 0.75, 0.5, 0.25, 0.0, 0.0, 0.0, 0.0])
    decayed, _ = rc.page4_profile(
        {"keyframes": [{"amplitudes": [1.0, 1.0]}], "n_segments": 4, "decay_db_per_segment": [1.0, 3.0]}
    )
    np.testing.assert_allclose(20 * np.log10(decayed[3, :2]), [-3.0, -9.0])


def test_page4_sweep_returns_to_its_start_after_the_last_segment():
    profile, _ = rc.page4_profile(
        {"keyframes": [{"power": -1.0, "pulse": 0.3}], "n_segments": 32,
         "sweep": {"key": "pulse", "centre": 0.3, "depth": -0.18}}
    )
    # The sweep is a whole cosine period: segment 31 sits next to segment 0 again.
    assert np.max(np.abs(profile[31] - profile[0])) < np.max(np.abs(profile[16] - profile[0])) / 10


def test_page4_voice_cycles_have_no_dc_and_match_their_profile():
    profile, _ = rc.page4_profile({"keyframes": [{"power": -1.0, "rolloff": 6.0}], "n_segments": 4})
    voice = rc.page4_voice("test", profile)
    cycles = voice.segments()[:32].astype(int)
    assert np.all(cycles.sum(axis=1) == 0)
    measured = page4.cycle_harmonics(cycles[0].astype(float))[:8]
    expected = profile[0, :8] * measured[0] / profile[0, 0]
    np.testing.assert_allclose(measured, expected, rtol=0.03)


@pytest.mark.parametrize("f0_hz", [55.0, 261.63, 1046.5])
def test_plucked_string_sounds_its_note_within_half_a_cent(f0_hz):
    x = rc.karplus({"strings": [[1.0, 1.0, 0.0]], "damping": 0.3, "tau_s": 1.0, "seed": 1}, f0_hz, RATE, 40_000)
    assert abs(ratio_to_cents(peak_hz(x[4000:], RATE, f0_hz) / f0_hz)) < 0.5


def test_plucked_string_decays_at_its_time_constant():
    f0_hz = 220.0
    x = rc.karplus({"strings": [[1.0, 1.0, 0.0]], "damping": 0.5, "tau_s": 0.5, "seed": 2}, f0_hz, RATE, 96_000)
    period = int(round(RATE / f0_hz))

    def fundamental(at_s):
        i = int(at_s * RATE)
        chunk = x[i : i + 20 * period]
        t = np.arange(chunk.size) / RATE
        return abs(np.sum(chunk * np.exp(-2j * np.pi * f0_hz * t)))

    ratio = fundamental(1.0) / fundamental(0.5)
    assert ratio == pytest.approx(np.exp(-0.5 / 0.5), rel=0.1)


def test_modal_partials_ring_at_their_ratios_and_decay():
    p = {"layers": [{"type": "partials", "partials": [[1.0, 1.0, 0.5], [2.76, 0.5, 0.1]]}]}
    x = rc.layered(p, 440.0, RATE, 48_000)
    assert peak_hz(x, RATE, 440.0) == pytest.approx(440.0, abs=0.05)
    assert peak_hz(x, RATE, 2.76 * 440.0) == pytest.approx(2.76 * 440.0, abs=0.2)
    assert x[0] == 0.0  # partials start at phase 0: no step


def test_bowed_and_formant_voices_hold_their_pitch_on_average():
    bowed = rc.bowed({"players": 3, "detune_cents": 5.0, "vibrato_cents": 10.0, "seed": 4}, 220.0, RATE, 96_000)
    voice = rc.formant({"formants": [[700.0, 1.0, 100.0]], "vibrato_cents": 10.0, "seed": 5}, 220.0, RATE, 96_000)
    for x in (bowed, voice):
        assert abs(ratio_to_cents(centre_hz(x[24_000:], RATE, 220.0) / 220.0)) < 2.0


def test_fm_pair_makes_sidebands_at_carrier_plus_and_minus_the_modulator():
    x = rc.fm({"pairs": [{"carrier": 1.0, "modulator": 3.0, "index": 1.0}]}, 200.0, RATE, 48_000)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    freqs = np.fft.rfftfreq(x.size, 1.0 / RATE)
    strongest = sorted(freqs[np.argsort(spectrum)[-40:]].round(-1))
    assert {200.0, 400.0, 800.0} <= set(strongest)  # c, |c - m|, c + m


def test_loop_periodic_source_repeats_over_its_loop_exactly():
    recipe = {
        "name": "ring", "method": "modal",
        "source": {"source_rate_hz": 30_200.0, "loop_periodic": True,
                   "layers": [{"type": "partials", "partials": [[1.0, 1.0, 0.3], [2.41, 0.4, 0.2]]},
                              {"type": "noise", "low_hz": 500.0, "high_hz": 4000.0, "gain": 0.1, "tau_s": 0.1}]},
        "capture": {"root_key": "C5", "loop": [27, 127]},
    }
    x, rate_hz = rc.source_signal(recipe, {"recording_rate_hz": 30_200.0})
    start, length = 27 * 128, 101 * 128
    np.testing.assert_allclose(x[start : start + 64], x[start + length : start + length + 64], atol=1e-9)


def test_page7_takes_seconds_and_hertz():
    params = rc.page7_params({"attack_s": 0.1, "damping_s": 0.5, "filter_hz": 5000, "curve": "exponential"})
    assert params["curve"] == "exponential"
    assert hw.filter_cutoff_hz(params["filter"]) == pytest.approx(5000.0, rel=0.02)
    ramp_s = 255 * hw.envelope_step_s(params["damping_timer"])
    assert ramp_s * rc.EXPONENTIAL_STRETCH == pytest.approx(0.5, rel=0.02)
    assert rc.page7_params({})["filter"] == hw.FILTER_MAX


PAGE4_RECIPE = {
    "name": "organ-test", "role": "a test", "method": "page4", "range": ["C2", "C6"],
    "page7": {"attack_s": 0.01, "filter_hz": 8000},
    "page4": {"keyframes": [{"segment": 0, "power": -1.0}], "loop": [0, 0]},
}
MODAL_RECIPE = {
    "name": "bar-test", "role": "a test", "method": "modal", "range": ["C4", "C7"],
    "page7": {"curve": "exponential", "decay_s": 2.0, "sustain": 0},
    "source": {"layers": [{"type": "partials", "partials": [[1.0, 1.0, 1.0], [3.9, 0.3, 0.2]]}]},
    "capture": {"root_key": "A5", "loop": "auto", "loop_from_s": 0.2, "level_loop": True},
}


def test_page4_recipe_makes_a_mode1_voice():
    voice = rc.voice_from_recipe(PAGE4_RECIPE)
    assert (voice.mode, voice.loop_start_segment, voice.loop_end_segment) == (1, 0, 0)
    assert voice.meta == {"method": "page4", "pitched": True, "range": [36, 84]}
    assert voice.role == "a test" and voice.source.startswith("page4")


def test_modal_recipe_makes_a_mode4_voice_looped_on_segments():
    voice = rc.voice_from_recipe(MODAL_RECIPE)
    assert voice.mode == 4 and voice.root_key == 81 and voice.recording_rate_hz == 30_200.0
    assert voice.loop_start_segment * 128 >= 0.2 * 30_200
    assert voice.meta["length_samples"] == (voice.loop_end_segment + 1) * 128
    assert voice.curve == "exponential" and voice.sustain_level == 0


def test_the_same_recipe_gives_the_same_voice():
    a, b = rc.voice_from_recipe(MODAL_RECIPE), rc.voice_from_recipe(MODAL_RECIPE)
    np.testing.assert_array_equal(a.wave, b.wave)
    assert a.loop_start_segment == b.loop_start_segment


def test_tuning_by_the_loop_moves_the_recording_rate_to_the_loops_pitch():
    recipe = dict(MODAL_RECIPE, capture=dict(MODAL_RECIPE["capture"], tune="loop"))
    # A source 20 cents sharp is brought back by a recording rate 20 cents lower.
    recipe["source"] = {"layers": [{"type": "partials", "partials": [[2 ** (20 / 1200), 1.0, 0.0]]}]}
    voice = rc.voice_from_recipe(recipe)
    assert voice.meta["tuned_cents"] == pytest.approx(-20.0, abs=0.3)
    assert ratio_to_cents(voice.recording_rate_hz / 30_200.0) == pytest.approx(-20.0, abs=0.3)
    assert midi_to_hz(voice.root_key) > 0


def test_a_recipe_error_names_the_voice():
    with pytest.raises(rc.RecipeError, match="'bar-test'.*unknown method"):
        rc.voice_from_recipe(dict(MODAL_RECIPE, method="granular"))
    with pytest.raises(rc.RecipeError, match="'bar-test'.*layer type"):
        rc.voice_from_recipe(dict(MODAL_RECIPE, source={"layers": [{"type": "grain"}]}))
    with pytest.raises(rc.RecipeError, match="loop_periodic"):
        rc.voice_from_recipe(dict(MODAL_RECIPE, source={"loop_periodic": True, "layers": []}))
