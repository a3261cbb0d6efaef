"""The real-time player: the ring, the callback, the render thread, and playing through a JACK server."""

from __future__ import annotations

import os
import threading
import time

import mido
import numpy as np
import pytest
import soundfile as sf
from jack_tools import JACK_PERIOD_FRAMES, JACK_RATE_HZ, jack_device, jack_server, sd_jack  # noqa: F401  (fixtures)

from synth import live
from synth.engine import Engine
from synth.midifile import timed_events
from synth.offline import render_to_array, song_end_frame
from synth.sinks import AudioFileWriter

RATE_HZ = JACK_RATE_HZ
BLOCK = 256
LSB_16 = 1.0 / 32768.0


def _tune(notes=((0.0, 69, 0.3), (0.35, 76, 0.3)), program: int = 0) -> mido.MidiFile:
    """Notes (start s, key, length s) at 120 BPM (960 ticks a second)."""
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    timeline = []
    for start_s, key, length_s in notes:
        timeline.append((round(start_s * 960), 1, key))
        timeline.append((round((start_s + length_s) * 960), 0, key))
    track.append(mido.Message("program_change", program=program, time=0))
    now = 0
    for tick, on, key in sorted(timeline):
        kind = "note_on" if on else "note_off"
        track.append(mido.Message(kind, note=key, velocity=100 if on else 0, time=tick - now))
        now = tick
    return midi


def _file_player(midi, recorder=None, ring_blocks=live.RING_BLOCKS_PLAY) -> live.Player:
    engine = Engine(rate_hz=RATE_HZ)
    feed = live.FileFeed(timed_events(midi, RATE_HZ), engine, BLOCK, song_end_frame(midi, RATE_HZ))
    return live.Player(feed, rate_hz=RATE_HZ, block_frames=BLOCK, ring_blocks=ring_blocks, recorder=recorder)


def _drive(player: live.Player, max_blocks: int = 100_000) -> np.ndarray:
    """Run the callback's code as a sound card would, waiting for each block; returns what it put out."""
    out = np.zeros((BLOCK, 2), dtype=np.float32)
    played = []
    for _ in range(max_blocks):
        if player.drained:
            break
        deadline = time.monotonic() + 10
        while player.ring.n_ready == 0 and not player.feed_done and time.monotonic() < deadline:
            time.sleep(0.0005)
        player.ring.consume(out)
        played.append(out.copy())
    return np.concatenate(played)


# --- the ring and the inbox ---------------------------------------------------------------------------


def test_ring_hands_blocks_over_in_order_and_plays_silence_when_empty():
    ring = live.BlockRing(3, 4)
    out = np.full((4, 2), 9.0, dtype=np.float32)
    ring.consume(out)
    assert not out.any() and ring.c.empty_blocks == 1  # nothing ready: silence, one underrun
    for value in (1.0, 2.0, 3.0):
        ring.next_free()[:] = value
        ring.publish()
    assert ring.n_free == 0 and ring.n_ready == 3
    with pytest.raises(RuntimeError, match="full ring"):
        ring.publish()
    got = []
    for _ in range(3):
        ring.consume(out)
        got.append(float(out[0, 0]))
    assert got == [1.0, 2.0, 3.0]
    ring.next_free()[:] = 4.0  # the slot of the first block, reused
    ring.publish()
    ring.consume(out)
    assert out[3, 1] == 4.0
    assert (ring.c.frames_played, ring.c.frames_out, ring.c.empty_blocks) == (16, 20, 1)


def test_ring_wraps_around_many_times_in_order_with_a_consumer_thread_of_its_own():
    ring = live.BlockRing(3, 8)
    n_blocks = 3000
    ring.c.start_consumer(8, 0.0001)  # a C thread taking a block every 0.1 ms, as a fast sound card
    try:
        for k in range(n_blocks):
            while ring.n_free == 0:
                time.sleep(0)
            ring.next_free()[:] = float(k)
            ring.publish()
        ring.finish()
        deadline = time.monotonic() + 20
        while not ring.c.drained and time.monotonic() < deadline:
            time.sleep(0.001)
    finally:
        ring.c.stop_consumer()
    assert ring.c.drained and ring.n_read == n_blocks
    assert [ring.c.block_first_sample(k) for k in range(n_blocks)] == [float(k) for k in range(n_blocks)]
    assert ring.c.frames_played == n_blocks * 8
    # The frames handed out beyond those played are silence: underruns while the producer lagged,
    # or the end once it had finished, never both for one frame.
    assert ring.c.frames_out - ring.c.frames_played >= 8 * ring.c.empty_blocks


def test_a_device_flagging_underflow_is_counted_apart_from_empty_blocks():
    ring = live.BlockRing(2, 4)
    out = np.zeros((4, 2), dtype=np.float32)
    ring.next_free()[:] = 0.5
    ring.publish()
    ring.consume(out, underflow=True)
    ring.consume(out)
    assert (ring.c.device_underruns, ring.c.empty_blocks) == (1, 1)
    ring.finish()
    ring.consume(out)  # the producer has finished: silence is the end, not an underrun
    assert ring.c.empty_blocks == 1 and ring.c.drained


def test_a_device_asking_for_odd_frame_counts_gets_the_blocks_contiguously():
    ring = live.BlockRing(4, 6)
    for k in range(4):
        ring.next_free()[:] = np.arange(6, dtype=np.float32)[:, None] + 10 * k
        ring.publish()
    ring.finish()
    got = []
    for n in (5, 7, 1, 11):
        out = np.zeros((n, 2), dtype=np.float32)
        ring.consume(out)
        got.extend(out[:, 0].tolist())
    assert got == [float(10 * k + i) for k in range(4) for i in range(6)]
    assert ring.n_read == 4 and ring.c.empty_blocks == 0


