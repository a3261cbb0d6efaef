"""The offline render loop, against a small deterministic stand-in engine, then the real one."""

from __future__ import annotations

import importlib.util
import os
from typing import NamedTuple

import mido
import numpy as np
import pytest
import soundfile as sf

from synth.offline import (
    TAIL_GRID_FRAMES,
    TAIL_LIMIT_S,
    RenderError,
    TooLongError,
    render_events,
)

RATE_HZ = 8000
RELEASE_FRAMES = 100


class Event(NamedTuple):  # the shape of synth.midifile.TimedEvent
    frame: int
    track: int
    message: mido.Message


def on(frame: int, note: int, channel: int = 0, track: int = 0) -> Event:
    return Event(frame, track, mido.Message("note_on", channel=channel, note=note, velocity=100))


def off(frame: int, note: int, channel: int = 0, track: int = 0) -> Event:
    return Event(frame, track, mido.Message("note_off", channel=channel, note=note))


def pedal(frame: int, value: int, channel: int = 0) -> Event:
    return Event(frame, 0, mido.Message("control_change", channel=channel, control=64, value=value))


class FakeEngine:
    """A cosine per held key (1.0 at its first frame), a linear release of RELEASE_FRAMES,
    a sustain pedal, and its output delayed by latency_frames. Deterministic in absolute frames,
    so any block size gives the same samples. Card k's stem is the k-th note started, mod n_cards."""

    def __init__(self, latency_frames: int = 0, n_cards: int = 2, stems: bool = False,
                 never_silent: bool = False) -> None:
        self.rate_hz = RATE_HZ
        self.latency_frames = latency_frames
        self.n_cards = n_cards
        self.notes_stolen = 0
        self.frame = 0
        self.n_rendered = 0
        self.sounding: dict[tuple, list] = {}  # key -> [start, release frame or None, card]
        self.released: list[list] = []
        self.pedal_down = False
        self.sustained: list[tuple] = []
        self.n_started = 0
        self.never_silent = never_silent
        self._want_stems = stems
        self._delay = np.zeros((latency_frames, 2 + n_cards), dtype=np.float32)
        self._last_stems = None

    def handle(self, message, track=0):
        key = (track, getattr(message, "channel", 0), getattr(message, "note", None))
        if message.type == "note_on" and message.velocity > 0:
            self.sounding[key] = [self.frame, None, self.n_started % self.n_cards, key[2]]
            self.n_started += 1
        elif message.type in ("note_on", "note_off"):
            if key in self.sounding:
                if self.pedal_down:
                    self.sustained.append(key)
                else:
                    note = self.sounding.pop(key)
                    note[1] = self.frame
                    self.released.append(note)
        elif message.type == "control_change" and message.control == 64:
            self.pedal_down = message.value >= 64
            if not self.pedal_down:
                for k in self.sustained:
                    if k in self.sounding:
                        note = self.sounding.pop(k)
                        note[1] = self.frame
                        self.released.append(note)
                self.sustained.clear()

    def render(self, n_frames):
        t = np.arange(self.frame, self.frame + n_frames)
        dry = np.zeros((n_frames, 2 + self.n_cards), dtype=np.float32)
        for start, release, card, note in [*self.sounding.values(), *self.released]:
            freq = 100.0 + 10.0 * note
            tone = np.cos(2 * np.pi * freq * (t - start) / RATE_HZ)
            if release is None:
                gain = np.ones(n_frames)
            else:
                gain = np.clip(1.0 - (t - release) / RELEASE_FRAMES, 0.0, 1.0)
            x = (0.2 * tone * gain * (t >= start)).astype(np.float32)
            dry[:, 0] += x
            dry[:, 1] += 0.5 * x
            dry[:, 2 + card] += x
        self.frame += n_frames
        self.n_rendered += n_frames
        self.released = [r for r in self.released if r[1] + RELEASE_FRAMES > self.frame]
        both = np.concatenate([self._delay, dry])
        out, self._delay = both[:n_frames], both[n_frames:].copy()
        self._last_stems = out[:, 2:]
        return out[:, :2]

    @property
    def stems(self):
        return self._last_stems if self._want_stems else None

    @property
    def is_silent(self):
        return not self.never_silent and not self.sounding and not self.released


def render(events, engine, **options) -> tuple[np.ndarray, np.ndarray | None]:
    blocks = list(render_events(events, engine, **options))
    mix = np.concatenate([b.mix for b in blocks]) if blocks else np.zeros((0, 2), np.float32)
    stems = np.concatenate([b.stems for b in blocks]) if blocks and blocks[0].stems is not None else None
    return mix, stems


def first_sound(x: np.ndarray) -> int:
    return int(np.flatnonzero(np.abs(x[:, 0]) > 0)[0])


def last_sound(x: np.ndarray) -> int:
    return int(np.flatnonzero(np.abs(x[:, 0]) > 0)[-1])


@pytest.mark.parametrize("latency_frames", [0, 1, 37, 300])
def test_an_event_at_frame_f_sounds_at_output_frame_f_whatever_the_engine_latency(latency_frames):
    mix, _ = render([on(1000, 60), off(1500, 60)], FakeEngine(latency_frames), block_frames=256)
    assert first_sound(mix) == 1000
    assert mix[1000, 0] == pytest.approx(0.2)


