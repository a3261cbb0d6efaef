"""The channel card against the behaviours of docs/hardware.md, each as a number."""

from __future__ import annotations

import math

import mido
import numpy as np
import pytest

from synth import hardware as hw
from synth.engine import Engine
from synth.units import midi_to_hz, ratio_to_cents
from voicesets import OneVoice

from synth.voice import Voice, VoiceError, sampled_voice, single_cycle_voice

RATE_HZ = 44100
PHASE = np.arange(128) / 128.0




def sine_voice(**params) -> Voice:
    params.setdefault("loop_start_segment", 0)
    params.setdefault("loop_end_segment", 0)
    return single_cycle_voice("sine", np.sin(2 * np.pi * PHASE)[None, :], **params)


def saw_voice(**params) -> Voice:
    cycle = sum(np.sin(2 * np.pi * h * PHASE) / h for h in range(1, 64)) / 1.9
    params.setdefault("loop_start_segment", 0)
    params.setdefault("loop_end_segment", 0)
    return single_cycle_voice("saw", cycle[None, :], **params)


def play(voice: Voice, notes, n_frames: int, *, release_at: int | None = None, **engine_args) -> np.ndarray:
    """Mono render (left channel at centre pan) of notes [(frame, note)] held until release_at."""
    engine = Engine(rate_hz=RATE_HZ, voices=OneVoice(voice), **engine_args)
    events = [(f, mido.Message("note_on", note=n, velocity=127)) for f, n in notes]
    if release_at is not None:
        events += [(release_at, mido.Message("note_off", note=n)) for _, n in notes]
    events.sort(key=lambda e: e[0])
    latency = engine.latency_frames
    total = n_frames + latency
    out = []
    frame = 0
    for at, msg in events:
        if at > frame:
            out.append(engine.render(at - frame)[:, 0].copy())
            frame = at
        engine.handle(msg)
    out.append(engine.render(total - frame)[:, 0].copy())
    # The engine's output is late by its look-ahead: drop that many frames, as the renderer does.
    return np.concatenate(out)[latency:].astype(np.float64)


def spectrum_db(x: np.ndarray, rate_hz: int = RATE_HZ) -> tuple[np.ndarray, np.ndarray]:
    """Blackman-Harris windowed magnitude spectrum, 0 dB at its strongest line."""
    n = len(x)
    k = np.arange(n)
    w = 0.35875 - 0.48829 * np.cos(2 * np.pi * k / n) + 0.14128 * np.cos(4 * np.pi * k / n) - 0.01168 * np.cos(
        6 * np.pi * k / n
    )
    mag = np.abs(np.fft.rfft(x * w))
    return np.fft.rfftfreq(n, 1.0 / rate_hz), 20 * np.log10(np.maximum(mag / mag.max(), 1e-15))


def level_near(freqs, db, f_hz: float, width_hz: float = 6.0) -> float:
    sel = np.abs(freqs - f_hz) <= width_hz
    return float(db[sel].max())


def peak_frequency_hz(x: np.ndarray, guess_hz: float, rate_hz: int = RATE_HZ) -> float:
    """A tone's frequency to a hundredth of a cent: spectral peak, refined by phase over time."""
    freqs, db = spectrum_db(x, rate_hz)
    sel = np.flatnonzero(np.abs(freqs - guess_hz) < 0.1 * guess_hz)
    i = sel[np.argmax(db[sel])]
    a, b, c = db[i - 1], db[i], db[i + 1]
    guess_hz = freqs[i] + 0.5 * (a - c) / (a - 2 * b + c) * freqs[1]
    n = len(x) // 2
    t = np.arange(n) / rate_hz
    phases = []
    for seg in (x[:n], x[n : 2 * n]):
        z = np.sum(seg * np.exp(-2j * np.pi * guess_hz * t) * np.hanning(n))
        phases.append(np.angle(z))
    # The phase advance between two windows n frames apart gives the offset from the guess.
    dphi = (phases[1] - phases[0] - 2 * np.pi * guess_hz * n / rate_hz) % (2 * np.pi)
    if dphi > np.pi:
        dphi -= 2 * np.pi
    return guess_hz + dphi / (2 * np.pi * n / rate_hz)