def test_stopping_the_producer_while_the_callback_runs_leaves_silence_and_counts_underruns():
    player = _file_player(_tune(((0.0, 60, 20.0),)), ring_blocks=4)
    ring = player.ring
    ring.c.start_consumer(BLOCK, 0.0005)
    try:
        player.start_rendering()
        deadline = time.monotonic() + 10
        while ring.n_read < 40 and time.monotonic() < deadline:
            time.sleep(0.001)
        player.stop()  # the render thread ends mid-song while the callback keeps running
        assert not player._thread.is_alive()
        n_read = ring.n_read
        time.sleep(0.05)
        assert ring.c.consumer_running
    finally:
        ring.c.stop_consumer()
    assert n_read >= 40
    assert ring.n_read == ring.n_written  # every block published was played, then silence
    assert ring.c.drained  # the thread said it finished on its way out: silence is not an underrun
    assert not ring.c.consumer_running


def test_the_consumer_thread_holds_the_ring_while_it_runs():
    import sys as system

    ring = live.BlockRing(2, 16).c
    before = system.getrefcount(ring)
    ring.start_consumer(16, 0.0002)
    assert system.getrefcount(ring) == before + 1  # its memory cannot go while the thread reads it
    ring.stop_consumer()
    assert system.getrefcount(ring) == before


def test_inbox_gives_messages_oldest_first_with_arrival_times():
    inbox = live.Inbox()
    for note in (60, 62, 64):
        inbox.put(mido.Message("note_on", note=note))
    drained = inbox.drain()
    assert [m.note for _, m in drained] == [60, 62, 64]
    times = [t for t, _ in drained]
    assert times == sorted(times)
    assert inbox.drain() == []


def test_inbox_keeps_the_newest_messages_when_full():
    inbox = live.Inbox(max_messages=4)
    for note in range(10):
        inbox.put(mido.Message("note_on", note=note))
    assert [m.note for _, m in inbox.drain()] == [6, 7, 8, 9]


