"""The factory voices played through the engine: in tune across their range, no DC, no click, silent after release."""

import math

import mido
import numpy as np
import pytest
from scipy.signal.windows import blackmanharris

from synth import hardware as hw
from synth.engine import Engine
from synth.library.builtin import builtin_voices
from synth.units import midi_to_hz, ratio_to_cents
from voicesets import OneMelodicSound

RATE_HZ = 44_100
VOICES = builtin_voices()
PITCHED = [n for n, v in VOICES.items() if v.meta["pitched"]]
LOOPED = [n for n, v in VOICES.items() if v.looped]
# The longest a test holds a note, and waits for its release to fall silent.
MAX_HOLD_S = 3.0
MAX_TAIL_S = 4.0


def keys(name: str) -> tuple[int, int, int]:
    """Lowest, middle (the root of a sample) and highest note of a voice's range."""
    v = VOICES[name]
    low, high = v.meta["range"]
    return low, v.root_key if v.mode == 4 and low <= v.root_key <= high else (low + high) // 2, high


def card_rate_hz(v, note: int) -> float:
    return v.recording_rate_hz * 2 ** ((note - v.root_key) / 12) if v.mode == 4 else 128 * midi_to_hz(note)


def loop_reached_s(v, note: int) -> float:
    """When a Mode 4 note first reaches its loop end (its sustained sound is playing from then on)."""
    if v.mode == 1 or not v.looped:
        return 0.0
    return (v.loop_end_segment + 1) * hw.SEGMENT_SAMPLES / card_rate_hz(v, note)


def play(v, note: int, hold_s: float) -> tuple[np.ndarray, np.ndarray, Engine]:
    """(held part, release part, engine): the left channel, aligned so the note starts at frame 0."""
    engine = Engine(rate_hz=RATE_HZ, voices=OneMelodicSound(v))
    engine.handle(mido.Message("note_on", note=note, velocity=127))
    held = engine.render(int(hold_s * RATE_HZ) + engine.latency_frames)[engine.latency_frames :, 0].astype(float)
    engine.handle(mido.Message("note_off", note=note))
    tail = []
    for _ in range(int(MAX_TAIL_S * 10)):
        tail.append(engine.render(RATE_HZ // 10)[:, 0].astype(float))
        if engine.is_silent:
            break
    return held, np.concatenate(tail), engine


def centre_hz(x: np.ndarray, guess_hz: float) -> float:
    """The pitch: power-weighted mean frequency within 40 cents of guess_hz.

    For one steady tone it is the spectral peak; for a chorus of detuned players or a vibrato it
    is the centre the ear hears, where a peak would pick one player.
    """
    n_fft = 1 << max(18, math.ceil(math.log2(8 * x.size)))
    power = np.abs(np.fft.rfft(x * np.hanning(x.size), n_fft)) ** 2
    freqs = np.fft.rfftfreq(n_fft, 1.0 / RATE_HZ)
    band = (freqs > guess_hz * 2 ** (-40 / 1200)) & (freqs < guess_hz * 2 ** (40 / 1200))
    return float(np.sum(freqs[band] * power[band]) / np.sum(power[band]))


def sustained_window(v, note: int) -> tuple[float, float, float]:
    """(hold_s, from_s, to_s): how long to hold a note, and the part of it to measure."""
    # A drum head's glide is over after pitch_settled_s of the sample, sooner when played faster.
    settled_s = v.meta.get("pitch_settled_s", 0.0) * v.recording_rate_hz / card_rate_hz(v, note) + 0.05
    if v.mode == 4 and v.looped:
        reached_s = loop_reached_s(v, note)
        hold_s = min(reached_s + 0.5, MAX_HOLD_S)
        return hold_s, min(max(reached_s, settled_s), hold_s - 0.3), hold_s
    if v.mode == 4:
        end_s = v.meta["length_samples"] / card_rate_hz(v, note)
        return min(end_s, 0.5), settled_s, min(end_s, 0.5)
    return 0.5, settled_s, 0.5


@pytest.mark.parametrize("name", PITCHED)
def test_voice_is_in_tune_within_10_cents_at_the_bottom_middle_and_top_of_its_range(name):
    v = VOICES[name]
    errors = []
    for note in keys(name):
        hold_s, from_s, to_s = sustained_window(v, note)
        held, _, _ = play(v, note, hold_s)
        x = held[int(from_s * RATE_HZ) : int(to_s * RATE_HZ)]
        errors.append(ratio_to_cents(centre_hz(x, midi_to_hz(note)) / midi_to_hz(note)))
    assert max(abs(e) for e in errors) < 10.0, f"cents off at {keys(name)}: {np.round(errors, 1)}"


@pytest.mark.parametrize("name", LOOPED)
def test_held_note_has_no_dc(name):
    # The loop plays for as long as the key is held: a DC offset there would stand as long.
    v = VOICES[name]
    note = keys(name)[1]
    hold_s, from_s, to_s = sustained_window(v, note)
    held, _, _ = play(v, note, max(hold_s, 1.0))
    x = held[int(from_s * RATE_HZ) :]
    w = blackmanharris(x.size)
    dc = abs(np.sum(x * w) / np.sum(w))
    assert 20 * np.log10(dc / np.max(np.abs(held)) + 1e-15) < -60


@pytest.mark.parametrize("name", VOICES)
def test_note_starts_without_a_click(name):
    # A click is a step at the start larger than anything the sound does next: the first
    # millisecond may step at most 1.5 times as far as the largest step of the following 60 ms
    # (the sharpest attacks, a rim shot and a bass drum, reach 1.24 and 1.1).
    v = VOICES[name]
    for note in keys(name):
        held, _, _ = play(v, note, 0.061)
        step = np.abs(np.diff(held))
        first = int(0.001 * RATE_HZ)
        assert step[:first].max() <= 1.5 * step[first:].max(), f"note {note}"


@pytest.mark.parametrize("name", VOICES)
def test_release_falls_to_digital_silence(name):
    v = VOICES[name]
    held, tail, engine = play(v, keys(name)[1], 0.3)
    assert engine.is_silent
    assert np.max(np.abs(held)) > 0.01
    assert not np.any(tail[-64:])


def test_a_sample_played_far_from_its_root_keeps_its_images_but_no_host_rate_folding():
    # The CMI character (images of a transposed sample) stays: the orchestra hit two octaves down
    # still reaches above the sample's own top, which a resampling player would have cut.
    v = VOICES["orchestra-hit"]
    held, _, _ = play(v, v.root_key - 24, 0.4)
    power = np.abs(np.fft.rfft(held * np.hanning(held.size))) ** 2
    freqs = np.fft.rfftfreq(held.size, 1.0 / RATE_HZ)
    nyquist_of_sample_hz = card_rate_hz(v, v.root_key - 24) / 2
    above = power[freqs > 1.1 * nyquist_of_sample_hz].sum() / power.sum()
    assert 10 * np.log10(above) > -60