# --- behaviour 1 ---------------------------------------------------------------------------------


def test_held_sine_shows_its_first_image_pair_about_42_db_down() -> None:
    voice = sine_voice()
    x = play(voice, [(0, 45)], RATE_HZ)[4410:]
    f0 = Engine(rate_hz=RATE_HZ, voices=OneVoice(voice)).clock_hz(voice, 45) / 128
    freqs, db = spectrum_db(x)
    # The hold's sinc weights harmonic 128m +- 1 against the fundamental.
    expected_below = level_near(freqs, db, 127 * f0), level_near(freqs, db, 129 * f0)
    for m_h, measured in zip((127, 129), expected_below, strict=True):
        sinc = abs(math.sin(math.pi * m_h / 128) / (math.pi * m_h / 128)) / (
            math.sin(math.pi / 128) / (math.pi / 128)
        )
        assert measured == pytest.approx(20 * math.log10(sinc), abs=1.0)
    assert -43.5 < expected_below[0] < -40.5


# --- behaviour 2 ---------------------------------------------------------------------------------


def harmonic_misfits(x: np.ndarray, f0: float, floor_db: float = -70.0) -> list[tuple[float, float]]:
    freqs, db = spectrum_db(x)
    peaks = np.flatnonzero((db[1:-1] > floor_db) & (db[1:-1] >= db[:-2]) & (db[1:-1] >= db[2:])) + 1
    bin_hz = freqs[1]
    return [
        (float(freqs[i]), float(db[i]))
        for i in peaks
        if freqs[i] > 20 and abs(freqs[i] / f0 - round(freqs[i] / f0)) * f0 > 4 * bin_hz
    ]


def test_pitched_up_single_cycle_has_no_line_off_the_harmonics_above_minus_70_db() -> None:
    voice = saw_voice()
    engine = Engine(rate_hz=RATE_HZ, voices=OneVoice(voice))
    note = 81  # A5: the card clocks at 112.6 kHz, far above the host rate
    f0 = engine.clock_hz(voice, note) / 128
    x = play(voice, [(0, note)], RATE_HZ)[4410:]
    assert harmonic_misfits(x, f0) == []


def test_naive_sampling_of_the_same_note_would_fold_inharmonic_lines() -> None:
    # The check above can fail: reading RAM[floor(t * f_s)] at the host rate folds the images.
    voice = saw_voice()
    f_s = Engine(rate_hz=RATE_HZ, voices=OneVoice(voice)).clock_hz(voice, 81)
    n = np.arange(RATE_HZ)
    naive = voice.levels[(np.floor(n * f_s / RATE_HZ).astype(np.int64)) % 128].astype(np.float64)
    assert len(harmonic_misfits(naive, f_s / 128)) > 10


# --- behaviour 3 ---------------------------------------------------------------------------------


def test_sampled_tone_played_two_octaves_down_keeps_its_image() -> None:
    rec = hw.PROFILES["iix"].recording_rate_hz
    tone = 0.9 * np.sin(2 * np.pi * 10_000.0 * np.arange(hw.WAVE_RAM_SAMPLES) / rec)
    voice = sampled_voice("tone", tone, recording_rate_hz=rec, root_key=72)
    engine = Engine(rate_hz=RATE_HZ, voices=OneVoice(voice))
    f_s = engine.clock_hz(voice, 48)
    assert f_s == pytest.approx(rec / 4, rel=2e-3)
    x = play(voice, [(0, 48)], RATE_HZ)[2000:40000]
    freqs, db = spectrum_db(x)
    g = 10_000.0 * f_s / rec
    assert level_near(freqs, db, g, 20) == pytest.approx(0.0, abs=0.1)
    image = level_near(freqs, db, f_s - g, 20)
    assert image == pytest.approx(20 * math.log10(g / (f_s - g)), abs=0.7)  # about -6 dB