def test_inbox_takes_messages_from_several_threads():
    inbox = live.Inbox()

    def send(channel: int) -> None:
        for note in range(128):
            inbox.put(mido.Message("note_on", channel=channel, note=note))

    threads = [threading.Thread(target=send, args=(c,)) for c in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    drained = [m for _, m in inbox.drain()]
    assert len(drained) == 4 * 128
    for channel in range(4):
        assert [m.note for m in drained if m.channel == channel] == list(range(128))


# --- the player without a sound card ----------------------------------------------------------------


def test_blocks_through_the_callback_equal_the_offline_render():
    midi = _tune()
    player = _file_player(midi)
    player.start_rendering()
    played = _drive(player)
    player.stop()
    reference = render_to_array(midi, rate_hz=RATE_HZ)
    assert played.shape[0] >= reference.shape[0]
    assert played.shape[0] - reference.shape[0] < 2 * BLOCK  # the last block is padded, one more is silence
    np.testing.assert_array_equal(played[: reference.shape[0]], reference)
    assert not played[reference.shape[0]:].any()
    assert player.empty_blocks == 0 and player.device_underruns == 0
    assert player.n_frames_rendered == reference.shape[0]


def test_a_callback_with_no_block_ready_plays_silence_and_counts_an_underrun():
    player = _file_player(_tune())  # the render thread is not started: nothing is ever ready
    out = np.ones((BLOCK, 2), dtype=np.float32)
    player.ring.consume(out)
    player.ring.consume(out, underflow=True)
    assert not out.any()
    assert player.empty_blocks == 2
    assert player.device_underruns == 1
    assert player.report().underruns == 3
    assert player.report().callback_ns.size == 2


def test_silence_after_the_end_is_not_an_underrun():
    player = _file_player(_tune(((0.0, 60, 0.05),)))
    player.start_rendering()
    _drive(player)
    out = np.ones((BLOCK, 2), dtype=np.float32)
    for _ in range(5):
        player.ring.consume(out)
    assert player.drained
    assert player.empty_blocks == 0
    assert not out.any()


def test_the_recording_holds_exactly_what_was_rendered(tmp_path):
    midi = _tune()
    path = tmp_path / "rec.wav"
    with AudioFileWriter(path, RATE_HZ, 2) as recorder:
        player = _file_player(midi, recorder=recorder)
        player.start_rendering()
        _drive(player)
        player.stop()
        player.record_played()
    recorded, rate = sf.read(path, dtype="float32")
    reference = render_to_array(midi, rate_hz=RATE_HZ)
    assert rate == RATE_HZ
    assert recorded.shape == reference.shape
    assert np.max(np.abs(recorded - reference)) <= LSB_16


def test_the_recording_after_a_stop_is_what_was_played_then_a_fade_to_silence(tmp_path):
    midi = _tune(((0.0, 60, 2.0),))
    path = tmp_path / "rec.wav"
    out = np.zeros((BLOCK, 2), dtype=np.float32)
    with AudioFileWriter(path, RATE_HZ, 2) as recorder:
        player = _file_player(midi, recorder=recorder, ring_blocks=16)
        player.start_rendering()
        player.wait_until_primed()
        for _ in range(5):
            player.ring.consume(out)  # five blocks heard; the ring holds 16 rendered
        player.stop()  # as run() does on Ctrl-C: the note is still sounding
        assert player.ring.n_written > 5
        player.fade_out_recording()
    recorded, _ = sf.read(path, dtype="float32")
    reference = render_to_array(midi, rate_hz=RATE_HZ)
    n_fade = round(0.004 * RATE_HZ) + player.engine.latency_frames + 1
    assert recorded.shape[0] == 5 * BLOCK + n_fade  # not the blocks rendered ahead and never heard
    assert np.max(np.abs(recorded[: 5 * BLOCK] - reference[: 5 * BLOCK])) <= LSB_16
    assert np.max(np.abs(recorded[2 * BLOCK: 4 * BLOCK])) > 0.01  # the note, before the stop
    assert np.max(np.abs(recorded[-4:])) < 2 * LSB_16  # faded to silence, no click at the end


def test_the_fade_after_a_stop_with_nothing_rendered_ahead_fades_the_cards(tmp_path):
    path = tmp_path / "rec.wav"
    with AudioFileWriter(path, RATE_HZ, 2) as recorder:
        player = _file_player(_tune(((0.0, 60, 2.0),)), recorder=recorder, ring_blocks=4)
        player.start_rendering()
        player.wait_until_primed()
        player.stop()
        _drive(player, max_blocks=4)  # everything rendered was heard
        assert player.engine.n_sounding == 1
        player.fade_out_recording()
        assert player.engine.n_sounding == 0
    recorded, _ = sf.read(path, dtype="float32")
    assert recorded.shape[0] > 4 * BLOCK
    # The cards' fade starts where the sound off would sound and reaches silence on the file's last frame.
    assert np.max(np.abs(recorded[-1])) < LSB_16
    end = np.abs(recorded[-40:, 0]).astype(np.float64)
    assert end[:20].max() > 10 * LSB_16 and end[20:].mean() < 0.75 * end[:20].mean()  # falling there, not cut


def test_live_messages_without_a_clock_reach_the_engine_at_the_start_of_the_next_block():
    engine = Engine(rate_hz=RATE_HZ)
    inbox = live.Inbox()
    feed = live.LiveFeed(engine, inbox)
    out = np.zeros((BLOCK, 2), dtype=np.float32)
    assert feed.fill(out) == BLOCK and not out.any()
    inbox.put(mido.Message("note_on", note=69, velocity=100))
    assert feed.fill(out) == BLOCK
    frame, _, note = feed.note_ons[-1]
    assert (frame, note) == (BLOCK, 69)
    assert engine.n_sounding == 1
    assert np.max(np.abs(out)) > 0.01  # sounding within the block it was handled in


def test_a_live_feed_stops_after_its_duration_or_when_finished():
    feed = live.LiveFeed(Engine(rate_hz=RATE_HZ), live.Inbox(), max_frames=BLOCK + 100)
    out = np.zeros((BLOCK, 2), dtype=np.float32)
    assert [feed.fill(out), feed.fill(out), feed.fill(out)] == [BLOCK, 100, 0]
    open_ended = live.LiveFeed(Engine(rate_hz=RATE_HZ), live.Inbox())
    assert open_ended.fill(out) == BLOCK
    open_ended.finish()
    assert open_ended.fill(out) == 0


def test_live_messages_land_on_the_frame_of_their_arrival_a_constant_delay_later():
    engine = Engine(rate_hz=RATE_HZ)
    inbox = live.Inbox()
    feed = live.LiveFeed(engine, inbox)
    feed.delay_frames = 3 * BLOCK
    t0 = 10**12
    stamps = [(0, t0)]
    feed.clock = lambda: stamps[-1]  # the card played ring frame 0 at t0, and keeps time
    out = np.zeros((BLOCK, 2), dtype=np.float32)
    arrivals_frames = [40, 300, 301, 700]  # after ring frame 0, in frames of the card's clock
    for f in arrivals_frames:
        inbox._queue.append((t0 + round(f * 1e9 / RATE_HZ), mido.Message("note_on", note=60 + f % 12,
                                                                           velocity=100)))
    onsets = []
    for k in range(8):
        stamps.append((k * BLOCK, t0 + round(k * BLOCK * 1e9 / RATE_HZ) + (50_000 if k % 2 else 0)))
        feed.fill(out)
    onsets = [frame for frame, _, _ in feed.note_ons]
    assert onsets == [f + 3 * BLOCK for f in arrivals_frames]  # late callbacks do not move them
    assert feed.n_late == 0


def test_a_live_message_whose_frame_was_rendered_lands_at_the_next_block_start_and_is_counted():
    engine = Engine(rate_hz=RATE_HZ)
    inbox = live.Inbox()
    feed = live.LiveFeed(engine, inbox)
    feed.delay_frames = 0
    feed.clock = lambda: (0, 10**12)
    out = np.zeros((BLOCK, 2), dtype=np.float32)
    feed.fill(out)
    feed.fill(out)
    inbox._queue.append((10**12 + round(10 * 1e9 / RATE_HZ), mido.Message("note_on", note=60, velocity=100)))
    feed.fill(out)
    assert [f for f, _, _ in feed.note_ons] == [2 * BLOCK]
    assert feed.n_late == 1


class FakeSd:
    """sounddevice as it shows an ALSA card and PortAudio's JACK device (the default output)."""

    class default:
        device = (-1, 1)

    _initialized = 1

    @staticmethod
    def query_hostapis():
        return ({"name": "ALSA"}, {"name": "JACK Audio Connection Kit"})

    @staticmethod
    def query_devices():
        return [
            {"name": "mic", "hostapi": 0, "max_output_channels": 0, "default_samplerate": 44100.0},
            {"name": "system", "hostapi": 1, "max_output_channels": 2, "default_samplerate": 48000.0},
            {"name": "hdmi", "hostapi": 0, "max_output_channels": 8, "default_samplerate": 44100.0},
        ]

    @classmethod
    def _terminate(cls):
        cls._initialized -= 1


def test_choose_output_by_number_or_name_and_errors_in_one_line():
    assert live.choose_output(FakeSd, None).name == "system"
    assert live.choose_output(FakeSd, "2").name == "hdmi"
    assert live.choose_output(FakeSd, "JACK").index == 1
    with pytest.raises(live.LiveError, match="no audio output device number 0"):
        live.choose_output(FakeSd, "0")  # an input, not an output
    with pytest.raises(live.LiveError, match="no audio output device matches 'usb'"):
        live.choose_output(FakeSd, "usb")

    class NoDevices(FakeSd):
        @staticmethod
        def query_devices():
            return []

    with pytest.raises(live.LiveError, match="no audio output device found: start a JACK server"):
        live.choose_output(NoDevices, None)


@pytest.fixture
def fake_sd(monkeypatch):
    """FakeSd as the sounddevice play and live find, PortAudio initialised once."""
    monkeypatch.setattr(FakeSd, "_initialized", 1)
    monkeypatch.setattr(live, "import_sounddevice", lambda command: FakeSd)
    return FakeSd


def _jack_server_at(monkeypatch, rate_hz: int | None) -> None:
    """The JACK server liquidsky's own client finds: one at rate_hz, or none (None)."""
    def server_info(self, command="play"):
        if rate_hz is None:
            raise live.LiveError("no JACK server named 'default' is running")
        self.rate_hz, self.buffer_frames = rate_hz, 256
        return rate_hz, 256

    monkeypatch.setattr(live.JackCard, "server_info", server_info)


def test_portaudios_jack_device_is_played_through_liquidskys_own_jack_client(fake_sd, monkeypatch):
    _jack_server_at(monkeypatch, 48000)
    card, device, rate_hz = live.open_output("play", None, None, "auto")
    assert isinstance(card, live.JackCard) and rate_hz == 48000
    assert device.hostapi == "JACK, liquidsky's own client"
    assert fake_sd._initialized == 0  # PortAudio let go of the server: its client is not in the graph


def test_another_device_or_audio_portaudio_stays_with_portaudio(fake_sd, monkeypatch):
    _jack_server_at(monkeypatch, 48000)
    card, device, rate_hz = live.open_output("play", "hdmi", None, "auto")
    assert isinstance(card, live.SoundCard) and (device.name, rate_hz) == ("hdmi", 44100)
    card, device, rate_hz = live.open_output("play", None, None, "portaudio")
    assert isinstance(card, live.SoundCard) and (device.name, rate_hz) == ("system", 48000)
    assert fake_sd._initialized == 1


def test_portaudios_jack_device_stays_with_portaudio_where_liquidskys_client_cannot_reach_the_server(
        fake_sd, monkeypatch):
    _jack_server_at(monkeypatch, None)
    card, device, _ = live.open_output("play", None, None, "auto")
    assert isinstance(card, live.SoundCard) and device.name == "system"


def test_audio_jack_plays_at_the_servers_rate_and_refuses_another(monkeypatch):
    _jack_server_at(monkeypatch, 44100)
    monkeypatch.setattr(live, "import_sounddevice", lambda command: pytest.fail("PortAudio was asked for"))
    card, _, rate_hz = live.open_output("play", None, None, "jack")
    assert isinstance(card, live.JackCard) and rate_hz == 44100
    with pytest.raises(live.LiveError, match="plays at 44100 Hz, not 48000 Hz"):
        live.open_output("play", None, 48000, "jack")


def test_the_jack_server_is_the_one_the_environment_names(monkeypatch):
    monkeypatch.delenv("LIQUIDSKY_JACK_SERVER", raising=False)
    monkeypatch.delenv("JACK_DEFAULT_SERVER", raising=False)
    assert live.JackCard().server is None and live.JackCard().server_label == "default"
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "studio")
    assert live.JackCard().server == "studio"
    monkeypatch.setenv("LIQUIDSKY_JACK_SERVER", "ci")
    assert live.JackCard().server == "ci"
    assert live.JackCard(server="mine").server == "mine"


