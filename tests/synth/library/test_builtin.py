"""The built-in voices: RAM images, clean starts and ends, profiles and pitch."""

import numpy as np
import pytest

from synth import hardware as hw
from synth.library import page4
from synth.library.builtin import build_voices, builtin_voices
from synth.units import midi_to_hz, ratio_to_cents

VOICES = builtin_voices()
MODE4 = [name for name, v in VOICES.items() if v.mode == 4]
MODE1 = [name for name, v in VOICES.items() if v.mode == 1]
UNLOOPED4 = [name for name in MODE4 if not VOICES[name].looped]
PITCHED4 = [name for name in MODE4 if "pitch_hz" in VOICES[name].meta]
DRUMS = ("kick", "snare", "closed_hat", "open_hat", "crash", "tom", "clap", "rim")


def used_samples(name: str) -> int:
    """How much of the RAM the voice plays: 32 segments in Mode 1, to the loop end or last sound in Mode 4."""
    v = VOICES[name]
    if v.mode == 1:
        return hw.MODE1_SEGMENTS * hw.SEGMENT_SAMPLES
    if v.looped:
        return (v.loop_end_segment + 1) * hw.SEGMENT_SAMPLES
    return int(np.nonzero(v.wave)[0][-1]) + 1


def test_the_set_covers_the_families_drums_and_test_voices():
    assert 20 <= len(VOICES) <= 32
    for name in ("sine", "square", "saw", "piano", "organ", "strings", "bell", "choir", *DRUMS):
        assert name in VOICES
    assert all(v.name == name for name, v in VOICES.items())


def test_building_is_cached_and_deterministic():
    assert builtin_voices() is VOICES
    again = build_voices()
    assert list(again) == list(VOICES)
    for name, v in VOICES.items():
        assert again[name] is not v
        np.testing.assert_array_equal(again[name].wave, v.wave)


@pytest.mark.parametrize("name", VOICES)
def test_voice_fills_the_16k_ram_with_8_bit_levels(name):
    v = VOICES[name]
    assert v.wave.shape == (16_384,)
    assert v.bits == 8
    assert v.wave.min() >= -128 and v.wave.max() <= 127
    assert np.max(np.abs(v.wave)) >= 100  # normalised, not a whisper
    assert v.role and v.source


@pytest.mark.parametrize("name", VOICES)
def test_used_part_has_no_dc(name):
    assert abs(VOICES[name].wave[: used_samples(name)].mean()) <= 1.0


@pytest.mark.parametrize("name", UNLOOPED4)
def test_modelled_sample_has_its_dc_taken_out(name):
    # A decaying sine from phase 0 leans to one side (the kick would sit near +0.15 LSB).
    assert abs(VOICES[name].wave[: used_samples(name)].mean()) <= 0.1


@pytest.mark.parametrize("name", MODE4)
def test_mode4_sample_starts_without_a_click(name):
    start = VOICES[name].wave[:9].astype(int)
    assert abs(start[0]) < 32
    assert np.max(np.abs(np.diff(start))) < 32


@pytest.mark.parametrize("name", UNLOOPED4)
def test_unlooped_mode4_sample_decays_to_zero_before_the_ram_ends(name):
    wave = VOICES[name].wave.astype(float)
    end = used_samples(name)
    assert end <= 16_384
    assert np.max(np.abs(wave[end - 256 : end])) <= 3
    segment_rms = np.sqrt(np.mean(wave.reshape(128, 128) ** 2, axis=1))
    tail_rms = np.sqrt(np.mean(wave[end - 1024 : end] ** 2))
    # A sample cut off mid-ring would end within about 15 dB of its peak.
    assert 20 * np.log10(tail_rms / segment_rms.max()) < -24


@pytest.mark.parametrize("name", [n for n in MODE4 if VOICES[n].looped])
def test_mode4_loop_joins_where_the_data_match(name):
    v = VOICES[name]
    loop = v.wave[v.loop_start_segment * 128 : (v.loop_end_segment + 1) * 128].astype(int)
    join_step = abs(int(loop[0]) - int(loop[-1]))
    assert join_step <= np.max(np.abs(np.diff(loop)))
    assert join_step <= np.percentile(np.abs(np.diff(loop)), 99)


@pytest.mark.parametrize("name", MODE1)
def test_mode1_loops_stay_inside_the_32_cycles(name):
    v = VOICES[name]
    assert v.looped  # every Mode 1 voice here holds on while its key is down (decay by envelope)
    assert 0 <= v.loop_start_segment <= v.loop_end_segment <= 31