# --- behaviour 4 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("note", [36, 49, 60, 69, 70, 83, 95])
def test_pitch_is_within_0_85_cent_of_equal_temperament(note: int) -> None:
    voice = sine_voice()
    x = play(voice, [(0, note)], 3 * RATE_HZ)[4410:]
    measured = peak_frequency_hz(x, midi_to_hz(note))
    tune = hw.master_tune_cents(hw.MASTER_TUNE_DEFAULT)
    assert abs(ratio_to_cents(measured / midi_to_hz(note)) - tune) <= 0.85 + 0.02


@pytest.mark.parametrize("master_tune, cents", [(0, -111.7), (128, -54.9), (255, -0.42)])
def test_master_tune_moves_every_pitch_between_minus_112_and_0_cents(master_tune: int, cents: float) -> None:
    voice = sine_voice()
    x = play(voice, [(0, 60)], 2 * RATE_HZ, master_tune=master_tune)[4410:]
    measured = peak_frequency_hz(x, midi_to_hz(60))
    assert ratio_to_cents(measured / midi_to_hz(60)) == pytest.approx(cents, abs=0.1)


def test_pitch_words_follow_the_cmi_table_on_the_c_grid() -> None:
    for n in range(12):
        octave, word = hw.pitch_word(128 * midi_to_hz(60 + n))
        assert octave == 4  # C4 lies in octave 4 of the C0 grid
        # Within half a step of the table (the C grid's 4186 Hz is 0.0002 cent off A = 440 Hz).
        assert abs(word - 1024 * (2 ** (n / 12) - 1)) <= 0.5 + 5e-3


# --- behaviour 5 ---------------------------------------------------------------------------------


def test_voice_ram_must_be_exactly_16384_samples() -> None:
    assert hw.WAVE_RAM_SAMPLES == 16_384
    assert hw.PROFILES["iix"].wave_ram_bytes == 16_384
    with pytest.raises(VoiceError, match="16384"):
        Voice("short", np.zeros(16_383, dtype=np.int16))


@pytest.mark.parametrize("start_segment", [0, 64, 120])
def test_unlooped_sample_from_segment_s_lasts_128_minus_s_segments(start_segment: int) -> None:
    voice = sampled_voice("dc", np.full(hw.WAVE_RAM_SAMPLES, 0.5), start_segment=start_segment, root_key=60)
    f_s = Engine(rate_hz=RATE_HZ, voices=OneVoice(voice)).clock_hz(voice, 60)
    x = play(voice, [(0, 60)], RATE_HZ)
    sounding = np.flatnonzero(np.abs(x) > 0.5 * np.abs(x).max())
    # Half height is crossed half a frame into the attack-free plateau and at its end.
    measured = sounding[-1] - sounding[0] + 1
    expected = (128 - start_segment) * 128 * RATE_HZ / f_s
    assert abs(measured - expected) <= 2.0 + 1e-3 * RATE_HZ  # the 1 ms attack moves the first crossing


# --- behaviour 6 ---------------------------------------------------------------------------------


def test_the_same_note_twice_gives_the_same_samples() -> None:
    voice = saw_voice(damping_timer=10)
    engine = Engine(rate_hz=RATE_HZ, voices=OneVoice(voice))
    first = []
    for _ in range(2):  # the second note starts long after the first has died away
        engine.handle(mido.Message("note_on", note=62, velocity=127))
        first.append(engine.render(9_000)[:, 0].copy())
        engine.handle(mido.Message("note_off", note=62))
        engine.render(11_000)
    np.testing.assert_array_equal(first[0], first[1])
    assert np.abs(first[0]).max() > 0.05


# --- behaviour 7 ---------------------------------------------------------------------------------


