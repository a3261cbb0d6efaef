#!/usr/bin/env python3
"""Files per second of a batch: `--jobs 1` and `--jobs 2` against a Dask LocalCluster of 1 and 2 workers.

    python benchmarks/collections_bench.py [--files N] [--seconds S] [--runs R] [--json]

A folder of N short General MIDI files (S seconds each: four channels of seeded random chords and a
line, drums on channel 10) is rendered by the command line, each way in turn, into a fresh folder:

  jobs-1, jobs-2     `liquidsky render FOLDER -o OUT --jobs N`
  dask-1, dask-2     `liquidsky render FOLDER -o OUT --dask local:N` (the cluster's start counted)
  warm-1, warm-2     `--dask tcp://...` to a LocalCluster of N workers started beforehand (throughput
                     once a cluster is up, as on a real one)
  fluidsynth-1, -2   the peer: `fluidsynth -ni -F OUT.wav` for each file, 1 or 2 at once

Each figure is wall time from launch to exit of the command, as files per second; rounds are
interleaved so that a change in the machine's load hits every way alike, and the table shows the
median of R rounds and the load average (1 min) before and after. The outputs of every liquidsky way
are checked byte for byte against jobs-1. See README.md here.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
RATE_HZ = 44100


def make_folder(folder: Path, n_files: int, seconds: float) -> None:
    """N seeded pieces of `seconds` each: a chord a beat on two channels, a line, a bass, drums."""
    import mido

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n_files):
        rng = random.Random(i)
        midi = mido.MidiFile(ticks_per_beat=480)
        events: list[tuple[int, mido.Message]] = []
        programs = {0: rng.choice([0, 4, 6, 11]), 1: rng.choice([48, 52, 89]), 2: rng.choice([73, 56, 40]),
                    3: rng.choice([32, 33, 38])}
        beats = int(seconds * 2)  # 120 BPM
        for channel, program in programs.items():
            events.append((0, mido.Message("program_change", channel=channel, program=program)))
        for beat in range(beats):
            t = beat * 480
            root = 48 + rng.choice([0, 3, 5, 7, 8, 10])
            for channel, notes, length in ((0, (root + 12, root + 15, root + 19), 440), (1, (root, root + 7), 900),
                                           (2, (root + 24 + rng.choice([0, 2, 3, 5, 7]),), 220),
                                           (3, (root - 12,), 460)):
                if channel == 1 and beat % 2:
                    continue
                for note in notes:
                    events.append((t, mido.Message("note_on", channel=channel, note=note, velocity=90)))
                    events.append((t + length, mido.Message("note_off", channel=channel, note=note)))
            for key in ((36,) if beat % 2 == 0 else (38,)) + (42,):
                events.append((t, mido.Message("note_on", channel=9, note=key, velocity=100)))
                events.append((t + 100, mido.Message("note_off", channel=9, note=key)))
        track = mido.MidiTrack()
        now = 0
        for t, message in sorted(events, key=lambda e: (e[0], e[1].type == "note_on")):
            track.append(message.copy(time=t - now))
            now = t
        midi.tracks.append(track)
        midi.save(folder / f"piece-{i:03d}.mid")


def run_liquidsky(folder: Path, out: Path, how: list[str]) -> float:
    command = [sys.executable, "-m", "synth", "render", os.fspath(folder), "-o", os.fspath(out), "--quiet", *how]
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=REPO_ROOT)
    return time.perf_counter() - start


def run_fluidsynth(folder: Path, out: Path, n_parallel: int) -> float:
    from concurrent.futures import ThreadPoolExecutor

    out.mkdir(parents=True, exist_ok=True)
    files = sorted(folder.glob("*.mid"))

    def one(path: Path) -> None:
        subprocess.run(["fluidsynth", "-ni", "-q", "-r", str(RATE_HZ), "-F", os.fspath(out / f"{path.stem}.wav"),
                        os.fspath(SOUNDFONT), os.fspath(path)], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    start = time.perf_counter()
    with ThreadPoolExecutor(n_parallel) as pool:
        list(pool.map(one, files))
    return time.perf_counter() - start


def same_bytes(a: Path, b: Path) -> bool:
    names = sorted(p.name for p in a.glob("*.wav"))
    return names == sorted(p.name for p in b.glob("*.wav")) and all(
        (a / n).read_bytes() == (b / n).read_bytes() for n in names)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=16, help="files in the folder (default 16)")
    parser.add_argument("--seconds", type=float, default=12.0, help="length of each piece (default 12 s)")
    parser.add_argument("--runs", type=int, default=3, help="rounds; the table shows medians (default 3)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    import logging

    from synth.app.cluster import local_cluster

    load_before = os.getloadavg()[0]
    times: dict[str, list[float]] = {}
    identical = True
    with tempfile.TemporaryDirectory(prefix="collections-bench-") as tmp:
        root = Path(tmp)
        folder = root / "midi"
        make_folder(folder, args.files, args.seconds)
        clusters = {n: local_cluster(n, silence_logs=logging.CRITICAL) for n in (1, 2)}
        try:
            ways: dict[str, object] = {
                "jobs-1": ["--jobs", "1"], "jobs-2": ["--jobs", "2"],
                "dask-1": ["--dask", "local:1"], "dask-2": ["--dask", "local:2"],
                "warm-1": ["--dask", clusters[1].scheduler_address],
                "warm-2": ["--dask", clusters[2].scheduler_address],
            }
            if shutil.which("fluidsynth") and SOUNDFONT.exists():
                ways["fluidsynth-1"], ways["fluidsynth-2"] = 1, 2
            for r in range(args.runs):
                for name, how in ways.items():
                    out = root / f"out-{name}-{r}"
                    if isinstance(how, int):
                        elapsed = run_fluidsynth(folder, out, how)
                    else:
                        elapsed = run_liquidsky(folder, out, how)
                        identical &= same_bytes(out, root / f"out-jobs-1-{r}")
                    times.setdefault(name, []).append(elapsed)
                    if name != "jobs-1":
                        shutil.rmtree(out)
                shutil.rmtree(root / f"out-jobs-1-{r}")
        finally:
            for cluster in clusters.values():
                cluster.close()
    load_after = os.getloadavg()[0]

    audio_s = args.files * args.seconds
    results = {name: {"wall_s": statistics.median(t), "files_per_s": args.files / statistics.median(t),
                      "runs_s": [round(x, 2) for x in t]} for name, t in times.items()}
    info = {"files": args.files, "seconds_each": args.seconds, "runs": args.runs, "cpus": os.cpu_count(),
            "python": platform.python_version(), "load_1min_before": load_before, "load_1min_after": load_after,
            "outputs_identical": identical, "results": results}
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"{args.files} files of {args.seconds:g} s ({audio_s:g} s of audio), {os.cpu_count()} CPUs, "
          f"load average {load_before:.2f} before, {load_after:.2f} after; medians of {args.runs} runs")
    base = results["jobs-1"]["files_per_s"]
    print(f"{'way':<14}{'wall s':>8}{'files/s':>9}{'x jobs-1':>10}")
    for name, r in results.items():
        print(f"{name:<14}{r['wall_s']:>8.2f}{r['files_per_s']:>9.2f}{r['files_per_s'] / base:>10.2f}")
    print("outputs byte-identical across the liquidsky ways:", "yes" if identical else "NO")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
