"""The Python API as a numpy or soundfile user meets it: new arrays, out=, sources of every kind, blocks."""

from __future__ import annotations

import doctest
import importlib
import os
import re
import subprocess
import sys

import mido
import numpy as np
import pytest

import synth
from synth.engine import Engine

RATE_HZ = 8000


def _tune(seconds: float = 0.25) -> mido.MidiFile:
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    for note in (60, 64, 67):
        track.append(mido.Message("note_on", note=note, velocity=100, time=0))
        track.append(mido.Message("note_off", note=note, time=int(seconds * 960)))
    return midi


def _playing_engine() -> Engine:
    engine = Engine(rate_hz=RATE_HZ)
    engine.handle(mido.Message("note_on", note=69, velocity=100))
    return engine


def test_engine_render_returns_a_new_array_that_the_next_call_leaves_alone():
    engine = _playing_engine()
    a = engine.render(800)
    kept = a.copy()
    b = engine.render(800)
    assert a is not b and not np.shares_memory(a, b)
    assert np.array_equal(a, kept)
    assert np.abs(a - b).max() > 0.01  # a sounding note: two different stretches of it


def test_engine_render_into_out_gives_the_same_samples_and_returns_the_buffer():
    fresh = _playing_engine().render(500)
    engine = _playing_engine()
    buffer = np.full((500, 2), 7.0, dtype=np.float32)
    assert engine.render(500, out=buffer) is buffer
    assert np.array_equal(buffer, fresh)


@pytest.mark.parametrize(("out", "error", "words"), [
    (np.zeros((100, 2), dtype=np.float64), TypeError, "float32"),
    (np.zeros((99, 2), dtype=np.float32), ValueError, "shape (100, 2)"),
    (np.zeros((100, 1), dtype=np.float32), ValueError, "shape (100, 2)"),
    (np.zeros((2, 100), dtype=np.float32).T, ValueError, "C-contiguous"),
    ([[0.0, 0.0]] * 100, TypeError, "numpy array"),
])
def test_engine_render_refuses_an_out_it_cannot_write_into(out, error, words):
    with pytest.raises(error, match=re.escape(words)):
        _playing_engine().render(100, out=out)


def test_engine_render_refuses_a_frame_count_that_is_not_a_whole_number():
    with pytest.raises(TypeError, match="whole number"):
        Engine(rate_hz=RATE_HZ).render(100.0)
    with pytest.raises(ValueError, match="0 or more"):
        Engine(rate_hz=RATE_HZ).render(-1)


def test_render_says_its_rate_and_unpacks_like_soundfile_read():
    result = synth.render(_tune(), rate_hz=RATE_HZ)
    audio, rate_hz = result
    assert rate_hz == result.rate_hz == RATE_HZ
    assert audio is result.audio and audio.dtype == np.float32 and audio.shape[1] == 2
    # three notes of a quarter second each, then the release: at least 0.75 s of audio
    assert 0.75 * RATE_HZ < len(audio) < 2.0 * RATE_HZ


def test_a_path_bytes_a_midifile_and_a_prettymidi_render_alike(tmp_path):
    midi = _tune()
    path = tmp_path / "tune.mid"
    midi.save(path)
    reference = synth.render(midi, rate_hz=RATE_HZ).audio
    assert np.array_equal(synth.render(path, rate_hz=RATE_HZ).audio, reference)
    assert np.array_equal(synth.render(os.fspath(path), rate_hz=RATE_HZ).audio, reference)
    assert np.array_equal(synth.render(path.read_bytes(), rate_hz=RATE_HZ).audio, reference)
    pretty_midi = pytest.importorskip("pretty_midi")
    pm = pretty_midi.PrettyMIDI(os.fspath(path))
    from_pm = synth.render(pm, rate_hz=RATE_HZ).audio
    # pretty_midi writes its own tempo and resolution: the notes land on the same frames to within one
    assert abs(len(from_pm) - len(reference)) <= 2
    n = min(len(from_pm), len(reference))
    assert np.corrcoef(from_pm[:n, 0], reference[:n, 0])[0, 1] > 0.99


