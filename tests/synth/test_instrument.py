"""Instruments: key splits over voices, each note on one card clocked from its own voice's root."""

from __future__ import annotations

import os

import mido
import numpy as np
import pytest

from synth.app.cli.main import main
from synth.engine import Engine
from synth.gm import default_voice_set
from synth.instrument import Instrument, InstrumentError, KeySplit, load_instrument
from synth import catalog
from synth.units import midi_to_hz, ratio_to_cents
from synth.voice import Voice, single_cycle_voice
from synth.voicefile import save_voice
from voicesets import OneMelodicSound

RATE_HZ = 44100
PHASE = np.arange(128) / 128


def sine(name: str, root_key: int, harmonic: int = 1) -> Voice:
    return single_cycle_voice(name, np.sin(2 * np.pi * harmonic * PHASE)[None, :], root_key=root_key,
                              loop_start_segment=0, loop_end_segment=0)


LOW = sine("low", root_key=48)
MIDDLE = sine("middle", root_key=60, harmonic=2)
HIGH = sine("high", root_key=84, harmonic=3)
THREE = Instrument("three", (KeySplit(21, 54, LOW), KeySplit(55, 76, MIDDLE), KeySplit(80, 108, HIGH)))


def render_key(sound, key: int, n_frames: int = RATE_HZ // 2) -> np.ndarray:
    engine = Engine(rate_hz=RATE_HZ, voices=OneMelodicSound(sound))
    engine.handle(mido.Message("note_on", note=key, velocity=100))
    return engine.render(n_frames)[:, 0].astype(np.float64)


def pitch_hz(x: np.ndarray) -> float:
    x = x[len(x) // 4:]
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)), 16 * len(x)))
    k = int(np.argmax(spectrum))
    a, b, c = np.log(spectrum[k - 1:k + 2] + 1e-30)
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * RATE_HZ / (16 * len(x))


def test_each_key_plays_the_voice_of_its_split():
    assert [THREE.voice_for_key(k).name for k in (21, 54, 55, 76, 80, 108)] == [
        "low", "low", "middle", "middle", "high", "high"]


def test_a_key_outside_every_split_plays_the_nearest_split():
    assert THREE.voice_for_key(0).name == "low"  # below the lowest
    assert THREE.voice_for_key(127).name == "high"  # above the highest
    assert THREE.voice_for_key(77).name == "middle"  # in the gap 77-79: one from the middle split
    assert THREE.voice_for_key(79).name == "high"  # one from the high split
    assert Instrument("gap", (KeySplit(0, 10, LOW), KeySplit(14, 20, HIGH))).voice_for_key(12).name == "low"  # a tie


@pytest.mark.parametrize("splits, message", [
    ((KeySplit(21, 60, LOW), KeySplit(60, 80, HIGH)), "overlaps"),
    ((KeySplit(61, 80, HIGH), KeySplit(21, 60, LOW)), "overlaps or comes before"),
    ((), "no splits"),
])
def test_splits_that_overlap_or_are_out_of_order_are_refused(splits, message):
    with pytest.raises(InstrumentError, match=message):
        Instrument("bad", splits)


def test_a_split_outside_the_keys_or_upside_down_is_refused():
    with pytest.raises(InstrumentError, match="outside 0-127"):
        KeySplit(0, 128, LOW)
    with pytest.raises(InstrumentError, match="low key C5 is above high key C4"):
        KeySplit(72, 60, LOW)


@pytest.mark.parametrize("key, voice", [(36, LOW), (60, MIDDLE), (96, HIGH), (10, LOW)])
def test_a_note_sounds_exactly_as_its_splits_voice_alone(key, voice):
    assert np.array_equal(render_key(THREE, key), render_key(voice, key))


@pytest.mark.parametrize("key, harmonic", [(36, 1), (60, 2), (67, 2), (96, 3)])
def test_each_split_is_clocked_from_its_own_voices_root(key, harmonic):
    # the split's voice plays `key` in tune from its own root: its harmonic sounds at harmonic x f(key)
    measured = pitch_hz(render_key(THREE, key))
    assert abs(ratio_to_cents(measured / (harmonic * midi_to_hz(key)))) < 2.0