def test_loop_repeats_every_whole_number_of_segments() -> None:
    rng = np.random.default_rng(7)
    data = rng.uniform(-0.8, 0.8, hw.WAVE_RAM_SAMPLES)
    voice = sampled_voice("noise-loop", data, loop_start_segment=10, loop_end_segment=12, root_key=60)
    engine = Engine(rate_hz=RATE_HZ, voices=OneVoice(voice))
    f_s = engine.clock_hz(voice, 60)
    x = play(voice, [(0, 60)], 2 * RATE_HZ)[RATE_HZ:]
    freqs, db = spectrum_db(x)
    period_hz = f_s / (3 * 128)
    # Every strong line sits on a harmonic of the 384-sample loop.
    strong = freqs[(db > -30) & (freqs > 50)]
    assert len(strong) > 0
    assert np.all(np.abs(strong / period_hz - np.round(strong / period_hz)) * period_hz < 3 * freqs[1])


# --- behaviour 8 ---------------------------------------------------------------------------------


def staircase_voice() -> Voice:
    """32 segments, each a constant level: the output steps where the segment changes."""
    levels = (np.arange(32) + 1) / 33.0
    return single_cycle_voice("stairs", np.repeat(levels[:, None], 128, axis=1))


@pytest.mark.parametrize("note", [33, 57, 81])
def test_mode_1_segments_last_about_50_ms_whatever_the_pitch(note: int) -> None:
    voice = staircase_voice()
    f_s = Engine(rate_hz=RATE_HZ, voices=OneVoice(voice)).clock_hz(voice, note)
    cycle_frames = 128 * RATE_HZ / f_s
    x = play(voice, [(0, note)], 2 * RATE_HZ)
    sounding = np.flatnonzero(np.abs(x) > 0.5 / 32 * np.abs(x).max())  # half the first segment's level
    duration_s = (sounding[-1] - sounding[0]) / RATE_HZ
    assert 32 * 0.050 <= duration_s <= 32 * 0.050 + (cycle_frames + 2) / RATE_HZ
    # Segment changes wait for the cycle's end: every step lies on a whole number of cycles.
    jumps = np.abs(np.diff(x))
    steps = np.flatnonzero(jumps > 0.25 / 32 * np.abs(x).max())
    clusters = np.split(steps, np.flatnonzero(np.diff(steps) > 40) + 1)[1:-1]
    # The centre of a band-limited step is where the signal moves fastest.
    starts = np.array([c[np.argmax(jumps[c])] + 0.5 for c in clusters])
    assert len(starts) >= 30
    cycles = starts / cycle_frames
    assert np.all(np.abs(cycles - np.round(cycles)) * cycle_frames <= 1.0)


# --- behaviour 9 ---------------------------------------------------------------------------------


def test_slow_release_steps_through_at_most_256_levels_to_1_over_255() -> None:
    # One envelope step every 100 frames: N = 100 * 502,625 / (2 * 44,100) - 1.
    timer = round(100 * hw.ENVELOPE_CLOCK_HZ / (2 * RATE_HZ)) - 1
    voice = sampled_voice(
        "dc", np.full(hw.WAVE_RAM_SAMPLES, 0.75), loop_start_segment=0, loop_end_segment=127, damping_timer=timer
    )
    x = play(voice, [(0, 60)], 2 * RATE_HZ, release_at=10_000)
    top = np.median(x[5_000:9_000])
    tail = x[10_000:]
    # Plateaus: frames more than the band-limited step's reach away from any step.
    near_step = np.convolve((np.abs(np.diff(tail)) > 1e-12).astype(float), np.ones(40), mode="same") > 0
    plateau = tail[1:][~near_step]
    relative = plateau[np.abs(plateau) > 1e-9] / top
    levels = np.unique(np.round(relative * 255, 3))
    assert len(levels) <= 256
    assert levels.min() == pytest.approx(1.0, abs=1e-3)  # the last step before silence is 1/255
    assert np.all(np.abs(levels - np.round(levels)) < 2e-3)
    assert len(levels) >= 250


