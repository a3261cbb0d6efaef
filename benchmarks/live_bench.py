#!/usr/bin/env python3
"""Real-time playback against a JACK server with the dummy driver: underruns, time per block, live latency.

    python benchmarks/live_bench.py [--seconds 60] [--quick] [--models iix,iii] [--modes thread,callback]
                                    [--latency-notes 40] [--jack-server NAME] [--json]

For each model, a generated piece keeps every card busy (8 notes held at once on the IIx, 16 on the
Series III, each struck again twice a second) and is played for --seconds through PortAudio's JACK
output at 48 kHz in 256-frame blocks, as `liquidsky play` plays it (mode "thread": a render thread fills
a ring of blocks that the callback copies). Mode "callback" renders each block inside the callback
instead, for comparison. Then `liquidsky live`'s path is timed from note-on to sound: notes are sent
from a JACK MIDI port of this process to the virtual port 'liquidsky', and each note's onset is found in
the recording. A JACK server of its own is started for the run (jackd -d dummy -r 48000 -p 256) unless
--jack-server names a running one. See README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import mido
import numpy as np

from synth import live, midiin
from synth.engine import Engine
from synth.hardware import get_profile
from synth.midifile import timed_events
from synth.offline import song_end_frame

RATE_HZ = 48000
BLOCK_FRAMES = 256
MODELS = ("iix", "iii")
MODES = ("thread", "callback")
JACK_API = "JACK Audio Connection Kit"

STRIKE_S = 0.5  # each held note is struck again this often
GAP_S = 0.02  # and released this long before, so that it is a reuse of its card, not a steal
# Programs spread over the General MIDI families, so the load mixes the library's voices.
PROGRAMS = (0, 4, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 11, 19, 61, 89)
MELODIC_CHANNELS = tuple(c for c in range(16) if c != 9)

LATENCY_GAP_S = 0.25  # between the notes sent for the latency measurement
LATENCY_NOTE = 69
# The onset is the first sample above this (-54 dBFS), after the block the note-on was handled in.
ONSET_THRESHOLD = 0.002


def load_piece(n_notes: int, seconds: float) -> mido.MidiFile:
    """n_notes notes sounding at all times on different channels and programs, each re-struck every STRIKE_S."""
    ticks_per_s = 960  # 480 ticks a beat at the default 120 BPM
    events = []  # (tick, order, message): note-offs first at equal ticks
    for k in range(n_notes):
        channel = MELODIC_CHANNELS[k % len(MELODIC_CHANNELS)]
        key = 48 + (k * 7) % 37
        events.append((0, 0, mido.Message("program_change", channel=channel, program=PROGRAMS[k % len(PROGRAMS)])))
        start = k * STRIKE_S / n_notes
        while start + STRIKE_S <= seconds:
            on = round(start * ticks_per_s)
            off = round((start + STRIKE_S - GAP_S) * ticks_per_s)
            events.append((on, 1, mido.Message("note_on", channel=channel, note=key, velocity=96)))
            events.append((off, 0, mido.Message("note_off", channel=channel, note=key)))
            start += STRIKE_S
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    now = 0
    for tick, _, message in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(message.copy(time=tick - now))
        now = tick
    return midi


class CallbackRenderPlayer(live.Player):
    """For comparison: each block rendered inside the audio callback into a preallocated buffer."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._block = np.zeros((self.block_frames, 2), dtype=np.float32)

    def start_rendering(self) -> None:  # no render thread
        pass

    def wait_until_primed(self, timeout_s: float = 30.0) -> None:
        pass

    def callback(self, outdata, frames, time_info, status) -> None:
        t0 = time.perf_counter_ns()
        if status.output_underflow:
            self.device_underruns += 1
        n = 0 if self.feed_done else self.feed.fill(self._block)
        if n:
            np.copyto(outdata, self._block)
            self.n_frames_played += frames
            self.n_frames_rendered += n
        else:
            self.feed_done = True
            self.drained = True
            outdata.fill(0.0)
        self._callback_ns[self._n_callbacks % live.TIMING_SLOTS] = time.perf_counter_ns() - t0
        self._n_callbacks += 1


# --- JACK --------------------------------------------------------------------------------------------


def jack_running(server: str) -> bool:
    env = dict(os.environ, JACK_NO_START_SERVER="1", JACK_DEFAULT_SERVER=server)
    return subprocess.run(["jack_lsp"], env=env, capture_output=True).returncode == 0