def test_an_instrument_file_names_voices_by_name_or_by_a_path_beside_it(tmp_path):
    save_voice(HIGH, tmp_path / "bright.cmv")
    path = tmp_path / "mine.toml"
    path.write_text('description = "two samples"\n'
                    '[[split]]\nvoice = "sine"\nlow = "A0"\nhigh = 58\n'
                    '[[split]]\nvoice = "bright.cmv"\nlow = "B3"\nhigh = "C8"\n')
    instrument = load_instrument(path, catalog.find_voice)
    assert instrument.name == "mine" and instrument.description == "two samples"
    assert [(s.low_key, s.high_key) for s in instrument.splits] == [(21, 58), (59, 108)]
    assert instrument.splits[0].voice is catalog.find_voice("sine")
    assert np.array_equal(instrument.splits[1].voice.wave, HIGH.wave)
    assert isinstance(catalog.find_voice(os.fspath(path)), Instrument)  # a path works as a name


def test_an_instrument_files_mistakes_name_the_file_the_split_and_the_field(tmp_path):
    path = tmp_path / "bad.toml"
    cases = {
        '[[split]]\nvoice = "sine"\nlow = "H2"\nhigh = 60\n': "split 1: low: 'H2' is not a key",
        '[[split]]\nvoice = "sine"\nlow = 0\n': "split 1: high is missing",
        '[[split]]\nvoice = "sinne"\nlow = 0\nhigh = 60\n': "split 1: unknown voice 'sinne'",
        '[[split]]\nvoice = "sine"\nlow = 0\nhigh = 60\n[[split]]\nvoice = "sine"\nlow = 60\nhigh = 70\n': "overlaps",
        '[[split]]\nvoice = "sine"\nlow = 0\nhigh = 60\nvelocity = 3\n': "split 1: unknown field 'velocity'",
        'splits = 3\n': "unknown field 'splits'",
        'description = "none"\n': "needs at least one [[split]]",
    }
    for text, message in cases.items():
        path.write_text(text)
        with pytest.raises(ValueError) as caught:  # InstrumentError, or the catalog's for a voice name
            load_instrument(path, catalog.find_voice)
        assert str(caught.value).startswith(str(path)) and message in str(caught.value), text


def test_a_bad_instrument_on_the_command_line_is_one_line_and_status_2(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('[[split]]\nvoice = "sine"\nlow = 70\nhigh = 60\n')
    out = tmp_path / "x.wav"
    assert main(["render", "demo", "-o", os.fspath(out), "--voice", os.fspath(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "low key A#4 is above high key C4" in err and "Traceback" not in err
    assert not out.exists()


def test_the_factory_piano_is_split_across_three_samples_and_plays_program_1():
    piano = catalog.find_voice("grand-piano-split")
    assert isinstance(piano, Instrument)
    assert [piano.voice_for_key(k).name for k in (21, 36, 60, 84, 108)] == [
        "grand-piano-low", "grand-piano-low", "grand-piano", "grand-piano-high", "grand-piano-high"]
    assert [s.voice.root_key for s in piano.splits] == [36, 60, 84]  # each recorded near its split's middle
    assert all(s.low_key <= s.voice.root_key <= s.high_key for s in piano.splits)
    assert default_voice_set().melodic(0) is piano


def test_an_instrument_is_a_voice_name_for_voice_and_channel_options():
    voices = catalog.voice_set(channel_voices={2: "choir"})
    assert isinstance(voices.melodic(0, channel=2), Instrument)
    assert catalog.voice_set(voice="string-section").melodic(5, channel=0).name == "string-section"


def test_voice_info_shows_an_instruments_splits_and_roots(capsys):
    assert main(["voice", "info", "grand-piano-split"]) == 0
    out = capsys.readouterr().out
    assert "an instrument of 3 key splits" in out
    assert "A0-F#3  grand-piano-low (root C2" in out and "F5-C8   grand-piano-high (root C6" in out
    assert "General MIDI: programs 1" in out


def test_voice_export_of_an_instrument_says_to_take_one_of_its_voices(tmp_path, capsys):
    assert main(["voice", "export", "choir", "-o", os.fspath(tmp_path / "c.wav")]) == 2
    err = capsys.readouterr().err.strip()
    assert "'choir' is an instrument of 3 splits" in err and len(err.splitlines()) == 1


def test_the_readme_instrument_example_reads_as_documented(tmp_path):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    text = next(block.split("```", 1)[0] for block in readme.split("```toml\n")[1:] if "[[split]]" in block)
    path = tmp_path / "piano.toml"
    path.write_text(text)
    piano = load_instrument(path, catalog.find_voice)
    assert [(s.voice.name, s.low_key, s.high_key) for s in piano.splits] == [
        ("grand-piano-low", 21, 54), ("grand-piano", 55, 108)]
