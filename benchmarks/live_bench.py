#!/usr/bin/env python3
"""Real-time playback against a JACK server with the dummy driver: underruns idle and under load beside
FluidSynth, and the timing of live MIDI input.

    python benchmarks/live_bench.py [--seconds 60] [--quick] [--midi ../shared/bench/bench.mid]
                                    [--loads idle,busy] [--busy-loops 2] [--players liquidsky,fluidsynth]
                                    [--path jack|portaudio|both] [--latency-notes 200] [--json]

A JACK server of its own is started for the run (jackd -d dummy -r 48000 -p 256, its log kept). For each
load (idle; busy: --busy-loops processes of `while 1: pass` at normal priority, one per core), each player
plays the piece through JACK for --seconds: `liquidsky play` on each audio path --path asks for (jack:
liquidsky's own JACK client, portaudio: PortAudio's JACK device; its own count of underruns, and the xruns
the server logs meanwhile) and `fluidsynth -a jack` with FluidR3_GM (the xruns the server logs). Then
`liquidsky live`'s path is timed from note-on to sound on each audio path: notes are sent from a MIDI
port of this process to the virtual port 'liquidsky', and each note's onset is found in the recording.
See README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
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

RATE_HZ = 48000
BLOCK_FRAMES = 256
JACK_API = "JACK Audio Connection Kit"
HERE = Path(__file__).resolve().parent
DEFAULT_MIDI = HERE.parent.parent / "shared" / "bench" / "bench.mid"
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
XRUN_LINE = re.compile(r"xrun", re.IGNORECASE)  # jackd2 logs each late cycle: "JackTimedDriver::Process XRun = 29 usec"
# Of those, the lines that name a client: "JackEngine::XRun: client = PortAudio was not finished, state = Triggered".
# The others are the driver's own timer waking late, which no client can help.
LATE_CLIENT = re.compile(r"client = (\S+) was not finished")
# The JACK client each player shows on the server.
CLIENT_NAMES = {"liquidsky (jack)": "liquidsky", "liquidsky (portaudio)": "PortAudio", "fluidsynth": "fluidsynth"}
UNDERRUNS = re.compile(r": (\d+) underruns?(?: \((\d+) reported by the device, (\d+) blocks not ready\))?")

LATENCY_GAP_S = 0.125  # between the notes sent for the latency measurement
LATENCY_NOTE = 69
# The onset is the first sample above this (-54 dBFS), from the frame the note-on was placed on.
ONSET_THRESHOLD = 0.002


# --- JACK --------------------------------------------------------------------------------------------


def jack_running(server: str) -> bool:
    env = dict(os.environ, JACK_NO_START_SERVER="1", JACK_DEFAULT_SERVER=server)
    return subprocess.run(["jack_lsp"], env=env, capture_output=True).returncode == 0


def jack_ports(server: str) -> list[str]:
    env = dict(os.environ, JACK_NO_START_SERVER="1", JACK_DEFAULT_SERVER=server)
    return subprocess.run(["jack_lsp"], env=env, capture_output=True, text=True).stdout.split()


class JackServer:
    """jackd -d dummy under a name of its own, its log in a file whose xrun lines can be counted."""

    def __init__(self, log_dir: Path) -> None:
        if shutil.which("jackd") is None:
            sys.exit("live_bench: no jackd to start a JACK server with (apt-get install jackd2)")
        self.name = f"liquidsky-bench-{os.getpid()}"
        self.log_path = log_dir / "jackd.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - kept open for the server's life
        env = dict(os.environ, JACK_NO_AUDIO_RESERVATION="1")
        self.proc = subprocess.Popen(
            ["jackd", "-n", self.name, "-d", "dummy", "-r", str(RATE_HZ), "-p", str(BLOCK_FRAMES)],
            env=env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        for _ in range(150):
            if jack_running(self.name):
                break
            time.sleep(0.1)
        else:
            self.close()
            sys.exit("live_bench: jackd -d dummy did not start")
        os.environ["JACK_DEFAULT_SERVER"] = self.name

    def xruns(self) -> int:
        """The late cycles the server has logged so far."""
        return len(self.xrun_lines())

    def xrun_lines(self) -> list[str]:
        self._log.flush()
        return [line for line in self.log_path.read_text(errors="replace").splitlines() if XRUN_LINE.search(line)]

    def close(self) -> None:
        sd = sys.modules.get("sounddevice")
        if sd is not None:
            with contextlib.suppress(Exception):
                sd._terminate()  # PortAudio must leave before the server goes
        self.proc.terminate()
        self.proc.wait()
        self._log.close()


@contextlib.contextmanager
def busy_loops(n: int):
    """n processes spinning at normal priority (one per core keeps the machine busy), stopped after."""
    procs = [subprocess.Popen([sys.executable, "-c", "while 1: pass"]) for _ in range(n)]
    try:
        time.sleep(1.0)  # let the scheduler see them
        yield
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait()


# --- the players -------------------------------------------------------------------------------------


def wait_for_port(server: JackServer, prefix: str, proc: subprocess.Popen, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the player exited before its JACK port appeared (status {proc.returncode})")
        if any(p.startswith(prefix) for p in jack_ports(server.name)):
            return
        time.sleep(0.1)
    raise RuntimeError(f"no JACK port {prefix}* within {timeout_s:g} s")


# The JACK port each audio path's client shows while it plays.
PATH_PORTS = {"jack": "liquidsky:", "portaudio": "PortAudio"}


def play_liquidsky(server: JackServer, midi: Path, seconds: float, path: str) -> dict:
    """`liquidsky play --audio PATH` for `seconds`, then Ctrl-C: its own underrun count and the server's xruns."""
    env = dict(os.environ, JACK_DEFAULT_SERVER=server.name, LIQUIDSKY_JACK_SERVER=server.name,
               JACK_NO_START_SERVER="1")
    # SIGINT as the terminal sends it (a shell running this in the background would have it ignored).
    proc = subprocess.Popen([sys.executable, "-m", "synth", "play", str(midi), "--audio", path], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        proc.stdout.readline()  # "playing ...": the ring is full and the stream opens now
        try:
            wait_for_port(server, PATH_PORTS[path], proc)
        except RuntimeError as e:
            raise RuntimeError(f"{e}: {proc.stderr.read().strip()}") from None
        x0, t0 = server.xruns(), time.monotonic()
        time.sleep(seconds)
        x1, t1 = server.xruns(), time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    match = UNDERRUNS.search(out)
    if match is None:
        raise RuntimeError(f"liquidsky play said: {out.strip()} {err.strip()}")
    return {"player": f"liquidsky ({path})", "path": path, "seconds": t1 - t0, "server_xruns": x1 - x0,
            "server_log": server.xrun_lines()[x0:x1],
            "underruns": int(match.group(1)), "device_underruns": int(match.group(2) or 0),
            "not_ready": int(match.group(3) or 0), "summary": out.strip().splitlines()[-1]}


def play_fluidsynth(server: JackServer, midi: Path, seconds: float) -> dict:
    """`fluidsynth -a jack` with FluidR3_GM for `seconds`: the xruns the server logs from before it starts until
    after it has closed, so its start and close count as liquidsky's own underrun count does (the whole stream)."""
    env = dict(os.environ, JACK_DEFAULT_SERVER=server.name, JACK_NO_START_SERVER="1")
    x0 = server.xruns()
    proc = subprocess.Popen(["fluidsynth", "-a", "jack", "-j", "-i", "-q", "-r", str(RATE_HZ), str(SOUNDFONT),
                             str(midi)], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_for_port(server, "fluidsynth", proc)
        t0 = time.monotonic()
        time.sleep(seconds)
        t1 = time.monotonic()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    time.sleep(0.5)  # the server logs a client's last cycles after it has gone
    x1 = server.xruns()
    return {"player": "fluidsynth", "seconds": t1 - t0, "server_xruns": x1 - x0,
            "server_log": server.xrun_lines()[x0:x1]}


# --- live input --------------------------------------------------------------------------------------


def jack_output(sd) -> int:
    live.rescan_devices(sd)
    for dev in live.output_devices(sd):
        if dev.hostapi == JACK_API:
            return dev.index
    sys.exit("live_bench: PortAudio shows no JACK output")


def latency_run(card, device: int | None, n_notes: int) -> dict:
    """Note-on sent from a MIDI port, and its arrival at liquidsky's port, to the sound leaving the card.

    `card` is sounddevice (PortAudio's JACK device `device`) or a live.JackCard."""
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
                rng = np.random.default_rng(1)
                for _ in range(n_notes):
                    sent_ns.append(live.now_ns())
                    sender.send(mido.Message("note_on", note=LATENCY_NOTE, velocity=120))
                    time.sleep(LATENCY_GAP_S / 2)
                    sender.send(mido.Message("note_off", note=LATENCY_NOTE))
                    time.sleep(LATENCY_GAP_S / 2 * (0.5 + rng.random()))  # not in step with the period

            thread = threading.Thread(target=send)
            thread.start()
            try:
                report = player.run(card, device)
            finally:
                thread.join()
                sender.close()
        import soundfile as sf

        recorded, _ = sf.read(path, dtype="float32")
    send_ms, arrival_ms, transport_ms = [], [], []
    for (frame, arrived_ns, _), sent in zip(feed.note_ons, sent_ns, strict=False):
        loud = np.flatnonzero(np.abs(recorded[frame:frame + BLOCK_FRAMES * 4, 0]) > ONSET_THRESHOLD)
        if loud.size == 0:
            continue
        onset = frame + int(loud[0])
        heard_ns = (player.block_played_ns(onset // BLOCK_FRAMES) + (onset % BLOCK_FRAMES) / RATE_HZ * 1e9
                    + report.output_latency_s * 1e9)
        send_ms.append((heard_ns - sent) / 1e6)
        arrival_ms.append((heard_ns - arrived_ns) / 1e6)
        transport_ms.append((arrived_ns - sent) / 1e6)

    def stats(values: list[float]) -> dict | None:
        if not values:
            return None
        a = np.array(values)
        p1, p50, p99 = (float(x) for x in np.percentile(a, [1, 50, 99]))
        return {"p50": p50, "p1": p1, "p99": p99, "min": float(a.min()), "max": float(a.max()),
                "std": float(a.std()), "spread_p1_p99": p99 - p1}

    # How steadily the callback came: the time between the starts of consecutive blocks (one period each).
    n_blocks = min(player.ring.n_read, live.TIMING_SLOTS)
    first = player.ring.n_read - n_blocks
    starts = np.array([player.block_played_ns(k) for k in range(first, player.ring.n_read)], dtype=np.float64)
    intervals_ms = list(np.diff(starts) / 1e6) if starts.size > 2 else []
    return {
        "callback_interval_ms": stats(intervals_ms),
        "backend": backend, "notes_sent": len(sent_ns), "notes_measured": len(send_ms),
        "underruns": report.underruns, "late_messages": report.late_messages, "ring_blocks": live.RING_BLOCKS_LIVE,
        "output_latency_ms": report.output_latency_s * 1e3,
        "callback_us": {"p50": float(np.median(report.callback_ns)) / 1e3,
                        "p99": float(np.percentile(report.callback_ns, 99)) / 1e3,
                        "max": float(report.callback_ns.max()) / 1e3} if report.callback_ns.size else None,
        "arrival_to_sound_ms": stats(arrival_ms), "send_to_sound_ms": stats(send_ms),
        "send_to_arrival_ms": stats(transport_ms),
    }


# --- output ------------------------------------------------------------------------------------------


def print_tables(result: dict) -> None:
    print(f"# live_bench: {result['machine']}; jackd -d dummy -r {RATE_HZ} -p {BLOCK_FRAMES}; "
          f"{Path(result['midi']).name}, {result['seconds']:g} s per run")
    print()
    print("| load | player | load average (1 min) at start / end | played s | underruns (liquidsky's count) "
          "| xruns the server logged | of which its client was not finished |")
    print("|---|---|---|---|---|---|---|")
    for r in result["play"]:
        own = (f"{r['underruns']} ({r['device_underruns']} device, {r['not_ready']} not ready)"
               if r["player"].startswith("liquidsky") else "-")
        print(f"| {r['load']} | {r['player']} | {r['load_before']} / {r['load_after']} | {r['seconds']:.1f} | "
              f"{own} | {r['server_xruns']} | {r['client_late']} |")
    for lat in result.get("latency", []):
        print()
        print(f"live note-on to sound through {lat['path']} ({lat['backend']} MIDI, ring of {lat['ring_blocks']} "
              f"blocks, device latency "
              f"{lat['output_latency_ms']:.1f} ms), {lat['notes_measured']}/{lat['notes_sent']} notes, "
              f"underruns {lat['underruns']}, late messages {lat['late_messages']}, load average "
              f"{lat['load_before']} / {lat['load_after']}:")
        cb = lat["callback_us"]
        if cb:
            print(f"  the C callback's own time per block: median {cb['p50']:.1f} us, p99 {cb['p99']:.1f} us, "
                  f"max {cb['max']:.1f} us")
        for key, what in (("callback_interval_ms", "from one callback to the next (one period)"),
                          ("arrival_to_sound_ms", "arrival at the port to sound"),
                          ("send_to_sound_ms", "sent by the other program to sound"),
                          ("send_to_arrival_ms", "sent to arrival (JACK MIDI transport)")):
            st = lat[key]
            if st:
                print(f"  {what}: median {st['p50']:.2f} ms, p1-p99 {st['p1']:.2f}-{st['p99']:.2f} ms "
                      f"(spread {st['spread_p1_p99']:.2f} ms, std {st['std']:.2f} ms, min {st['min']:.2f}, "
                      f"max {st['max']:.2f})")


def loadavg() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each play run (default 60)")
    parser.add_argument("--quick", action="store_true", help="5-second runs: a smoke test, not a measurement")
    parser.add_argument("--midi", type=Path, default=DEFAULT_MIDI, help="the piece to play (default bench.mid)")
    parser.add_argument("--loads", default="idle,busy", help="idle, busy or both (default idle,busy)")
    parser.add_argument("--busy-loops", type=int, default=os.cpu_count() or 2,
                        help="busy processes for the busy load (default: one per CPU)")
    parser.add_argument("--players", default="liquidsky,fluidsynth")
    parser.add_argument("--path", choices=("jack", "portaudio", "both"), default="both",
                        help="liquidsky's audio path: its own JACK client, PortAudio's JACK device, or both "
                             "(default), each measured in the same run")
    parser.add_argument("--latency-notes", type=int, default=200, help="notes sent to time live (0: skip)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    seconds = 5.0 if args.quick else args.seconds
    paths = ["jack", "portaudio"] if args.path == "both" else [args.path]

    sd = live.import_sounddevice("live_bench")
    result: dict = {
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python "
                   f"{platform.python_version()}, {sd.get_portaudio_version()[1].split(',')[0]}",
        "midi": str(args.midi), "seconds": seconds, "play": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        server = JackServer(Path(tmp))
        try:
            for load in args.loads.split(","):
                context = busy_loops(args.busy_loops) if load == "busy" else contextlib.nullcontext()
                with context:
                    runs = []
                    for name in filter(None, args.players.split(",")):
                        if name == "liquidsky":
                            runs += [(f"liquidsky ({path})", lambda path=path: play_liquidsky(
                                server, args.midi, seconds, path)) for path in paths]
                        elif name == "fluidsynth":
                            runs.append((name, lambda: play_fluidsynth(server, args.midi, seconds)))
                        else:
                            sys.exit(f"live_bench: no player {name!r} (liquidsky, fluidsynth)")
                    for name, run in runs:
                        print(f"playing {seconds:g} s: {name}, {load} ...", file=sys.stderr, flush=True)
                        before = loadavg()
                        row = run()
                        late = [m.group(1) for m in map(LATE_CLIENT.search, row["server_log"]) if m]
                        row.update(load=load if load == "idle" else f"busy ({args.busy_loops} loops)",
                                   load_before=before, load_after=loadavg(),
                                   client_late=late.count(CLIENT_NAMES.get(name, name)))
                        result["play"].append(row)
            result["latency"] = []
            for path in paths if args.latency_notes > 0 else []:
                print(f"timing live through {path}: {args.latency_notes} notes ...", file=sys.stderr, flush=True)
                before = loadavg()
                if path == "jack":
                    live.release_portaudio(sd)  # PortAudio's own JACK client leaves the server, as in play
                    lat = latency_run(live.JackCard(server=server.name), None, args.latency_notes)
                else:
                    lat = latency_run(sd, jack_output(sd), args.latency_notes)
                lat.update(path=path, load_before=before, load_after=loadavg())
                result["latency"].append(lat)
        finally:
            server.close()
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_tables(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
