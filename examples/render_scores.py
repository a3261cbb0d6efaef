"""Render every score of Liquid Sky in every style to WAV, and print each file's levels.

    python examples/render_scores.py out/                     # 3 scores x 6 styles, whole pieces
    python examples/render_scores.py out/ --seconds 30        # the first 30 s of each, for a quick look
    python examples/render_scores.py out/ --scores sonnerie --styles plain,march --flac

Each file is OUT/<score>-<style>.wav. The table gives the peak (dBFS), the loudness as the RMS of the
loudest 10 s (dBFS), and the longest stretch quieter than -60 dBFS, so that styles can be compared by eye.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import soundfile as sf

from scores import score_names
from scores.arrange import arrange, score_midi
from scores.score import to_midi
from scores.styles import style_names
from synth.offline import render_to_file

QUIET_DBFS = -60.0  # quieter than this counts as a gap
WINDOW_S = 0.1  # levels are measured in windows of this length
LOUDEST_S = 10.0  # loudness: the RMS of the loudest stretch this long


def levels(path: Path) -> tuple[float, float, float]:
    """(peak dBFS, RMS of the loudest LOUDEST_S in dBFS, longest gap below QUIET_DBFS in seconds)."""
    audio, rate = sf.read(path, dtype="float32")
    window = max(1, round(WINDOW_S * rate))
    n = len(audio) // window
    if n == 0:
        return float("-inf"), float("-inf"), 0.0
    power = (audio[: n * window].astype(np.float64) ** 2).mean(axis=1).reshape(n, window).mean(axis=1)
    span = max(1, min(n, round(LOUDEST_S / WINDOW_S)))
    loudest = np.convolve(power, np.ones(span) / span, mode="valid").max()
    db = 10 * np.log10(np.maximum(power, 1e-20))
    gap = longest = 0
    for quiet in db < QUIET_DBFS:
        gap = gap + 1 if quiet else 0
        longest = max(longest, gap)
    peak = float(np.abs(audio).max())
    return 20 * np.log10(max(peak, 1e-10)), 10 * np.log10(max(loudest, 1e-20)), longest * WINDOW_S


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="the folder for the audio files (created)")
    parser.add_argument("--scores", default=",".join(score_names()), help="comma-separated (default: all)")
    parser.add_argument("--styles", default=",".join(style_names()), help="comma-separated (default: all)")
    parser.add_argument("--seconds", type=float, default=None, help="render only the first SECONDS of each")
    parser.add_argument("--seed", type=int, default=0, help="the styles' seed (default 0)")
    parser.add_argument("--flac", action="store_true", help="write FLAC instead of WAV")
    args = parser.parse_args(argv)

    args.out.mkdir(parents=True, exist_ok=True)
    print(f"{'file':<28} {'length':>7} {'peak':>7} {'loud':>7} {'gap':>6}")
    for name in args.scores.split(","):
        plain = score_midi(name)
        for style in args.styles.split(","):
            score = arrange(plain, style, seed=args.seed)
            if args.seconds is not None:
                score = score.until(score.tick_at(args.seconds))
            path = args.out / f"{name}-{style}.{'flac' if args.flac else 'wav'}"
            report = render_to_file(to_midi(score), path, max_frames=None)
            peak, loud, gap = levels(path)
            print(f"{path.name:<28} {report.duration_s:>6.1f}s {peak:>6.1f}  {loud:>6.1f}  {gap:>5.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