@pytest.mark.parametrize("name", MODE1)
def test_mode1_cycles_match_their_harmonic_profile_within_half_a_db(name):
    v = VOICES[name]
    profile = np.abs(v.meta["profile"])
    measured = page4.cycle_harmonics(v.segments()[: profile.shape[0]].astype(float))[:, : profile.shape[1]]
    strongest = np.unravel_index(np.argmax(profile), profile.shape)
    expected = profile * (measured[strongest] / profile[strongest])
    strong = expected >= 8.0  # harmonics of at least 8 LSB, where 8-bit rounding stays far below 0.5 dB
    assert strong.any()
    error_db = 20 * np.log10(measured[strong] / expected[strong])
    assert np.max(np.abs(error_db)) < 0.5


@pytest.mark.parametrize("name", MODE1)
def test_mode1_cycles_start_at_level_zero(name):
    assert np.all(VOICES[name].segments()[:32, 0] == 0)


@pytest.mark.parametrize("name", PITCHED4)
def test_pitched_mode4_sample_sounds_its_root_key_within_10_cents(name):
    v = VOICES[name]
    rate_hz = v.recording_rate_hz
    start = int(v.meta.get("pitch_settled_s", 0.0) * rate_hz)
    x = v.levels[start : used_samples(name)].astype(float)
    n_fft = 1 << 18
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size), n_fft))
    freqs = np.fft.rfftfreq(n_fft, 1.0 / rate_hz)
    root_hz = midi_to_hz(v.root_key)
    band = np.nonzero((freqs > root_hz * 2 ** (-1 / 12)) & (freqs < root_hz * 2 ** (1 / 12)))[0]
    k = band[np.argmax(spectrum[band])]
    a, b, c = np.log(spectrum[k - 1 : k + 2])
    peak_hz = (k + 0.5 * (a - c) / (a - 2 * b + c)) * rate_hz / n_fft
    assert abs(ratio_to_cents(peak_hz / root_hz)) < 10.0


def test_bell_partials_are_inharmonic():
    v = VOICES["bell"]
    x = v.levels[: used_samples("bell")].astype(float)
    n_fft = 1 << 16
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size), n_fft))
    freqs = np.fft.rfftfreq(n_fft, 1.0 / v.recording_rate_hz)
    root_hz = midi_to_hz(v.root_key)
    # The minor-third tierce (ratio 1.183) stands well above the floor between harmonics 1 and 2.
    tierce = spectrum[np.argmin(np.abs(freqs - 1.183 * root_hz))]
    assert 20 * np.log10(tierce / spectrum.max()) > -20


def energy_fraction(name: str, low_hz: float, high_hz: float) -> float:
    v = VOICES[name]
    power = np.abs(np.fft.rfft(v.levels.astype(float))) ** 2
    freqs = np.fft.rfftfreq(v.wave.size, 1.0 / v.recording_rate_hz)
    return power[(freqs >= low_hz) & (freqs < high_hz)].sum() / power.sum()


def test_bass_drum_lives_below_200_hz_and_hats_above_3_khz():
    assert energy_fraction("kick", 0.0, 200.0) > 0.8
    assert energy_fraction("closed_hat", 3000.0, 16000.0) > 0.8
    assert energy_fraction("open_hat", 3000.0, 16000.0) > 0.8


def time_to_fall_s(name: str, drop_db: float) -> float:
    v = VOICES[name]
    rms = np.sqrt(np.mean(v.levels.astype(float).reshape(128, 128) ** 2, axis=1))
    below = np.nonzero(rms < rms.max() * 10 ** (-drop_db / 20))[0]
    return below[below > np.argmax(rms)][0] * 128 / v.recording_rate_hz


def test_open_hat_rings_longer_than_closed_hat():
    assert time_to_fall_s("open_hat", 30) > 3 * time_to_fall_s("closed_hat", 30)


@pytest.mark.parametrize("name", ("sine", "square", "saw"))
def test_plain_test_voices_loop_one_segment_with_the_filter_open(name):
    v = VOICES[name]
    assert (v.mode, v.loop_start_segment, v.loop_end_segment, v.filter) == (1, 0, 0, 127)


def test_plain_saw_holds_all_32_harmonics_at_1_over_h():
    amplitudes = page4.cycle_harmonics(VOICES["saw"].segments()[0].astype(float))
    np.testing.assert_allclose(amplitudes[:32] * np.arange(1, 33), amplitudes[0], rtol=0.12)
    assert np.max(amplitudes[32:]) < 0.6  # only rounding above the 32nd harmonic


def test_decaying_voices_fall_to_zero_and_sustaining_voices_hold():
    for name in ("piano", "guitar", "mallet", "bell", "bass"):
        v = VOICES[name]
        assert v.sustain_level == 0 and v.decay_timer > 0
    for name in ("organ", "strings", "pad", "choir", "wind"):
        assert VOICES[name].sustain_level == 255


def test_strings_attack_slower_than_organ():
    strings_s = hw.envelope_step_s(VOICES["strings"].attack_timer)
    assert strings_s > 20 * hw.envelope_step_s(VOICES["organ"].attack_timer)