def test_exponential_release_takes_about_3_8_times_the_linear_time() -> None:
    # Linear: 255 steps. Exponential: level L needs 64 / M(L) clocks, M = 4 * floor(L / 16) + 3, so
    # 64 * (15 / 3 + 16 * sum(1 / (4g + 3), g = 1..15)) = 965 clocks, 3.79 times as long (and 63 / 3 = 21
    # times shallower at the bottom than at the top).
    timer = 200
    common = dict(loop_start_segment=0, loop_end_segment=127, damping_timer=timer)
    data = np.full(hw.WAVE_RAM_SAMPLES, 0.75)
    lin = play(sampled_voice("a", data, **common), [(0, 60)], 2 * RATE_HZ, release_at=5_000)
    exp = play(sampled_voice("b", data, curve="exponential", **common), [(0, 60)], 2 * RATE_HZ, release_at=5_000)

    def fall_frames(x: np.ndarray) -> int:
        return int(np.flatnonzero(np.abs(x) > 1e-9)[-1]) - 5_000

    ratio = fall_frames(exp) / fall_frames(lin)
    assert ratio == pytest.approx(965.4 / 255, rel=0.03)


def _multiplier_clocks(levels_read) -> float:
    """Timer clocks of a full decay when M is read from these levels, one a step: 64 / M(L) each."""
    return sum(64 / (4 * (level // 16) + 3) for level in levels_read)


@pytest.mark.parametrize(("level_read", "levels_read"), [
    ("before", range(255, 0, -1)),  # 970 clocks: 3.81 times the 255 of the linear curve
    ("after", range(254, -1, -1)),  # 991 clocks: 3.89 times
])
def test_the_exponential_curve_reads_the_level_before_or_after_each_step_as_set(level_read, levels_read) -> None:
    common = dict(loop_start_segment=0, loop_end_segment=127, damping_timer=200)
    data = np.full(hw.WAVE_RAM_SAMPLES, 0.75)
    lin = play(sampled_voice("a", data, **common), [(0, 60)], 2 * RATE_HZ, release_at=5_000,
               envelope_level_read=level_read)
    exp = play(sampled_voice("b", data, curve="exponential", **common), [(0, 60)], 2 * RATE_HZ, release_at=5_000,
               envelope_level_read=level_read)

    def fall_frames(x: np.ndarray) -> int:
        return int(np.flatnonzero(np.abs(x) > 1e-9)[-1]) - 5_000

    expected = _multiplier_clocks(levels_read) / 255
    assert expected == pytest.approx({"before": 3.81, "after": 3.89}[level_read], abs=0.005)
    assert fall_frames(exp) / fall_frames(lin) == pytest.approx(expected, rel=0.01)


def test_an_unknown_level_read_convention_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="envelope_level_read"):
        Engine(rate_hz=RATE_HZ, envelope_level_read="during")


# --- behaviour 10 ---------------------------------------------------------------------------------


def test_ninth_note_steals_without_a_click() -> None:
    voice = sine_voice()
    engine = Engine(rate_hz=RATE_HZ, voices=OneVoice(voice))
    assert engine.n_cards == 8
    for k in range(8):
        engine.handle(mido.Message("note_on", note=40 + 2 * k, velocity=127))
    steady = engine.render(RATE_HZ // 2)[:, 0].astype(np.float64)
    engine.handle(mido.Message("note_on", note=70, velocity=127))
    after = engine.render(RATE_HZ // 4)[:, 0].astype(np.float64)
    assert engine.notes_stolen == 1
    assert engine.n_sounding == 8
    steady_step = np.abs(np.diff(steady[RATE_HZ // 4 :])).max()
    steal_step = np.abs(np.diff(np.concatenate((steady[-1:], after[:2000])))).max()
    # The 9th note adds its own rise; an unfaded cut of a full-scale card would jump by ~0.08.
    assert steal_step < steady_step + 0.01


# --- behaviour 11 ---------------------------------------------------------------------------------


def test_filter_open_keeps_the_images_and_a_low_setting_removes_them() -> None:
    f0 = Engine(rate_hz=RATE_HZ, voices=OneVoice(sine_voice())).clock_hz(sine_voice(), 45) / 128
    open_x = play(sine_voice(filter=127), [(0, 45)], RATE_HZ)[4410:]
    dark_x = play(sine_voice(filter=40), [(0, 45)], RATE_HZ)[4410:]
    freqs, open_db = spectrum_db(open_x)
    _, dark_db = spectrum_db(dark_x)
    assert level_near(freqs, open_db, 127 * f0) > -44
    assert level_near(freqs, dark_db, 127 * f0) < -90
    assert level_near(freqs, dark_db, 129 * f0) < -90


def test_filter_cutoff_law_spans_200_hz_to_20_khz() -> None:
    assert hw.filter_cutoff_hz(0) == pytest.approx(200.0)
    assert hw.filter_cutoff_hz(126) == pytest.approx(20_000.0)
    assert hw.filter_cutoff_hz(63) == pytest.approx(2_000.0)


def test_the_filters_minus_3db_point_is_where_a_tone_through_it_is_3_db_down() -> None:
    # FILTER 44: poles at 1,000 Hz, -3 dB at 435 Hz; A4 (440 Hz) through it loses 3.07 dB, four poles'
    # worth of 10 log10(1 + (440 / 1000)^2) (the trapezoidal poles are prewarped: analog this far down).
    setting = 44
    assert hw.filter_minus_3db_hz(setting) == pytest.approx(0.435 * hw.filter_cutoff_hz(setting), rel=1e-3)
    assert hw.filter_minus_3db_hz(setting) == pytest.approx(435.0, abs=1.0)

    def level_db(filter_setting: int) -> float:
        x = play(sine_voice(filter=filter_setting), [(0, 69)], RATE_HZ)[RATE_HZ // 4:]
        return 20 * math.log10(np.sqrt(np.mean(x**2)))

    expected_db = -40 * math.log10(1.0 + (440.0 / hw.filter_cutoff_hz(setting)) ** 2)
    assert level_db(setting) - level_db(hw.FILTER_MAX) == pytest.approx(expected_db, abs=0.15)
    assert expected_db == pytest.approx(-3.07, abs=0.02)


def _brightness_changes(changes: list[tuple[int, int]], n_frames: int) -> np.ndarray:
    """Mono render of C5 on a sine at FILTER 100, CC74 (brightness: up to +31.5 filter units) set to
    value at frame for (frame, value) in changes; the note starts at frame 0."""
    engine = Engine(rate_hz=RATE_HZ, voices=OneVoice(sine_voice(filter=100)))
    out, frame = [], 0
    for at, value in sorted(changes):
        if at > frame:
            out.append(engine.render(at - frame)[:, 0].copy())
            frame = at
        engine.handle(mido.Message("control_change", control=74, value=value))
        if at == 0:
            engine.handle(mido.Message("note_on", note=72, velocity=127))
    out.append(engine.render(n_frames + engine.latency_frames - frame)[:, 0].copy())
    return np.concatenate(out)[engine.latency_frames:].astype(np.float64)


@pytest.mark.parametrize("start_value, new_value", [(64, 127), (127, 0)])
def test_the_filter_opening_fully_or_closing_mid_note_glides_instead_of_switching(start_value, new_value) -> None:
    # FILTER 100 with CC74 at 127 reaches the top (wide open: a note started there bypasses the filter).
    # Switched in or out mid-note, the output would step at once from the filtered sine to the plain
    # one, which lags it less (a click); gliding over the 5 ms ramp, the difference between the two
    # renders moves no faster than the settled difference does.
    change = RATE_HZ // 5
    n_frames = change + RATE_HZ // 20
    steady = _brightness_changes([(0, start_value)], n_frames)
    changed = _brightness_changes([(0, start_value), (change, new_value)], n_frames)
    d = changed - steady
    # The filter acts on the band-limited signal, which runs the steps' look-ahead behind the card.
    change -= Engine(rate_hz=RATE_HZ).latency_frames
    assert np.abs(d[:change]).max() < 1e-6  # the same until the change
    settled = d[change + RATE_HZ // 50 :]  # from 20 ms on
    assert np.abs(settled).max() > 0.005  # the change is heard: the tone's phase and level move
    settled_step = np.abs(np.diff(settled)).max()
    assert np.abs(np.diff(d[change - 1 : change + RATE_HZ // 50])).max() < 1.5 * settled_step
