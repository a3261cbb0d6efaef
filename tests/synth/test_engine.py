"""The engine's MIDI channels: controllers, bend, sustain, programs, drums and profiles, measured."""

from __future__ import annotations

import math

import mido
import numpy as np
import pytest

from synth import hardware as hw
from synth.engine import Engine
from synth.units import midi_to_hz, ratio_to_cents
from synth.voice import Voice, sampled_voice, single_cycle_voice

RATE_HZ = 44100
PHASE = np.arange(128) / 128.0


def sine(name: str = "sine", harmonic: int = 1) -> Voice:
    return single_cycle_voice(
        name, np.sin(2 * np.pi * harmonic * PHASE)[None, :], loop_start_segment=0, loop_end_segment=0,
        damping_timer=20,
    )


class Programs:
    """Program 0 plays a sine, program 1 its octave (second harmonic); drum key 36 a click."""

    def __init__(self) -> None:
        self.by_program = {0: sine("fundamental"), 1: sine("octave", harmonic=2)}
        self.click = sampled_voice("click", np.r_[np.full(256, 0.8), np.zeros(hw.WAVE_RAM_SAMPLES - 256)])

    def melodic(self, program: int, channel: int | None = None) -> Voice:
        return self.by_program.get(program, self.by_program[0])

    def drum(self, key: int):
        return (self.click, 60) if key == 36 else None


def run(messages: list[tuple[int, mido.Message]], n_frames: int, **engine_args) -> tuple[np.ndarray, Engine]:
    """Stereo render of (frame, message) pairs, aligned so a message at frame F sounds at F."""
    engine = Engine(rate_hz=RATE_HZ, voices=Programs(), **engine_args)
    out, frame = [], 0
    total = n_frames + engine.latency_frames
    for at, msg in sorted(messages, key=lambda m: m[0]):
        if at > frame:
            out.append(engine.render(at - frame).copy())
            frame = at
        engine.handle(msg)
    out.append(engine.render(total - frame).copy())
    return np.concatenate(out)[engine.latency_frames :].astype(np.float64), engine


def on(note: int = 60, velocity: int = 127, channel: int = 0) -> mido.Message:
    return mido.Message("note_on", note=note, velocity=velocity, channel=channel)


def off(note: int = 60, channel: int = 0) -> mido.Message:
    return mido.Message("note_off", note=note, channel=channel)


def cc(control: int, value: int, channel: int = 0) -> mido.Message:
    return mido.Message("control_change", control=control, value=value, channel=channel)


def rms_db(x: np.ndarray) -> float:
    return 10 * math.log10(np.mean(x**2) + 1e-30)


def pitch_hz(x: np.ndarray, guess_hz: float) -> float:
    """Frequency by zero-padded FFT peak with parabolic refinement (good to about 0.2 cent here)."""
    n = len(x)
    spec = np.abs(np.fft.rfft(x * np.hanning(n), 8 * n))
    freqs = np.fft.rfftfreq(8 * n, 1 / RATE_HZ)
    sel = np.flatnonzero(np.abs(freqs - guess_hz) < 0.06 * guess_hz)
    i = sel[np.argmax(spec[sel])]
    a, b, c = np.log(spec[i - 1 : i + 2])
    return freqs[i] + 0.5 * (a - c) / (a - 2 * b + c) * freqs[1]


def test_cc7_volume_follows_the_gm_40_log_curve() -> None:
    full, _ = run([(0, cc(7, 127)), (0, on())], RATE_HZ)
    half, _ = run([(0, cc(7, 64)), (0, on())], RATE_HZ)
    # GM: gain = (value / 127)^2, so 64 is 11.9 dB below 127.
    assert rms_db(half[4410:, 0]) - rms_db(full[4410:, 0]) == pytest.approx(40 * math.log10(64 / 127), abs=0.05)


def test_cc11_expression_scales_like_volume() -> None:
    full, _ = run([(0, on())], RATE_HZ)
    soft, _ = run([(0, cc(11, 32)), (0, on())], RATE_HZ)
    assert rms_db(soft[4410:, 0]) - rms_db(full[4410:, 0]) == pytest.approx(40 * math.log10(32 / 127), abs=0.05)


