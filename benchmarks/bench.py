#!/usr/bin/env python3
"""Speed and memory of `liquidsky render` beside FluidSynth, on the same General MIDI file.

    python benchmarks/bench.py [--quick] [--runs N] [--midi PATH] [--json]

Every figure comes from a child process: wall time from launch to exit, peak resident memory from the
kernel's accounting of that child (wait4). liquidsky renders at model iix and iii, FluidSynth with its
stock GM SoundFont, all at 44.1 kHz into WAV files in a temporary directory. Runs are interleaved
(liquidsky, FluidSynth, liquidsky, FluidSynth ...) so that a change in machine load hits both sides
alike, and each liquidsky/FluidSynth pair gives one ratio; the table shows medians. Then the cost of one
256-frame block at 48 kHz with every card busy (8 on the IIx, 16 on the Series III): what the live audio
callback would spend if it rendered the block itself. See README.md here.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MIDI = REPO_ROOT.parent / "shared" / "bench" / "bench.mid"
DEFAULT_SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
RATE_HZ = 44100
MODELS = ("iix", "iii")

# The targets the project sets itself (README.md here says why each matters).
TARGET_RATIO = {"iix": 0.5, "iii": 1.0}  # liquidsky wall time / FluidSynth wall time, at most
TARGET_HELP_S = 0.3
TARGET_ONE_NOTE_S = 1.0
TARGET_PEAK_RSS_MB = 150.0
TARGET_BLOCK_P99_PCT = 25.0  # of the block period, for the model with 16 voices

# The live block: the size and rate of JACK's usual period (5.33 ms), as benchmarks/live_bench.py plays.
BLOCK_RATE_HZ = 48000
BLOCK_FRAMES = 256
BLOCK_SECONDS = 30.0  # of the busy piece, 5,625 blocks

BYTES_PER_MB = 1_000_000


@dataclass
class Run:
    """One child process: how long it took, how much memory it held at most, how it ended."""

    wall_s: float
    peak_rss_mb: float
    returncode: int
    error: str = ""
    audio_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.error


@dataclass
class Row:
    """One line of the result table: the medians over the runs of one command."""

    name: str
    command: str
    runs: list[Run] = field(default_factory=list)
    pair_ratios: list[float] = field(default_factory=list)
    target: str = ""
    target_met: bool | None = None

    def good_runs(self) -> list[Run]:
        return [r for r in self.runs if r.ok]

    def error(self) -> str:
        failed = [r for r in self.runs if not r.ok]
        return failed[0].error if failed else ""

    def wall_s(self) -> float | None:
        good = self.good_runs()
        return statistics.median(r.wall_s for r in good) if good else None

    def audio_s(self) -> float | None:
        lengths = [r.audio_s for r in self.good_runs() if r.audio_s is not None]
        return statistics.median(lengths) if lengths else None

    def realtime_factor(self) -> float | None:
        wall, audio = self.wall_s(), self.audio_s()
        return audio / wall if wall and audio else None

    def peak_rss_mb(self) -> float | None:
        good = self.good_runs()
        return max(r.peak_rss_mb for r in good) if good else None

    def ratio(self) -> float | None:
        return statistics.median(self.pair_ratios) if self.pair_ratios else None

    def summary(self) -> dict:
        return {
            "name": self.name,
            "command": self.command,
            "n_runs": len(self.runs),
            "n_ok": len(self.good_runs()),
            "wall_s_median": self.wall_s(),
            "wall_s_all": [r.wall_s for r in self.runs],
            "audio_s": self.audio_s(),
            "realtime_factor": self.realtime_factor(),
            "peak_rss_mb_max": self.peak_rss_mb(),
            "ratio_to_fluidsynth_median": self.ratio(),
            "target": self.target,
            "target_met": self.target_met,
            "error": self.error(),
        }


def peak_rss_mb(usage: object) -> float:
    # ru_maxrss is in KiB on Linux and in bytes on macOS (getrusage(2) on each system)
    scale = 1 if sys.platform == "darwin" else 1024
    return usage.ru_maxrss * scale / BYTES_PER_MB  # type: ignore[attr-defined]


def audio_seconds(path: Path) -> float | None:
    """Length of a rendered file, or None if it is missing or unreadable."""
    if not path.is_file():
        return None
    try:
        import soundfile

        info = soundfile.info(str(path))
        return info.frames / info.samplerate
    except Exception:
        return None


def run_child(command: list[str], output: Path | None = None) -> Run:
    """Run a command to completion; time it and read its peak RSS from wait4.

    It runs in the temporary directory, so that `python -m synth` imports the installed package, not a
    source tree in the current directory."""
    if output is not None and output.exists():
        output.unlink()
    with tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        try:
            child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=stderr, cwd=tempfile.gettempdir())
        except OSError as exc:
            return Run(wall_s=0.0, peak_rss_mb=0.0, returncode=127, error=f"cannot start: {exc}")
        # wait4 rather than child.wait(): it hands back this one child's resource usage
        _, status, usage = os.wait4(child.pid, 0)
        wall_s = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        stderr.seek(0)
        lines = stderr.read().decode("utf-8", "replace").strip().splitlines()
    run = Run(wall_s=wall_s, peak_rss_mb=peak_rss_mb(usage), returncode=child.returncode)
    if run.returncode != 0:
        run.error = f"exit {run.returncode}: " + (lines[-1] if lines else "(no message)")
    elif output is not None:
        run.audio_s = audio_seconds(output)
        if run.audio_s is None:
            run.error = f"no readable audio in {output.name}"
    return run


def liquidsky_render(midi: Path, wav: Path, model: str) -> list[str]:
    return [sys.executable, "-m", "synth", "render", str(midi), "-o", str(wav), "--model", model,
            "--rate", str(RATE_HZ), "-q"]


def liquidsky_help() -> list[str]:
    """The console script beside this interpreter if it is installed, else the module."""
    script = Path(sys.executable).parent / "liquidsky"
    if script.is_file():
        return [str(script), "--help"]
    return [sys.executable, "-m", "synth", "--help"]


def fluidsynth_render(fluidsynth: str, soundfont: Path, midi: Path, wav: Path) -> list[str]:
    # options first, then SoundFont, then MIDI file (fluidsynth [options] [soundfonts] [midifiles]);
    # -n -i: no MIDI input, no shell; -F: render the file as fast as possible; -q: no banner
    return [fluidsynth, "-q", "-n", "-i", "-F", str(wav), "-r", str(RATE_HZ), str(soundfont), str(midi)]


def fluidsynth_version(fluidsynth: str) -> str:
    try:
        result = subprocess.run([fluidsynth, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    first = result.stdout.strip().splitlines()[:1]
    return first[0].replace("FluidSynth runtime version", "").strip() if first else "unknown"


def liquidsky_version() -> str:
    try:
        from importlib.metadata import version

        return version("liquidsky")
    except Exception:
        return "unknown"


def write_one_note(path: Path) -> None:
    """A MIDI file with one quarter note (middle C at 120 bpm): start-up plus the shortest render."""
    import mido

    midi = mido.MidiFile(type=0, ticks_per_beat=480)
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(120)))
    track.append(mido.Message("note_on", note=60, velocity=100, time=0))
    track.append(mido.Message("note_off", note=60, velocity=0, time=480))
    track.append(mido.MetaMessage("end_of_track", time=0))
    midi.tracks.append(track)
    midi.save(str(path))


def block_cost(model: str, seconds: float) -> dict:
    """In this process: the engine's time per 256-frame block at 48 kHz (handling the block's events and
    rendering it, as live.FileFeed does for `liquidsky play`), on live_bench's piece that keeps every
    card busy. Microseconds, p50 and p99 over the blocks."""
    import gc

    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from live_bench import load_piece

    from synth import live
    from synth.engine import Engine
    from synth.hardware import get_profile
    from synth.midifile import timed_events
    from synth.offline import song_end_frame

    n_cards = get_profile(model).n_voices
    midi = load_piece(n_cards, seconds)
    make = lambda: Engine(model=model, rate_hz=BLOCK_RATE_HZ)  # noqa: E731
    live.warm_up(make, BLOCK_FRAMES)
    engine = make()
    feed = live.FileFeed(timed_events(midi, BLOCK_RATE_HZ), engine, BLOCK_FRAMES,
                         song_end_frame(midi, BLOCK_RATE_HZ))
    out = np.zeros((BLOCK_FRAMES, 2), dtype=np.float32)
    times_ns = []
    in_use = []
    gc.collect()
    gc.freeze()  # as live.Player does before a stream starts
    while True:
        start = time.perf_counter_ns()
        n = feed.fill(out)
        times_ns.append(time.perf_counter_ns() - start)
        in_use.append(engine.n_sounding)
        if n == 0:
            break
    us = np.array(times_ns[:-1], dtype=np.float64) / 1e3
    period_us = BLOCK_FRAMES / BLOCK_RATE_HZ * 1e6
    p50, p99 = (float(np.percentile(us, q)) for q in (50, 99))
    return {"model": model, "cards": n_cards, "blocks": int(us.size),
            "cards_in_use_median": float(np.median(in_use)), "p50_us": p50, "p99_us": p99,
            "max_us": float(us.max()), "period_us": period_us,
            "p50_pct": 100 * p50 / period_us, "p99_pct": 100 * p99 / period_us}


def run_block_cost(model: str, seconds: float) -> dict:
    """block_cost in a child process of its own (a fresh interpreter, like a live session)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--block-cost-child", model, "--block-seconds",
               str(seconds)]
    result = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                            cwd=tempfile.gettempdir())
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        return {"model": model, "error": f"exit {result.returncode}: " + (lines[-1] if lines else "(no message)")}
    return json.loads(result.stdout)