class _FakeCard:
    """A stand-in for the sound card: its stream runs the callback's code from a thread of its own, or never."""

    def __init__(self, calls_back: bool = True) -> None:
        self.calls_back = calls_back
        self.streams = []

    def open_stream(self, ring, device, rate_hz, latency):
        stream = _FakeStream(ring, dict(device=device, blocksize=ring.n_frames, samplerate=rate_hz),
                             self.calls_back)
        self.streams.append(stream)
        return stream


class _FakeStream:
    latency = 0.002

    def __init__(self, ring, options, calls_back: bool) -> None:
        self.ring = ring
        self.options = options
        self.calls_back = calls_back
        self.active = False
        self.events = []
        self.played = []
        self._thread = None

    def start(self) -> None:
        self.active = True
        self.events.append("start")
        if self.calls_back:
            self._thread = threading.Thread(target=self._run)
            self._thread.start()

    def _run(self) -> None:
        n = self.options["blocksize"]
        out = np.zeros((n, 2), dtype=np.float32)
        while self.active:
            self.ring.consume(out)
            self.played.append(out.copy())
            time.sleep(0.0005)

    def _halt(self, how: str) -> None:
        self.active = False
        self.events.append(how)
        if self._thread is not None:
            self._thread.join()

    def stop(self) -> None:
        self._halt("stop")

    def abort(self) -> None:
        self._halt("abort")

    def close(self) -> None:
        self.events.append("close")