@pytest.mark.parametrize("latency_frames", [0, 37])
def test_the_loop_stops_on_the_first_grid_frame_where_the_engine_is_silent(latency_frames):
    engine = FakeEngine(latency_frames)
    mix, _ = render([on(1000, 60), off(1500, 60)], engine, block_frames=4096)
    silent_from = 1500 + RELEASE_FRAMES  # 1600
    assert last_sound(mix) == silent_from - 1
    assert len(mix) == -(-silent_from // TAIL_GRID_FRAMES) * TAIL_GRID_FRAMES  # 1792
    assert engine.n_rendered == len(mix) + latency_frames  # nothing rendered past the end


def test_a_song_without_sound_renders_no_frames():
    engine = FakeEngine(latency_frames=10)
    mix, _ = render([Event(777, 0, mido.Message("program_change", program=3))], engine)
    assert len(mix) == 0


@pytest.mark.parametrize("block_frames", [37, 256, 4096])
@pytest.mark.parametrize("latency_frames", [0, 29])
def test_no_silence_is_rendered_after_the_last_sound_however_late_the_last_event(block_frames, latency_frames):
    events = [on(1000, 60), off(1500, 60), Event(50_000, 0, mido.Message("control_change", control=7, value=1))]
    mix, stems = render(events, FakeEngine(latency_frames, stems=True), block_frames=block_frames)
    silent_from = 1500 + RELEASE_FRAMES  # 1600
    assert last_sound(mix) == silent_from - 1
    assert len(mix) == -(-silent_from // TAIL_GRID_FRAMES) * TAIL_GRID_FRAMES  # 1792, as if the song ended at 1500
    assert stems.shape == (len(mix), 2)
    assert max(len(b.mix) for b in render_events(events, FakeEngine(latency_frames), block_frames=block_frames)) \
        <= block_frames


@pytest.mark.parametrize("block_frames", [37, 4096])
def test_silence_before_and_between_sounds_is_kept(block_frames):
    events = [on(3000, 60), off(3100, 60), Event(9000, 0, mido.Message("program_change", program=5)),
              on(20_000, 64), off(20_100, 64)]
    mix, stems = render(events, FakeEngine(stems=True), block_frames=block_frames)
    assert first_sound(mix) == 3000
    assert first_sound(mix[10_000:]) == 10_000
    assert len(mix) == -(-(20_100 + RELEASE_FRAMES) // TAIL_GRID_FRAMES) * TAIL_GRID_FRAMES
    assert stems.shape == (len(mix), 2) and np.allclose(stems.sum(axis=1), mix[:, 0], atol=1e-6)


def test_no_events_render_nothing():
    mix, _ = render([], FakeEngine(latency_frames=10))
    assert mix.shape == (0, 2)


def test_block_size_does_not_change_the_output():
    events = [on(0, 60), on(90, 64, channel=1), off(500, 60), pedal(600, 127), off(700, 64, channel=1),
              on(701, 67), off(702, 67), pedal(1900, 0), on(2000, 72)]  # 72 never released
    a_mix, a_stems = render(events, FakeEngine(latency_frames=29, stems=True), block_frames=37)
    b_mix, b_stems = render(events, FakeEngine(latency_frames=29, stems=True), block_frames=4096)
    assert a_mix.shape == b_mix.shape
    assert a_mix.shape[0] > 2000
    assert np.array_equal(a_mix, b_mix)
    assert np.array_equal(a_stems, b_stems)


def test_blocks_are_never_longer_than_block_frames_and_are_fresh_arrays():
    engine = FakeEngine(latency_frames=5)
    blocks = list(render_events([on(0, 60), off(1000, 60)], engine, block_frames=100))
    assert max(len(b.mix) for b in blocks) == 100
    assert len({id(b.mix) for b in blocks}) == len(blocks)
    assert all(b.mix.dtype == np.float32 and b.mix.shape[1] == 2 for b in blocks)


def test_stems_are_delayed_like_the_mix_and_add_up_to_its_left_channel():
    events = [on(100, 60), on(200, 62), off(400, 60), off(500, 62)]
    mix, stems = render(events, FakeEngine(latency_frames=13, n_cards=2, stems=True), block_frames=64)
    assert stems.shape == (len(mix), 2)
    assert first_sound(stems[:, :1]) == 100
    assert first_sound(stems[:, 1:]) == 200
    assert np.allclose(stems.sum(axis=1), mix[:, 0], atol=1e-6)


def test_a_note_left_held_is_released_at_the_song_end():
    engine = FakeEngine()
    mix, _ = render([on(100, 60), on(200, 62), off(300, 62)], engine, end_frame=1000)
    assert last_sound(mix) == 1000 + RELEASE_FRAMES - 1
    assert not engine.sounding


def test_a_pedal_left_down_is_lifted_at_the_last_event():
    engine = FakeEngine()
    mix, _ = render([pedal(0, 127), on(100, 60), off(300, 60)], engine)
    assert last_sound(mix) == 300 + RELEASE_FRAMES - 1
    assert not engine.pedal_down


def test_a_note_that_never_falls_silent_is_cut_by_the_tail_limit():
    engine = FakeEngine(never_silent=True)
    mix, _ = render([on(0, 60), off(10, 60)], engine, block_frames=8192)
    assert len(mix) == 10 + round(TAIL_LIMIT_S * RATE_HZ)


def test_a_song_past_max_frames_is_refused_before_rendering():
    engine = FakeEngine()
    with pytest.raises(TooLongError) as info:
        render_events([on(0, 60), off(RATE_HZ * 7200, 60)], engine, max_frames=RATE_HZ * 3600)
    assert isinstance(info.value, RenderError) and isinstance(info.value, ValueError)
    assert "2.0 hours of audio exceeds the limit of 1.0 hours" in str(info.value)
    assert engine.n_rendered == 0


def test_progress_reports_frames_done_up_to_the_total():
    calls = []
    mix, _ = render([on(0, 60), off(1000, 60)], FakeEngine(latency_frames=7), block_frames=128,
                    on_block=lambda done, estimated: calls.append((done, estimated)))
    dones = [d for d, _ in calls]
    assert dones == sorted(dones)
    assert calls[-1] == (len(mix), len(mix))
    assert all(d <= e for d, e in calls)


# --- the real engine ------------------------------------------------------------------------------

needs_engine = pytest.mark.skipif(
    importlib.util.find_spec("synth.engine") is None or importlib.util.find_spec("synth.midifile") is None,
    reason="synth.engine and synth.midifile not written yet",
)


def _short_song() -> mido.MidiFile:
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.Message("note_on", note=69, velocity=100, time=0))
    track.append(mido.Message("note_on", note=69, velocity=0, time=240))  # 0.25 s at 120 BPM
    return midi


@needs_engine
def test_the_real_engine_renders_a_note_from_its_frame_and_stops_after_its_release():
    from synth.offline import render_to_array

    x = render_to_array(_short_song(), rate_hz=22050)
    assert x.dtype == np.float32 and x.shape[1] == 2
    assert first_sound(x) < 4  # the note starts at frame 0 (a ramp may make the first samples tiny)
    assert len(x) > 0.25 * 22050
    assert len(x) < 0.25 * 22050 + TAIL_LIMIT_S * 22050
    assert len(x) % TAIL_GRID_FRAMES == 0


@needs_engine
def test_render_to_file_writes_the_mix_and_one_stem_per_card(tmp_path):
    from synth.offline import render_to_array, render_to_file

    out = tmp_path / "song.wav"
    report = render_to_file(_short_song(), out, rate_hz=22050, n_voices=3, stems_dir=tmp_path / "stems")
    data, rate = sf.read(out, dtype="float32")
    assert rate == 22050
    assert data.shape == (report.n_frames, 2)
    expected = render_to_array(_short_song(), rate_hz=22050, n_voices=3)
    assert np.max(np.abs(data - expected)) <= 1.0 / 32768 + 1e-9
    assert sorted(os.listdir(tmp_path / "stems")) == ["card-1.wav", "card-2.wav", "card-3.wav"]
    assert [p.name for p in report.stem_paths] == ["card-1.wav", "card-2.wav", "card-3.wav"]
    assert sf.info(report.stem_paths[0]).channels == 1
    assert sf.info(report.stem_paths[0]).frames == report.n_frames
    assert report.duration_s == pytest.approx(report.n_frames / 22050)
    assert sorted(os.listdir(tmp_path)) == ["song.wav", "stems"]


def _busy_song(seconds: float) -> mido.MidiFile:
    """Four channels, each striking a note every 125 ms (32 notes a second), for `seconds`."""
    midi = mido.MidiFile(ticks_per_beat=480)  # 120 BPM: 960 ticks a second
    for channel in range(4):
        track = mido.MidiTrack()
        midi.tracks.append(track)
        for k in range(int(seconds * 8)):
            note = 48 + (k * 7 + channel * 5) % 24
            track.append(mido.Message("note_on", channel=channel, note=note, velocity=90, time=0 if k == 0 else 10))
            track.append(mido.Message("note_off", channel=channel, note=note, time=110))
    return midi


@needs_engine
def test_the_memory_a_render_takes_does_not_grow_with_the_song_length(tmp_path):
    import tracemalloc

    from synth.offline import render_to_file

    def peak_bytes(seconds: float) -> int:
        midi = _busy_song(seconds)  # made before measuring: the file itself is the input, not the render's
        out = tmp_path / f"{seconds}"
        out.mkdir()
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            # normalising and stems: both go through staged files, not through memory
            render_to_file(midi, out / "mix.wav", rate_hz=8000, normalize_dbfs=-1.0, stems_dir=out / "stems")
            return tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()

    peak_bytes(1.0)  # loads the voices and the compiled kernel
    short, long = peak_bytes(8.0), peak_bytes(32.0)
    # Four times the song (1,024 more notes, about 0.5 MB as a list of events) adds next to nothing.
    assert long - short < 200_000, (short, long)