def say(quiet: bool, text: str) -> None:
    if not quiet:
        print(text, file=sys.stderr, flush=True)


def measure(args: argparse.Namespace) -> dict:
    midi = Path(args.midi).resolve()
    if not midi.is_file():
        raise SystemExit(f"bench: no such MIDI file: {midi}")
    fluidsynth = shutil.which("fluidsynth")
    soundfont = Path(args.soundfont)
    fluidsynth_note = ""
    if fluidsynth is None:
        fluidsynth_note = "fluidsynth is not installed: liquidsky figures only"
    elif not soundfont.is_file():
        fluidsynth_note = f"no SoundFont at {soundfont}: liquidsky figures only"
        fluidsynth = None
    quiet = args.json
    models = [m for m in args.models.split(",") if m]

    environment = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "liquidsky": liquidsky_version(),
        "fluidsynth": fluidsynth_version(fluidsynth) if fluidsynth else None,
        "midi": str(midi),
        "soundfont": str(soundfont) if fluidsynth else None,
        "rate_hz": RATE_HZ,
        "runs": args.runs,
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
    }

    rows: dict[str, Row] = {}
    with tempfile.TemporaryDirectory(prefix="liquidsky-bench-") as tmp:
        tmp_dir = Path(tmp)
        one_note = tmp_dir / "one-note.mid"
        write_one_note(one_note)
        out_ls = tmp_dir / "liquidsky.wav"
        out_fs = tmp_dir / "fluidsynth.wav"

        # Warm-up, not timed: fills the page cache (the interpreter, the libraries, the voices), so that
        # the timed runs measure a normal run rather than the first one after installation.
        say(quiet, "warming up ...")
        for model in models:
            run_child(liquidsky_render(one_note, out_ls, model), out_ls)
        if fluidsynth:
            run_child(fluidsynth_render(fluidsynth, soundfont, one_note, out_fs), out_fs)

        help_command = liquidsky_help()
        help_row = Row("liquidsky --help", " ".join(help_command), target=f"< {TARGET_HELP_S} s")
        for _ in range(args.startup_runs):
            help_row.runs.append(run_child(help_command))
        say(quiet, f"start-up: {len(help_row.runs)} runs")

        for model in models:
            row = Row(f"one-note render {model}", " ".join(liquidsky_render(one_note, out_ls, model)),
                      target=f"< {TARGET_ONE_NOTE_S} s")
            for _ in range(args.runs):
                row.runs.append(run_child(liquidsky_render(one_note, out_ls, model), out_ls))
                if not row.runs[-1].ok:
                    break  # the same failure again would only cost time
            rows[row.name] = row
            say(quiet, f"one-note render {model}: {len(row.runs)} runs")

        fs_row = None
        if fluidsynth:
            fs_row = Row(f"FluidSynth {environment['fluidsynth']}",
                         " ".join(fluidsynth_render(fluidsynth, soundfont, midi, out_fs)))
        render_rows = {
            model: Row(f"liquidsky {model}", " ".join(liquidsky_render(midi, out_ls, model)),
                       target=f"ratio <= {TARGET_RATIO.get(model, 1.0)}" if fluidsynth else "")
            for model in models
        }
        for i in range(args.runs):
            for model in models:
                row = render_rows[model]
                run_ls = None
                if not row.runs or row.runs[-1].ok:
                    run_ls = run_child(liquidsky_render(midi, out_ls, model), out_ls)
                    row.runs.append(run_ls)
                if fs_row is not None:
                    run_fs = run_child(fluidsynth_render(fluidsynth, soundfont, midi, out_fs), out_fs)
                    fs_row.runs.append(run_fs)
                    if run_ls is not None and run_ls.ok and run_fs.ok:
                        row.pair_ratios.append(run_ls.wall_s / run_fs.wall_s)
                ls_text = f"{run_ls.wall_s:.2f} s" if run_ls and run_ls.ok else "failed"
                fs_text = f", FluidSynth {fs_row.runs[-1].wall_s:.2f} s" if fs_row else ""
                say(quiet, f"round {i + 1}/{args.runs} {model}: liquidsky {ls_text}{fs_text}")

    blocks = []
    for model in models:
        blocks.append(run_block_cost(model, args.block_seconds))
        say(quiet, f"live block cost {model}: done")
    for block in blocks:
        if "p99_pct" in block:
            block["target"] = f"p99 < {TARGET_BLOCK_P99_PCT:.0f}% of the block" if block["cards"] >= 16 else ""
            block["target_met"] = block["p99_pct"] < TARGET_BLOCK_P99_PCT if block["cards"] >= 16 else None

    table = [help_row] + [rows[f"one-note render {m}"] for m in models] + [render_rows[m] for m in models]
    if fs_row is not None:
        table.append(fs_row)

    # verdicts against the targets, where the figures exist
    help_wall = help_row.wall_s()
    help_row.target_met = None if help_wall is None else help_wall < TARGET_HELP_S
    for model in models:
        note_row = rows[f"one-note render {model}"]
        note_wall = note_row.wall_s()
        note_row.target_met = None if note_wall is None else note_wall < TARGET_ONE_NOTE_S
        row = render_rows[model]
        ratio, rss = row.ratio(), row.peak_rss_mb()
        if ratio is not None and rss is not None:
            row.target_met = ratio <= TARGET_RATIO.get(model, 1.0) and rss < TARGET_PEAK_RSS_MB
        row.target = (row.target + ", " if row.target else "") + f"RSS < {TARGET_PEAK_RSS_MB:.0f} MB"

    return {
        "environment": environment,
        "note": fluidsynth_note,
        "results": [row.summary() for row in table],
        "blocks": blocks,
    }


