"""Tests for synth.app.sources and the built-in demo piece it serves."""

from __future__ import annotations

import io
import os

import mido
import pytest

from synth.demo import demo_midi
from synth.app.sources import SourceError, builtin_names, open_source


def _note_events(midi: mido.MidiFile) -> list[tuple[int, bool, int, int]]:
    """(absolute tick, is_on, channel, note), note-offs before note-ons at equal ticks."""
    events = []
    for track in midi.tracks:
        tick = 0
        for message in track:
            tick += message.time
            if message.type == "note_on" and message.velocity > 0:
                events.append((tick, True, message.channel, message.note))
            elif message.type in ("note_on", "note_off"):
                events.append((tick, False, message.channel, message.note))
    return sorted(events, key=lambda e: (e[0], e[1]))


def _peak_polyphony(midi: mido.MidiFile) -> tuple[int, int]:
    """Largest number of keys held at once, and the number still held at the end."""
    held: dict[tuple[int, int], int] = {}
    peak = 0
    for _, is_on, channel, note in _note_events(midi):
        key = (channel, note)
        held[key] = held.get(key, 0) + (1 if is_on else -1)
        assert held[key] >= 0, f"note-off without a note-on: channel {channel} note {note}"
        peak = max(peak, sum(held.values()))
    return peak, sum(held.values())


def _file_bytes(midi: mido.MidiFile) -> bytes:
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def test_demo_never_holds_more_than_eight_keys_at_once():
    peak, still_held = _peak_polyphony(demo_midi())
    assert 4 <= peak <= 8
    assert still_held == 0


def test_demo_lasts_between_30_and_40_seconds():
    assert 30.0 <= demo_midi().length <= 40.0


def test_demo_is_type_1_at_480_ticks_per_beat_titled_liquidsky_demo():
    midi = demo_midi()
    assert midi.type == 1
    assert midi.ticks_per_beat == 480
    assert midi.tracks[0].name == "liquidsky demo"
    assert len(midi.tracks) >= 4


def test_demo_bytes_are_identical_on_every_call():
    first, second = _file_bytes(demo_midi()), _file_bytes(demo_midi())
    assert len(first) > 1000
    assert first == second


def test_demo_bells_open_with_the_d_f_e_ground_on_tubular_bells():
    midi = demo_midi()
    bells = [m for track in midi.tracks for m in track if getattr(m, "channel", None) == 0]
    programs = [m.program for m in bells if m.type == "program_change"]
    keys = [m.note for m in bells if m.type == "note_on" and m.velocity > 0]
    assert programs == [14]
    assert keys[:12] == [62, 65, 64] * 4


def test_demo_sets_volume_and_pan_on_every_channel_that_plays():
    midi = demo_midi()
    playing = {channel for _, is_on, channel, _ in _note_events(midi) if is_on}
    assert playing == {0, 1, 2, 9}
    for channel in playing:
        controls = {
            m.control for t in midi.tracks for m in t
            if m.type == "control_change" and m.channel == channel
        }
        assert {7, 10} <= controls, f"channel {channel} lacks volume or pan"


def test_demo_ends_with_silence_after_the_last_release():
    midi = demo_midi()
    last_off_tick = max(tick for tick, is_on, _, _ in _note_events(midi) if not is_on)
    end_tick = max(sum(m.time for m in track) for track in midi.tracks)
    assert end_tick - last_off_tick >= midi.ticks_per_beat


def test_builtin_name_opens_the_demo():
    name, midi = open_source("demo")
    assert name == "demo"
    assert _file_bytes(midi) == _file_bytes(demo_midi())
    assert builtin_names() == ["demo", "sonnerie", "trionfo", "laurel"]


def test_existing_path_is_read_as_a_midi_file(tmp_path):
    path = tmp_path / "piece.mid"
    path.write_bytes(_file_bytes(demo_midi()))
    name, midi = open_source(str(path))
    assert name == "piece.mid"
    assert len(midi.tracks) == len(demo_midi().tracks)
    assert _peak_polyphony(midi) == _peak_polyphony(demo_midi())


def test_unknown_name_raises_a_one_line_error_listing_the_builtins_and_scores(tmp_path):
    missing = str(tmp_path / "nope.mid")
    with pytest.raises(SourceError) as caught:
        open_source(missing)
    assert str(caught.value) == (f"no such file, built-in piece or score: {missing!r} "
                                 "(built-in: demo, sonnerie, trionfo, laurel)")
    assert isinstance(caught.value, ValueError)


def test_directory_is_refused_by_name(tmp_path):
    with pytest.raises(SourceError, match="is a directory"):
        open_source(str(tmp_path))


def test_a_style_is_fitted_to_the_cards_of_the_model_or_the_voices_asked_for():
    from synth.app.sources import cards_of

    assert (cards_of("iix"), cards_of("iii"), cards_of("iii", 6)) == (8, 16, 6)

    def notes(midi: mido.MidiFile) -> int:
        return sum(m.type == "note_on" and m.velocity > 0 for track in midi.tracks for m in track)

    # the nightmare Trionfo would need far more than eight cards: fitted to sixteen it keeps more notes
    assert notes(open_source("trionfo", "nightmare", voices=16)[1]) > notes(open_source("trionfo", "nightmare")[1])


@pytest.mark.parametrize("front", ["api", "batch"])
def test_every_front_arranges_for_the_cards_its_render_has(front, monkeypatch, tmp_path):
    import synth.app.api as api
    import synth.app.batch as batch

    asked = []
    module = api if front == "api" else batch
    real = module.open_source
    monkeypatch.setattr(module, "open_source", lambda *a, **k: asked.append(k.get("voices")) or real(*a, **k))
    if front == "api":
        api.render("demo", rate_hz=8000, model="iii", style="ominous")
        api.render("demo", rate_hz=8000, model="iii", n_voices=5, style="ominous")
    else:
        for i, options in enumerate(({"model": "iii"}, {"model": "iii", "n_voices": 5})):
            job = batch.Job(i, "demo", os.fspath(tmp_path / f"{i}.wav"), {"rate_hz": 8000, **options}, style="ominous")
            assert batch.run_job(job).ok
    assert asked == [16, 5]