def test_rendering_never_imports_pretty_midi_when_it_is_not_given():
    code = ("import sys, synth; synth.render('demo', rate_hz=8000); "
            "print('pretty_midi' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_render_refuses_a_source_of_another_kind_naming_what_it_takes():
    with pytest.raises(TypeError, match="a path, bytes, a mido.MidiFile, a pretty_midi.PrettyMIDI.*not list"):
        synth.render([1, 2, 3])
    with pytest.raises(ValueError, match="rate_hz must be 1000-384000, not 10$"):
        synth.render("demo", rate_hz=10)
    with pytest.raises(ValueError, match="rate_hz must be 1000-384000, not 0$"):
        Engine(rate_hz=0)
    with pytest.raises(TypeError, match="rate_hz must be a whole number of Hz, not str"):
        Engine(rate_hz="44100")
    assert Engine(rate_hz=48000.0).rate_hz == 48000  # an audio device's rate, as sounddevice reports it


def test_stream_blocks_join_to_exactly_the_whole_render_whatever_their_size():
    whole = synth.render("demo", rate_hz=RATE_HZ).audio
    for block_frames in (37, 4096):
        blocks = list(synth.stream("demo", rate_hz=RATE_HZ, block_frames=block_frames))
        assert max(len(b) for b in blocks) == block_frames
        assert all(b.dtype == np.float32 and b.shape[1] == 2 for b in blocks)
        assert np.array_equal(np.concatenate(blocks), whole)


def test_render_file_writes_what_render_returns(tmp_path):
    import soundfile as sf

    report = synth.render_file(_tune(), tmp_path / "tune.wav", rate_hz=RATE_HZ, bits=24)
    written, rate_hz = sf.read(tmp_path / "tune.wav", dtype="float32")
    audio = synth.render(_tune(), rate_hz=RATE_HZ).audio
    assert rate_hz == RATE_HZ and report.n_frames == len(written) == len(audio)
    assert np.abs(written - audio).max() <= 1 / 2**23


@pytest.mark.parametrize("module", ["synth.app.api", "synth.engine", "synth.app.jobs", "synth.app.manifest",
                                    "synth.app.outputs", "synth.app.cluster"])
def test_the_docstring_examples_of_the_public_modules_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0



SONG = '''\
title = "Two bars (original)"
bpm = 240
grid = "1/8"
metre = "4/4"
song = "1x2"
[registers]
A = { voice = "flute", channel = 1 }
[patterns.1]
A = "C4 D4 E4 F4 | G4 - . ."
'''


def test_a_page_r_song_renders_as_its_sequence_with_its_register_voices(tmp_path):
    from synth.catalog import voice_set
    from synth.pager import load_song, song_to_midi

    path = tmp_path / "song.toml"
    path.write_text(SONG)
    audio, rate_hz = synth.render(path, rate_hz=RATE_HZ)
    midi = song_to_midi(load_song(path))
    with_flute = synth.render(midi, rate_hz=RATE_HZ, voices=voice_set(channel_voices={0: "flute"})).audio
    with_glass = synth.render(midi, rate_hz=RATE_HZ, voices=voice_set(channel_voices={0: "glass"})).audio
    assert rate_hz == RATE_HZ
    assert np.array_equal(audio, with_flute)
    n = min(len(audio), len(with_glass))
    assert np.abs(audio[:n] - with_glass[:n]).max() > 0.01  # the register's flute, not another voice
    # two bars of 4/4 at 240 BPM, the last note held to the end of the sixth eighth: 1.75 s, then the release
    assert 1.75 * RATE_HZ < len(audio) < 3.0 * RATE_HZ
    blocks = list(synth.stream(os.fspath(path), rate_hz=RATE_HZ, block_frames=777))
    assert np.array_equal(np.concatenate(blocks), audio)