def _fmt(value: float | None, spec: str) -> str:
    width = spec.split(".")[0]
    return format("-", f">{width}") if value is None else format(value, spec)


def print_table(report: dict) -> None:
    env = report["environment"]
    print(f"liquidsky {env['liquidsky']}, Python {env['python']}, {env['platform']}, "
          f"{env['cpu_count']} CPUs, load {_fmt(env['load_average_1min'], '0.2f')}")
    print(f"MIDI {env['midi']}, {env['rate_hz']} Hz, {env['runs']} runs each (medians)")
    if env["fluidsynth"]:
        print(f"FluidSynth {env['fluidsynth']} with {env['soundfont']}")
    if report["note"]:
        print(f"NOTE: {report['note']}")
    print()
    header = f"{'':24} {'wall s':>8} {'audio s':>8} {'x realtime':>10} {'peak MB':>8} {'/ FS':>6}  target"
    print(header)
    print("-" * len(header))
    for r in report["results"]:
        verdict = {True: "met", False: "MISSED", None: ""}[r["target_met"]]
        target = f"{r['target']} {verdict}".strip() if r["target"] else ""
        print(f"{r['name']:24} {_fmt(r['wall_s_median'], '8.3f')} {_fmt(r['audio_s'], '8.1f')} "
              f"{_fmt(r['realtime_factor'], '10.1f')} {_fmt(r['peak_rss_mb_max'], '8.1f')} "
              f"{_fmt(r['ratio_to_fluidsynth_median'], '6.2f')}  {target}")
        if r["error"]:
            print(f"{'':24} failed ({r['n_ok']}/{r['n_runs']} ok): {r['error']}")
    blocks = report.get("blocks", [])
    if blocks:
        print()
        print(f"One block of {BLOCK_FRAMES} frames at {BLOCK_RATE_HZ} Hz "
              f"({BLOCK_FRAMES / BLOCK_RATE_HZ * 1e3:.2f} ms), every card busy: events handled and block rendered")
        header = f"{'':24} {'cards':>5} {'blocks':>6} {'p50 us':>8} {'p99 us':>8} {'max us':>8} {'p99 %':>6}  target"
        print(header)
        print("-" * len(header))
        for b in blocks:
            name = f"liquidsky {b['model']}"
            if "error" in b:
                print(f"{name:24} failed: {b['error']}")
                continue
            verdict = {True: "met", False: "MISSED", None: ""}[b.get("target_met")]
            target = f"{b.get('target', '')} {verdict}".strip()
            print(f"{name:24} {b['cards']:>5} {b['blocks']:>6} {b['p50_us']:8.1f} {b['p99_us']:8.1f} "
                  f"{b['max_us']:8.1f} {b['p99_pct']:6.1f}  {target}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run of each, three of --help")
    parser.add_argument("--runs", type=int, default=5, help="runs of each render (default 5)")
    parser.add_argument("--midi", default=str(DEFAULT_MIDI), help=f"MIDI file (default {DEFAULT_MIDI})")
    parser.add_argument("--soundfont", default=str(DEFAULT_SOUNDFONT), help="SoundFont for FluidSynth")
    parser.add_argument("--models", default=",".join(MODELS), help="liquidsky models, comma-separated")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    parser.add_argument("--block-seconds", type=float, default=BLOCK_SECONDS,
                        help=f"seconds of the busy piece for the live block cost (default {BLOCK_SECONDS:g})")
    parser.add_argument("--block-cost-child", metavar="MODEL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.block_cost_child:
        json.dump(block_cost(args.block_cost_child, args.block_seconds), sys.stdout)
        return 0
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.quick:
        args.runs = 1
        args.block_seconds = min(args.block_seconds, 5.0)
    args.startup_runs = 3 if args.quick else max(5, args.runs)
    report = measure(args)
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
    else:
        print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
