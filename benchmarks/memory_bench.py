"""Peak memory of a render against its length: a generated piece of 10 and 60 minutes, rendered in a child.

    python benchmarks/memory_bench.py                      # 10 and 60 minutes, plain render to FLAC
    python benchmarks/memory_bench.py --minutes 1,10 --modes plain,normalize,stems
    python benchmarks/memory_bench.py --json

Each render runs as `python -m synth render` in a process of its own; its peak resident set size is the
kernel's count for that process (`ru_maxrss` from `os.wait4`), the figure `/usr/bin/time -v` prints as
"Maximum resident set size". A render whose memory is flat in its length shows the same peak for every
length; the target is under 300 MB for an hour.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mido

TARGET_MB = 300.0
MODES = {
    "plain": [],
    "normalize": ["--normalize"],
    "stems": ["--stems", "{stems}"],
}


def generated_piece(minutes: float, path: Path) -> Path:
    """A piece that keeps several cards busy for `minutes`: four channels, a note every 125 ms on each,
    program changes, pan, the sustain pedal and pitch bend, ending a beat before the length."""
    tpb = 480  # at 120 BPM: 960 ticks a second
    midi = mido.MidiFile(type=1, ticks_per_beat=tpb)
    n_ticks = int(minutes * 60 * 960) - tpb
    programs = (0, 48, 73, 32)
    for channel, program in enumerate(programs):
        track = mido.MidiTrack()
        midi.tracks.append(track)
        track.append(mido.Message("program_change", channel=channel, program=program))
        track.append(mido.Message("control_change", channel=channel, control=10, value=16 + 32 * channel))
        step = 120  # 125 ms
        tick, k = 0, 0
        last = 0
        while tick + step <= n_ticks:
            note = 48 + 12 * (channel % 3) + (k * 7 + channel * 5) % 12
            track.append(mido.Message("note_on", channel=channel, note=note, velocity=64 + k % 60, time=tick - last))
            track.append(mido.Message("note_off", channel=channel, note=note, time=step - 10))
            last = tick + step - 10
            if k % 64 == 0:
                track.append(mido.Message("control_change", channel=channel, control=64, value=127 if k % 128 else 0))
            if k % 16 == 8:
                track.append(mido.Message("pitchwheel", channel=channel, pitch=(k * 97) % 4096 - 2048))
            tick += step
            k += 1
    midi.save(os.fspath(path))
    return path


def measure(midi_path: Path, out_dir: Path, mode: str) -> dict:
    out = out_dir / f"{midi_path.stem}-{mode}.flac"
    extra = [a.format(stems=os.fspath(out_dir / f"stems-{midi_path.stem}")) for a in MODES[mode]]
    argv = [sys.executable, "-m", "synth", "render", os.fspath(midi_path), "-o", os.fspath(out), "--quiet",
            "--max-duration", "7200", *extra]
    start = time.perf_counter()
    child = subprocess.Popen(argv, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall_s = time.perf_counter() - start
    err = child.stderr.read().decode(errors="replace").strip()
    child.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"render failed ({code}): {err}")
    import soundfile as sf

    audio_s = sf.info(out).duration
    return {"mode": mode, "audio_s": round(audio_s, 1), "wall_s": round(wall_s, 1),
            "peak_mb": round(usage.ru_maxrss * 1024 / 1e6, 1)}  # ru_maxrss is in KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", default="10,60", help="lengths of the generated pieces (default 10,60)")
    parser.add_argument("--modes", default="plain", help=f"render options to try: {', '.join(MODES)}")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    lengths = [float(m) for m in args.minutes.split(",")]
    modes = args.modes.split(",")
    results = []
    with tempfile.TemporaryDirectory(prefix="liquidsky-memory-") as tmp:
        tmp_dir = Path(tmp)
        for minutes in lengths:
            midi_path = generated_piece(minutes, tmp_dir / f"piece-{minutes:g}min.mid")
            for mode in modes:
                row = {"minutes": minutes, **measure(midi_path, tmp_dir, mode)}
                results.append(row)
                if not args.json:
                    verdict = "met" if row["peak_mb"] < TARGET_MB else "MISSED"
                    print(f"{minutes:g} min {mode}: {row['audio_s']} s of audio in {row['wall_s']} s, "
                          f"peak {row['peak_mb']} MB (< {TARGET_MB:g} MB: {verdict})", flush=True)
                for leftover in tmp_dir.glob("*.flac"):
                    leftover.unlink()
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