@contextlib.contextmanager
def jack_server(name: str | None):
    """The JACK server named, or jackd -d dummy started for the run under a name of its own.

    A private server, because one that another program started may be stopped by it mid-run. The
    name goes into JACK_DEFAULT_SERVER, where PortAudio and rtmidi look for it.
    """
    if name is not None:
        if not jack_running(name):
            sys.exit(f"live_bench: no JACK server named {name!r} is running")
        os.environ["JACK_DEFAULT_SERVER"] = name
        yield f"server {name!r}, already running"
        return
    if shutil.which("jackd") is None:
        sys.exit("live_bench: no jackd to start a JACK server with (apt-get install jackd2)")
    name = f"liquidsky-bench-{os.getpid()}"
    env = dict(os.environ, JACK_NO_AUDIO_RESERVATION="1")
    proc = subprocess.Popen(["jackd", "-n", name, "-d", "dummy", "-r", str(RATE_HZ), "-p", str(BLOCK_FRAMES)],
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        for _ in range(150):
            if jack_running(name):
                break
            time.sleep(0.1)
        else:
            sys.exit("live_bench: jackd -d dummy did not start")
        os.environ["JACK_DEFAULT_SERVER"] = name
        yield f"jackd -d dummy -r {RATE_HZ} -p {BLOCK_FRAMES}, started for the run"
    finally:
        sd = sys.modules.get("sounddevice")
        if sd is not None:
            with contextlib.suppress(Exception):
                sd._terminate()  # PortAudio must leave before the server goes
        proc.terminate()
        proc.wait()


def jack_output(sd) -> int:
    live.rescan_devices(sd)
    for dev in live.output_devices(sd):
        if dev.hostapi == JACK_API:
            return dev.index
    sys.exit("live_bench: PortAudio shows no JACK output")


# --- the runs ----------------------------------------------------------------------------------------


def percent_of_period(ns: float) -> float:
    return 100.0 * ns / (BLOCK_FRAMES / RATE_HZ * 1e9)


def timing(a: np.ndarray) -> dict:
    if a.size == 0:
        return {"p50_us": None, "p99_us": None, "max_us": None, "p50_pct": None, "p99_pct": None}
    p50, p99 = (float(x) for x in np.percentile(a, [50, 99]))
    return {"p50_us": p50 / 1e3, "p99_us": p99 / 1e3, "max_us": float(a.max()) / 1e3,
            "p50_pct": percent_of_period(p50), "p99_pct": percent_of_period(p99)}


def play_run(sd, device: int, model: str, mode: str, seconds: float) -> dict:
    n_cards = get_profile(model).n_voices
    midi = load_piece(n_cards, seconds)
    make = lambda: Engine(model=model, rate_hz=RATE_HZ)  # noqa: E731
    live.warm_up(make, BLOCK_FRAMES)
    engine = make()
    feed = live.FileFeed(timed_events(midi, RATE_HZ), engine, BLOCK_FRAMES, song_end_frame(midi, RATE_HZ))
    kind = live.Player if mode == "thread" else CallbackRenderPlayer
    player = kind(feed, rate_hz=RATE_HZ, block_frames=BLOCK_FRAMES, ring_blocks=live.RING_BLOCKS_PLAY)
    in_use = []

    def sample(status) -> None:
        in_use.append(status.n_sounding if mode == "thread" else engine.n_sounding)

    report = player.run(sd, device, on_status=sample, status_interval_s=0.1)
    render = report.render_ns if mode == "thread" else np.zeros(0, dtype=np.int64)
    return {
        "model": model, "mode": mode, "cards": n_cards, "seconds": report.played_s,
        "ring_blocks": live.RING_BLOCKS_PLAY if mode == "thread" else 0,
        "render_realtime": report.render_realtime,
        "underruns": report.underruns, "device_underruns": report.device_underruns,
        "empty_blocks": report.empty_blocks,
        "cards_in_use_median": float(np.median(in_use)) if in_use else None,
        "notes_stolen": report.notes_stolen,
        "callback": timing(report.callback_ns), "render": timing(render),
        "output_latency_ms": report.output_latency_s * 1e3,
    }


def latency_run(sd, device: int, n_notes: int) -> dict:
    """Note-on sent from a JACK MIDI port to the sound leaving the callback, plus the device's latency."""
    backend = midiin.choose_backend()
    inbox = live.Inbox()
    make = lambda: Engine(model="iix", rate_hz=RATE_HZ)  # noqa: E731
    live.warm_up(make, BLOCK_FRAMES)
    seconds = 0.5 + n_notes * LATENCY_GAP_S + 0.5
    feed = live.LiveFeed(make(), inbox, max_frames=round(seconds * RATE_HZ))
    sent_ns: list[int] = []
    with tempfile.TemporaryDirectory() as tmp, midiin.open_input("virtual", backend, inbox) as port:
        from synth.sinks import AudioFileWriter

        path = Path(tmp) / "live.wav"
        sender = midiin.mido_backend(backend).open_output(port.name)
        with AudioFileWriter(path, RATE_HZ, 2, bits=24) as recorder:
            player = live.Player(feed, rate_hz=RATE_HZ, block_frames=BLOCK_FRAMES,
                                 ring_blocks=live.RING_BLOCKS_LIVE, recorder=recorder)

            def send() -> None:
                while player.n_frames_played < RATE_HZ // 2:
                    time.sleep(0.01)
                for _ in range(n_notes):
                    sent_ns.append(time.perf_counter_ns())
                    sender.send(mido.Message("note_on", note=LATENCY_NOTE, velocity=120))
                    time.sleep(LATENCY_GAP_S / 2)
                    sender.send(mido.Message("note_off", note=LATENCY_NOTE))
                    time.sleep(LATENCY_GAP_S / 2)

            thread = threading.Thread(target=send)
            thread.start()
            try:
                report = player.run(sd, device)
            finally:
                thread.join()
                sender.close()
        import soundfile as sf

        recorded, _ = sf.read(path, dtype="float32")
    total_ms, midi_ms = [], []
    for (frame, arrived_ns, _), sent in zip(feed.note_ons, sent_ns, strict=False):
        block_start = frame - frame % BLOCK_FRAMES
        loud = np.flatnonzero(np.abs(recorded[block_start:, 0]) > ONSET_THRESHOLD)
        if loud.size == 0:
            continue
        onset = block_start + int(loud[0])
        left_ring_ns = player.block_played_ns(onset // BLOCK_FRAMES)
        heard_ns = left_ring_ns + (onset % BLOCK_FRAMES) / RATE_HZ * 1e9 + report.output_latency_s * 1e9
        total_ms.append((heard_ns - sent) / 1e6)
        midi_ms.append((arrived_ns - sent) / 1e6)
    total, midi = np.array(total_ms), np.array(midi_ms)
    return {
        "backend": backend, "notes_sent": len(sent_ns), "notes_measured": int(total.size),
        "underruns": report.underruns, "ring_blocks": live.RING_BLOCKS_LIVE,
        "output_latency_ms": report.output_latency_s * 1e3,
        "note_to_sound_ms": {"p50": float(np.median(total)), "p99": float(np.percentile(total, 99)),
                             "min": float(total.min()), "max": float(total.max())} if total.size else None,
        "midi_transport_ms": {"p50": float(np.median(midi)), "max": float(midi.max())} if midi.size else None,
    }


# --- output ------------------------------------------------------------------------------------------


def fmt(x, digits: int = 1) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def print_tables(result: dict) -> None:
    print(f"# live_bench: {result['machine']}; {result['jack']}; {RATE_HZ} Hz, {BLOCK_FRAMES}-frame blocks "
          f"({BLOCK_FRAMES / RATE_HZ * 1e3:.2f} ms); load average {result['load_before']} before, "
          f"{result['load_after']} after")
    print()
    print("| model | mode | cards in use (median) | played s | underruns | callback p50 / p99 us (% of block) "
          "| render p50 / p99 us (% of block) |")
    print("|---|---|---|---|---|---|---|")
    for r in result["play"]:
        cb, rd = r["callback"], r["render"]
        render_text = ("(in the callback)" if r["mode"] == "callback" else
                       f"{fmt(rd['p50_us'])} / {fmt(rd['p99_us'])} ({fmt(rd['p50_pct'])}% / {fmt(rd['p99_pct'])}%)")
        print(f"| {r['model']} | {r['mode']} | {fmt(r['cards_in_use_median'], 0)}/{r['cards']} | "
              f"{r['seconds']:.1f} | {r['underruns']} ({r['device_underruns']} device, {r['empty_blocks']} not "
              f"ready) | {fmt(cb['p50_us'])} / {fmt(cb['p99_us'])} ({fmt(cb['p50_pct'])}% / {fmt(cb['p99_pct'])}%)"
              f" | {render_text} |")
    lat = result.get("latency")
    if lat:
        print()
        total, midi = lat["note_to_sound_ms"], lat["midi_transport_ms"]
        print(f"live note-on to sound ({lat['backend']} MIDI, ring of {lat['ring_blocks']} blocks, device "
              f"latency {lat['output_latency_ms']:.1f} ms), {lat['notes_measured']}/{lat['notes_sent']} notes: ")
        if total:
            print(f"  median {total['p50']:.1f} ms, p99 {total['p99']:.1f} ms (min {total['min']:.1f}, "
                  f"max {total['max']:.1f}); of which MIDI port to inbox median {midi['p50']:.2f} ms; "
                  f"underruns {lat['underruns']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each play run (default 60)")
    parser.add_argument("--quick", action="store_true", help="5-second runs: a smoke test, not a measurement")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--latency-notes", type=int, default=40, help="notes sent to time live (0: skip)")
    parser.add_argument("--jack-server", metavar="NAME",
                        help="use this running JACK server (default: start jackd -d dummy for the run)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    seconds = 5.0 if args.quick else args.seconds

    sd = live.import_sounddevice("live_bench")
    result: dict = {
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python "
                   f"{platform.python_version()}, {sd.get_portaudio_version()[1].split(',')[0]}",
        "load_before": f"{os.getloadavg()[0]:.2f}",
        "play": [],
    }
    with jack_server(args.jack_server) as jack:
        result["jack"] = f"JACK: {jack}"
        device = jack_output(sd)
        for model in args.models.split(","):
            for mode in args.modes.split(","):
                print(f"playing {seconds:g} s: {model}, {mode} ...", file=sys.stderr, flush=True)
                result["play"].append(play_run(sd, device, model, mode, seconds))
        if args.latency_notes > 0:
            print(f"timing live: {args.latency_notes} notes ...", file=sys.stderr, flush=True)
            result["latency"] = latency_run(sd, device, args.latency_notes)
    result["load_after"] = f"{os.getloadavg()[0]:.2f}"
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_tables(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