@pytest.mark.parametrize("pan, left_minus_right_db", [(1, 200.0), (64, 0.0), (127, -200.0)])
def test_cc10_pans_each_card_at_constant_power(pan: int, left_minus_right_db: float) -> None:
    x, _ = run([(0, cc(10, pan)), (0, on())], RATE_HZ // 2)
    left, right = rms_db(x[4410:, 0]), rms_db(x[4410:, 1])
    if left_minus_right_db == 0.0:
        assert left - right == pytest.approx(0.0, abs=0.01)
    else:
        assert (left - right) * np.sign(left_minus_right_db) > 100
    # Constant power: the sum of both sides' power is the same wherever the card sits.
    centre, _ = run([(0, on())], RATE_HZ // 2)
    assert 10 * math.log10(np.mean(x[4410:] ** 2) * 2) == pytest.approx(
        10 * math.log10(np.mean(centre[4410:] ** 2) * 2), abs=0.05
    )


def test_velocity_squared_sets_the_volume_latch() -> None:
    loud, _ = run([(0, on(velocity=127))], RATE_HZ // 2)
    soft, _ = run([(0, on(velocity=64))], RATE_HZ // 2)
    # Latch = round(255 * (64/127)^2) = 65 of 255.
    assert rms_db(soft[4410:, 0]) - rms_db(loud[4410:, 0]) == pytest.approx(20 * math.log10(65 / 255), abs=0.1)


def test_pitch_bend_uses_the_rpn_0_range() -> None:
    messages = [
        (0, cc(101, 0)), (0, cc(100, 0)), (0, cc(6, 12)),  # bend range: 12 semitones
        (0, mido.Message("pitchwheel", pitch=4096)),  # half way up: +6 semitones
        (0, on(60)),
    ]
    x, _ = run(messages, RATE_HZ)
    f = pitch_hz(x[4410:, 0], midi_to_hz(66))
    tune = hw.master_tune_cents(hw.MASTER_TUNE_DEFAULT)
    assert ratio_to_cents(f / midi_to_hz(66)) - tune == pytest.approx(0.0, abs=1.5)


def test_default_bend_range_is_two_semitones_and_moves_sounding_notes() -> None:
    x, _ = run([(0, on(60)), (RATE_HZ // 2, mido.Message("pitchwheel", pitch=-8192))], RATE_HZ)
    tune = hw.master_tune_cents(hw.MASTER_TUNE_DEFAULT)
    before = pitch_hz(x[4410:20000, 0], midi_to_hz(60))
    after = pitch_hz(x[26000:, 0], midi_to_hz(58))
    assert ratio_to_cents(before / midi_to_hz(60)) - tune == pytest.approx(0.0, abs=1.5)
    assert ratio_to_cents(after / midi_to_hz(58)) - tune == pytest.approx(0.0, abs=1.5)


def test_sustain_pedal_holds_released_notes_until_pedal_up() -> None:
    x, _ = run([(0, cc(64, 127)), (0, on()), (4410, off()), (30000, cc(64, 0))], RATE_HZ)
    assert rms_db(x[20000:29000, 0]) > -40  # still sounding after its note-off
    assert np.abs(x[40000:, 0]).max() == 0.0  # released at pedal up, then silent


def test_cc120_silences_the_channel_within_a_few_ms() -> None:
    x, engine = run([(0, on(60)), (0, on(64)), (10000, cc(120, 0))], 20000)
    assert np.abs(x[10000 + int(0.005 * RATE_HZ) :, 0]).max() == 0.0
    assert engine.is_silent


def test_cc123_releases_every_note_of_the_channel_only() -> None:
    x, engine = run([(0, on(60)), (0, on(72, channel=1)), (10000, cc(123, 0))], 30000)
    assert engine.n_sounding == 1  # the note on channel 2 plays on


def test_cc121_resets_expression_and_bend() -> None:
    x, _ = run([(0, cc(11, 20)), (0, mido.Message("pitchwheel", pitch=8191)), (0, cc(121, 0)), (0, on())],
               RATE_HZ)
    plain, _ = run([(0, on())], RATE_HZ)
    np.testing.assert_allclose(x, plain, atol=1e-9)


def test_program_change_chooses_the_voice_for_following_notes() -> None:
    x, _ = run([(0, mido.Message("program_change", program=1)), (0, on(60))], RATE_HZ)
    f = pitch_hz(x[4410:, 0], 2 * midi_to_hz(60))
    assert ratio_to_cents(f / (2 * midi_to_hz(60))) == pytest.approx(0.0, abs=2.0)


def test_channel_10_plays_the_drum_map_and_ignores_unmapped_keys() -> None:
    x, _ = run([(0, on(36, channel=9))], RATE_HZ // 2)
    y, _ = run([(0, on(37, channel=9))], RATE_HZ // 2)
    assert np.abs(x).max() > 0.01
    assert np.abs(y).max() == 0.0


def test_drum_hits_play_through_an_immediate_note_off() -> None:
    x, _ = run([(0, on(36, channel=9)), (1, off(36, channel=9))], RATE_HZ // 2)
    # 256 samples at 30.2 kHz: the click lasts 8.5 ms whatever the note-off says; half height is
    # crossed half way up the 1 ms attack (timer 0: 256 steps of 4 us).
    loud = np.flatnonzero(np.abs(x[:, 0]) > 0.5 * np.abs(x[:, 0]).max())
    expected_s = 256 / (30_200 * 4095 / 4096) - 0.5 * 256 * hw.envelope_step_s(0)
    assert (loud[-1] - loud[0]) / RATE_HZ == pytest.approx(expected_s, abs=0.0002)


def test_note_off_ends_the_oldest_instance_of_a_repeated_key() -> None:
    x, engine = run([(0, on(60)), (1000, on(60)), (2000, off(60))], 10000)
    assert engine.n_sounding == 1


def test_profiles_set_the_number_of_cards() -> None:
    assert Engine(model="iix", voices=Programs()).n_cards == 8
    assert Engine(model="iii", voices=Programs()).n_cards == 16
    assert Engine(model="iix", n_voices=3, voices=Programs()).n_cards == 3
    with pytest.raises(ValueError, match="unknown model"):
        Engine(model="iiz", voices=Programs())


def test_a_fourth_note_on_three_voices_steals_one() -> None:
    _, engine = run([(0, on(60)), (0, on(64)), (0, on(67)), (100, on(71))], 2000, n_voices=3)
    assert engine.notes_stolen == 1
    assert engine.n_sounding == 3


def test_a_stolen_notes_fade_starts_on_the_frame_where_the_new_note_sounds() -> None:
    steal_at = 2000
    n_frames = 4000
    alone, _ = run([(0, on(60))], n_frames, n_voices=1)
    both, engine = run([(0, on(60)), (steal_at, on(67))], n_frames, n_voices=1)
    new_alone, _ = run([(steal_at, on(67))], n_frames, n_voices=1)
    assert engine.notes_stolen == 1
    stolen = (both - new_alone)[:, 0]  # what the stolen note still played
    first_new = int(np.nonzero(np.abs(new_alone[:, 0]) > 1e-6)[0][0])
    assert steal_at - blep_half_taps() <= first_new <= steal_at  # its step at steal_at
    differs = np.nonzero(np.abs(stolen - alone[:, 0]) > 1e-7)[0]
    assert steal_at <= differs[0] <= steal_at + 1  # full level until the new note sounds, then the fade
    fade_frames = round(0.004 * RATE_HZ)
    assert np.abs(stolen[steal_at + fade_frames + 1:]).max() < 1e-7  # gone 4 ms after it
    halfway = steal_at + fade_frames // 2
    assert np.abs(stolen[halfway - 2:halfway + 2]).max() > 0  # still sounding halfway through


def blep_half_taps() -> int:
    from synth import blep

    return blep.HALF_TAPS