def test_run_plays_to_the_end_and_stops_the_stream(tmp_path):
    card = _FakeCard()
    midi = _tune(((0.0, 64, 0.1),))
    player = _file_player(midi)
    report = player.run(card, 3)
    [stream] = card.streams
    assert stream.events == ["start", "stop", "close"]
    assert (stream.options["device"], stream.options["blocksize"], stream.options["samplerate"]) == (3, BLOCK, RATE_HZ)
    reference = render_to_array(midi, rate_hz=RATE_HZ)
    played = np.concatenate(stream.played)
    np.testing.assert_array_equal(played[: reference.shape[0]], reference)
    assert report.interrupted is None and report.n_frames_played >= reference.shape[0]


def test_ctrl_c_during_run_aborts_the_stream_and_is_returned_in_the_report(tmp_path):
    card = _FakeCard()
    path = tmp_path / "stopped.wav"

    def press_ctrl_c(status) -> None:
        if status.played_s > 0.1:
            raise KeyboardInterrupt

    with AudioFileWriter(path, RATE_HZ, 2) as recorder:
        player = _file_player(_tune(((0.0, 64, 5.0),)), recorder=recorder)
        report = player.run(card, None, on_status=press_ctrl_c, status_interval_s=0.01)
    assert isinstance(report.interrupted, KeyboardInterrupt)
    assert card.streams[0].events == ["start", "abort", "close"]
    assert not player._thread.is_alive()
    n = sf.info(path).frames
    assert 0.1 * RATE_HZ < n < 5.0 * RATE_HZ  # cut short, and complete


def test_a_device_that_never_calls_back_is_an_error_not_a_hang(monkeypatch):
    monkeypatch.setattr(live, "STALL_S", 0.2)
    card = _FakeCard(calls_back=False)
    player = _file_player(_tune())
    with pytest.raises(live.LiveError, match="the sound card stopped asking for audio"):
        player.run(card, None)
    assert card.streams[0].events == ["start", "abort", "close"]
    assert not player._thread.is_alive()


# --- through a JACK server ----------------------------------------------------------------------------


def test_playing_through_jack_records_the_offline_render(sd_jack, tmp_path):  # noqa: F811
    midi = _tune()
    path = tmp_path / "played.wav"
    statuses = []
    with AudioFileWriter(path, RATE_HZ, 2) as recorder:
        player = _file_player(midi, recorder=recorder)
        report = player.run(sd_jack, jack_device(sd_jack), on_status=statuses.append, status_interval_s=0.05)
    reference = render_to_array(midi, rate_hz=RATE_HZ)
    recorded, _ = sf.read(path, dtype="float32")
    assert recorded.shape == reference.shape
    assert np.max(np.abs(recorded - reference)) <= LSB_16
    # Every block went through the device (the last one is padded to a whole block).
    assert report.n_frames_played == -(-reference.shape[0] // BLOCK) * BLOCK
    assert report.interrupted is None
    assert report.callback_ns.size >= report.n_frames_played // BLOCK
    assert report.output_latency_s > 0
    assert statuses and statuses[-1].played_s == pytest.approx(report.played_s)
    assert max(s.n_sounding for s in statuses) <= 8


def test_midi_sent_to_the_virtual_port_is_heard_at_its_pitch(sd_jack, tmp_path):  # noqa: F811
    from synth import midiin

    backend = midiin.choose_backend()
    inbox = live.Inbox()
    engine = Engine(rate_hz=RATE_HZ)
    seconds = 2.0  # the notes take about 1.1 s from the start; the rest is margin for a busy machine
    feed = live.LiveFeed(engine, inbox, max_frames=round(seconds * RATE_HZ))
    path = tmp_path / "live.wav"
    sent = [69, 74]
    with midiin.open_input("virtual", backend, inbox) as port, AudioFileWriter(path, RATE_HZ, 2) as recorder:
        sender = midiin.mido_backend(backend).open_output(port.name)
        player = live.Player(feed, rate_hz=RATE_HZ, block_frames=BLOCK, ring_blocks=live.RING_BLOCKS_LIVE,
                             recorder=recorder)

        def play_notes() -> None:
            while player.n_frames_played < RATE_HZ // 10:
                time.sleep(0.005)
            for note in sent:
                sender.send(mido.Message("note_on", note=note, velocity=110))
                time.sleep(0.4)
                sender.send(mido.Message("note_off", note=note))
                time.sleep(0.1)

        keyboard = threading.Thread(target=play_notes)
        keyboard.start()
        try:
            player.run(sd_jack, jack_device(sd_jack))
        finally:
            keyboard.join()
            sender.close()
    recorded, _ = sf.read(path, dtype="float32")
    assert recorded.shape[0] == round(seconds * RATE_HZ)
    assert [n for _, _, n in feed.note_ons] == sent
    assert feed.n_late == 0
    for frame, _, note in feed.note_ons:
        segment = recorded[frame: frame + round(0.3 * RATE_HZ), 0]
        assert np.max(np.abs(segment)) > 0.01
        assert _closest_note(segment) == note


def _closest_note(segment: np.ndarray) -> int:
    """The note whose offline render (same engine, same voice) has the most similar spectrum."""
    def spectrum(x: np.ndarray) -> np.ndarray:
        mag = np.abs(np.fft.rfft(x * np.hanning(x.size)))
        return mag / np.linalg.norm(mag)

    target = spectrum(segment)
    scores = {}
    for note in range(62, 82):
        engine = Engine(rate_hz=RATE_HZ)
        engine.handle(mido.Message("note_on", note=note, velocity=110))
        scores[note] = float(target @ spectrum(engine.render(segment.size)[:, 0].astype(np.float64)))
    return max(scores, key=scores.get)


# --- faults: a device that goes away, a flood of MIDI -------------------------------------------------


class _VanishingCard(_FakeCard):
    """A sound card that calls back for `n_calls` blocks, then is gone (no more callbacks)."""

    def __init__(self, n_calls: int) -> None:
        super().__init__()
        self.n_calls = n_calls

    def open_stream(self, ring, device, rate_hz, latency):
        n_calls = self.n_calls
        stream = _FakeStream(ring, dict(device=device, blocksize=ring.n_frames, samplerate=rate_hz), True)

        def run() -> None:
            out = np.zeros((ring.n_frames, 2), dtype=np.float32)
            for _ in range(n_calls):
                ring.consume(out)
                stream.played.append(out.copy())
                time.sleep(0.0005)

        stream._run = run
        self.streams.append(stream)
        return stream


def _cli_with_card(monkeypatch, card) -> None:
    from synth.app.cli import live as cli_live

    class Device:
        index, name, hostapi, default_rate_hz = 0, "fake", "test", RATE_HZ

    monkeypatch.setattr(cli_live, "_open_output", lambda command, args: (card, Device, RATE_HZ))


def test_a_device_that_goes_away_during_play_keeps_the_recording_so_far(monkeypatch, tmp_path, capsys):
    from synth.app.cli.main import main

    monkeypatch.setattr(live, "STALL_S", 0.3)
    _cli_with_card(monkeypatch, _VanishingCard(n_calls=40))
    song = tmp_path / "long.mid"
    _tune(((0.0, 64, 30.0),)).save(song)
    take = tmp_path / "take.wav"
    assert main(["play", str(song), "--record", str(take), "--blocksize", str(BLOCK), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"liquidsky: error: the sound card stopped asking for audio (is the JACK server or the device "
                   f"still there?); what was played until then is in {take}")
    recorded, rate = sf.read(take, dtype="float32")
    # What was rendered: at most the blocks played, the ring the render thread got ahead by and the fade.
    # What was heard (40 blocks) and the fade after it, not the 2 s rendered ahead.
    assert recorded.shape[0] == 40 * BLOCK + round(0.004 * RATE_HZ) + Engine(rate_hz=RATE_HZ).latency_frames + 1
    assert np.max(np.abs(recorded[: 5 * BLOCK])) > 0.01  # the note was playing
    assert np.max(np.abs(recorded[-10:])) < 1e-3  # and ends faded out, not cut
    assert sorted(os.listdir(tmp_path)) == ["long.mid", "take.wav"]


def test_a_device_that_goes_away_during_live_keeps_the_recording_so_far(monkeypatch, tmp_path, capsys):
    from synth.app.cli.main import main

    monkeypatch.setattr(live, "STALL_S", 0.3)
    _cli_with_card(monkeypatch, _VanishingCard(n_calls=20))
    take = tmp_path / "take.flac"
    args = ["live", "--keys", "--record", str(take), "--blocksize", str(BLOCK), "--quiet", "--duration", "30"]
    from synth.app.cli import live as cli_live

    monkeypatch.setattr(cli_live, "_check_terminal", lambda: None)

    class NoKeyboard:
        def __init__(self, inbox, on_quit) -> None:
            self.state = type("State", (), {"octave": 4})()

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            pass

    monkeypatch.setattr(cli_live, "KeyboardInput", NoKeyboard)
    assert main(args) == 2
    assert capsys.readouterr().err.strip().endswith(f"what was played until then is in {take}")
    # Blocks the fake card found not ready were played as silence and not rendered: at least a few were.
    assert sf.info(take).frames > 5 * BLOCK


def test_an_inbox_flood_keeps_the_newest_messages_and_counts_the_rest():
    inbox = live.Inbox(max_messages=4096)
    for i in range(10_000):
        inbox.put(mido.Message("note_on", note=i % 128, velocity=1 + i % 127))
    assert inbox.n_dropped == 10_000 - 4096
    first = inbox.drain(live.MAX_MESSAGES_PER_BLOCK)
    assert len(first) == live.MAX_MESSAGES_PER_BLOCK
    assert first[0][1].note == (10_000 - 4096) % 128  # the oldest kept
    assert len(inbox.drain()) == 4096 - live.MAX_MESSAGES_PER_BLOCK


def test_a_flood_is_handled_a_bounded_number_of_messages_per_block():
    engine = Engine(rate_hz=RATE_HZ)
    inbox = live.Inbox()
    feed = live.LiveFeed(engine, inbox)
    handled = []
    real_handle = engine.handle

    def counting(message, track=0):
        handled.append(message)
        real_handle(message, track=track)

    engine.handle = counting
    for i in range(3000):
        inbox.put(mido.Message("note_on" if i % 2 == 0 else "note_off", note=30 + (i // 2) % 60, channel=i % 16,
                               velocity=100))
    out = np.zeros((BLOCK, 2), dtype=np.float32)
    per_block = []
    while len(handled) < 3000:
        before = len(handled)
        assert feed.fill(out) == BLOCK
        assert np.all(np.isfinite(out))
        per_block.append(len(handled) - before)
    assert max(per_block) == live.MAX_MESSAGES_PER_BLOCK
    assert len(per_block) == -(-3000 // live.MAX_MESSAGES_PER_BLOCK)


def test_ten_thousand_messages_a_second_while_playing_do_not_stop_the_player(tmp_path):
    card = _FakeCard()
    inbox = live.Inbox()
    engine = Engine(rate_hz=RATE_HZ)
    feed = live.LiveFeed(engine, inbox, max_frames=RATE_HZ)  # one second of audio
    path = tmp_path / "flood.wav"
    stop = threading.Event()
    sent = [0]

    def flood() -> None:
        # 10 messages every ms: a keyboard's worth of notes, controllers and bends, as fast as a
        # broken device or a program might send them.
        kinds = ("note_on", "note_off", "control_change", "pitchwheel")
        while not stop.is_set():
            for _ in range(10):
                i = sent[0]
                kind = kinds[i % 4]
                if kind == "control_change":
                    message = mido.Message(kind, channel=i % 16, control=(7, 10, 11, 64, 74)[i % 5], value=i % 128)
                elif kind == "pitchwheel":
                    message = mido.Message(kind, channel=i % 16, pitch=(i * 37) % 16384 - 8192)
                else:
                    message = mido.Message(kind, channel=i % 16, note=20 + i % 90, velocity=1 + i % 126)
                inbox.put(message)
                sent[0] += 1
            time.sleep(0.001)

    sender = threading.Thread(target=flood)
    sender.start()
    try:
        with AudioFileWriter(path, RATE_HZ, 2) as recorder:
            player = live.Player(feed, rate_hz=RATE_HZ, block_frames=BLOCK, ring_blocks=live.RING_BLOCKS_LIVE,
                                 recorder=recorder)
            report = player.run(card, None)
    finally:
        stop.set()
        sender.join()
    assert report.interrupted is None
    assert sent[0] > 1000
    recorded, _ = sf.read(path, dtype="float32")
    assert recorded.shape[0] == report.n_frames_rendered == RATE_HZ
    assert np.all(np.isfinite(recorded)) and np.max(np.abs(recorded)) > 0.01


def test_a_device_that_cannot_be_opened_any_more_is_one_line(monkeypatch, tmp_path, capsys):
    from synth.app.cli.main import main

    class GoneCard(_FakeCard):
        def open_stream(self, ring, device, rate_hz, latency):
            raise live.LiveError("Error opening OutputStream: Device unavailable [PaErrorCode -9985]")

    _cli_with_card(monkeypatch, GoneCard())
    take = tmp_path / "take.wav"
    assert main(["play", "demo", "--record", str(take), "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == (
        "liquidsky: error: Error opening OutputStream: Device unavailable [PaErrorCode -9985]")
    assert os.listdir(tmp_path) == []  # nothing was played, so nothing is recorded


# --- liquidsky's own JACK client ------------------------------------------------------------------------


def _wait_for(condition, what: str, timeout_s: float = 20.0) -> None:
    """Poll until condition() holds; a generous deadline only keeps a broken run from hanging."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout_s:g} s for {what}"
        time.sleep(0.002)


def _ramp_ring(n_blocks: int) -> tuple[live.BlockRing, np.ndarray]:
    """A ring whose frames count up on the left and down on the right: each frame says where it belongs."""
    ring = live.BlockRing(n_blocks, BLOCK)
    left = ((np.arange(n_blocks * BLOCK) + 1) * 2.0**-15).astype(np.float32)
    ring.blocks[:, :, 0] = left.reshape(n_blocks, BLOCK)
    ring.blocks[:, :, 1] = -left.reshape(n_blocks, BLOCK)
    return ring, left


def test_the_jack_client_reports_the_servers_rate_and_period(jack_server):  # noqa: F811
    card = live.JackCard()
    assert card.server == jack_server
    assert card.server_info() == (JACK_RATE_HZ, JACK_PERIOD_FRAMES)
    stream = card.open_stream(live.BlockRing(2, BLOCK), None, JACK_RATE_HZ, "low")
    try:
        assert (stream.rate_hz, stream.buffer_frames) == (JACK_RATE_HZ, JACK_PERIOD_FRAMES)
        assert stream.latency > 0
        assert len(stream.targets) >= 2 and all(t.startswith("system:playback_") for t in stream.targets)
    finally:
        stream.close()


def test_the_jack_client_plays_every_frame_of_the_ring_in_order_on_left_and_right(jack_server, tmp_path):  # noqa: F811
    import shutil
    import subprocess

    from jack_tools import jack_connections, unavailable

    if shutil.which("jack_rec") is None:
        unavailable("no jack_rec to capture the client's ports with (apt-get install jackd2)")
    n_blocks = 64
    ring, left = _ramp_ring(n_blocks)
    card = live.JackCard(connect=False)
    card.server_info()
    stream = card.open_stream(ring, None, JACK_RATE_HZ, "low")
    path = tmp_path / "captured.wav"
    try:
        stream.start()
        # jack_rec (jackd2's recorder) connects to our two ports and writes what reaches it, as 32-bit PCM.
        recorder = subprocess.Popen(["jack_rec", "-f", str(path), "-d", "3", "-b", "32", *stream.ports],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for(lambda: all(jack_connections(jack_server, p) for p in stream.ports), "jack_rec to connect")
        for _ in range(n_blocks):
            ring.publish()
        ring.finish()
        _wait_for(lambda: ring.c.drained, "the ring to drain")
        assert recorder.wait(timeout=30) == 0
    finally:
        stream.close()
    assert ring.c.frames_played == n_blocks * BLOCK
    captured, rate = sf.read(path, dtype="float32")
    assert rate == JACK_RATE_HZ
    sounding = np.flatnonzero(captured[:, 0])
    assert sounding.size == n_blocks * BLOCK  # every frame once: none lost, none twice
    heard = captured[sounding[0]: sounding[0] + n_blocks * BLOCK]
    np.testing.assert_array_equal(heard[:, 0], left)
    np.testing.assert_array_equal(heard[:, 1], -left)


def test_the_jack_client_plays_silence_and_counts_an_underrun_while_the_ring_is_empty(jack_server):  # noqa: F811
    ring = live.BlockRing(4, BLOCK)
    card = live.JackCard(connect=False)
    stream = card.open_stream(ring, None, JACK_RATE_HZ, "low")
    try:
        stream.start()
        _wait_for(lambda: ring.c.n_callbacks >= 10, "ten callbacks")
        ring.blocks[0] = 0.5
        ring.publish()
        _wait_for(lambda: ring.n_read == 1, "the block to be played")
        ring.finish()
        _wait_for(lambda: ring.c.drained, "the end")
        stream.stop()
        n_calls = ring.c.n_callbacks
    finally:
        stream.close()
    assert ring.c.frames_played == BLOCK
    assert ring.c.frames_out == n_calls * JACK_PERIOD_FRAMES
    # Every callback before the block came was empty, and the one that drained it after the end is not.
    assert ring.c.empty_blocks >= 10
    assert ring.c.empty_blocks <= n_calls - 1
    assert ring.c.block_first_sample(0) == 0.5


def test_stopping_the_jack_client_while_its_callback_runs_leaves_the_ring_whole(jack_server):  # noqa: F811
    ring = live.BlockRing(8, BLOCK)
    stop = threading.Event()
    published = [0]

    def produce() -> None:  # each block's frames hold its number
        while not stop.is_set():
            if ring.n_free:
                ring.next_free()[:] = published[0]
                ring.publish()
                published[0] += 1
            else:
                time.sleep(0.0005)

    producer = threading.Thread(target=produce)
    producer.start()
    card = live.JackCard(connect=False)
    counts = []
    try:
        for _ in range(5):  # start and close a client five times while the producer keeps the ring full
            stream = card.open_stream(ring, None, JACK_RATE_HZ, "low")
            stream.start()
            before = ring.c.n_callbacks
            _wait_for(lambda before=before: ring.c.n_callbacks >= before + 20, "twenty callbacks")
            stream.close()
            assert not stream.active
            counts.append(ring.c.n_callbacks)
            stream.close()  # a second close does nothing
    finally:
        stop.set()
        producer.join()
    n_read = ring.n_read
    # No callback ran after a close returned; each gave the server a whole period; every block went
    # out whole (the period is one block) and in order.
    assert counts[-1] == ring.c.n_callbacks >= 5 * 20
    assert ring.c.frames_out == ring.c.n_callbacks * JACK_PERIOD_FRAMES
    assert ring.c.frames_played == n_read * BLOCK > 0
    assert [ring.c.block_first_sample(k) for k in range(n_read)] == [float(k) for k in range(n_read)]


def test_the_jack_client_refuses_a_rate_other_than_the_servers_and_leaves_no_client(jack_server):  # noqa: F811
    from jack_tools import jack_port_names

    card = live.JackCard()
    with pytest.raises(live.LiveError, match=f"plays at {JACK_RATE_HZ} Hz, not 44100 Hz"):
        card.open_stream(live.BlockRing(2, BLOCK), None, 44100, "low")
    assert not [p for p in jack_port_names(jack_server) if p.startswith("liquidsky:")]


def test_a_jack_server_that_cannot_be_reached_is_one_line():
    card = live.JackCard(server=f"liquidsky-none-{os.getpid()}")
    with pytest.raises(live.LiveError) as caught:
        card.server_info("play")
    assert str(caught.value) == (f"no JACK server named '{card.server}' is running: start one (jackd -d alsa, or "
                                 "jackd -d dummy without a sound card)")


def test_playing_through_the_jack_client_records_the_offline_render(jack_server, tmp_path):  # noqa: F811
    midi = _tune()
    path = tmp_path / "played.wav"
    statuses = []
    with AudioFileWriter(path, RATE_HZ, 2) as recorder:
        player = _file_player(midi, recorder=recorder)
        report = player.run(live.JackCard(), None, on_status=statuses.append, status_interval_s=0.05)
    reference = render_to_array(midi, rate_hz=RATE_HZ)
    recorded, _ = sf.read(path, dtype="float32")
    assert recorded.shape == reference.shape
    assert np.max(np.abs(recorded - reference)) <= LSB_16
    assert report.n_frames_played == -(-reference.shape[0] // BLOCK) * BLOCK
    assert report.interrupted is None
    assert report.output_latency_s > 0
    assert statuses and statuses[-1].played_s == pytest.approx(report.played_s)

