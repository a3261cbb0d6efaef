"""What the styles do to the music, measured: for each score and style, and for two foreign MIDI files.

    python benchmarks/styles_bench.py            # every score and sample file, every style
    python benchmarks/styles_bench.py --pieces trionfo --styles plain,ominous
    python benchmarks/styles_bench.py --json     # the same figures as JSON

For each piece and style it prints:
- clash: the share of pitched notes that sound a minor second, tritone or major seventh against another
  sounding note (scores.analysis.clash_share), over the piece and then section by section (the sections the
  arrangement reads, scores.analysis.read_sections, in order);
- copied: the share of bars each part repeats literally (scores.analysis.copied_share), the source's parts
  first, then the layers the style added (marked +), and for those the worst share over any 17 bars
  (scores.analysis.worst_copied_share; "drone" for a held drone, which is exempt);
- bells: for the Sonnerie, the bar cycles whose bells still ring D-F-E, of all cycles;
- kept: for the foreign files, drum notes, sustain-pedal events and every other controller event of the file
  found again in the arrangement (arranged / source), and the notes of `plain` against the source's;
- orch: how many sections change orchestration (the parts and voices that play differ from the section before).

The two foreign files are made by scores.samples (a chorale with drums, pedal and controllers; a pedalled
piano piece). Everything is deterministic (seed 0).
"""

from __future__ import annotations

import argparse
import json
import sys

import mido

from scores import build_score, score_names
from scores.analysis import (
    bar_patterns,
    clash_share,
    copied_share,
    ground_cycles,
    is_held_drone,
    orchestration,
    read_sections,
    worst_copied_share,
)
from scores.arrange import arrange, arrange_midi
from scores.samples import SAMPLES, control_counts, note_count
from scores.score import DRUM_CHANNEL, Score, from_midi
from scores.styles import style_names


def _kept(source: mido.MidiFile, arranged: mido.MidiFile) -> dict[str, str]:
    before, after = control_counts(source), control_counts(arranged)
    pedal = sum(v for k, v in before.items() if k[1] == "cc64")
    pedal_kept = sum(min(v, after.get(k, 0)) for k, v in before.items() if k[1] == "cc64")
    other = sum(v for k, v in before.items() if k[1] != "cc64")
    other_kept = sum(min(v, after.get(k, 0)) for k, v in before.items() if k[1] != "cc64")
    drums = note_count(source, DRUM_CHANNEL)
    drums_kept = min(drums, note_count(arranged, DRUM_CHANNEL))
    return {"drums": f"{drums_kept}/{drums}", "pedal": f"{pedal_kept}/{pedal}", "controllers": f"{other_kept}/{other}"}


def measure(source: Score, styled: Score) -> dict:
    """The figures of one arrangement (see the module's docstring)."""
    sections = read_sections(styled)
    original = {p.name for p in source.parts}
    parts = {}
    for p in styled.parts:
        patterns = bar_patterns(styled, p.name)
        if not any(patterns):
            continue
        entry = {"copied": round(copied_share(patterns), 2)}
        if p.name not in original:
            entry["added"] = True
            entry["worst_17_bars"] = "drone" if is_held_drone(styled, p.name) else round(
                worst_copied_share(patterns), 2)
        parts[p.name] = entry
    orchestras = [orchestration(styled, s.start, s.stop) for s in sections]
    changes = sum(a != b for a, b in zip(orchestras, orchestras[1:], strict=False))
    out = {
        "clash": round(clash_share(styled), 3),
        "sections": [round(clash_share(styled, s.start, s.stop), 2) for s in sections],
        "parts": parts,
        "orchestration_changes": changes,
        "n_sections": len(sections),
    }
    ground = [p.name for p in source.parts if p.role == "ground"]
    if source.title.startswith("Sonnerie") and ground and ground[0] in {p.name for p in styled.parts}:
        kept, total = ground_cycles(styled, ground[0])
        out["bells"] = f"{kept}/{total}"
    return out


def run(pieces: list[str], styles: list[str]) -> dict:
    results: dict[str, dict] = {}
    for piece in pieces:
        results[piece] = {}
        if piece in SAMPLES:
            midi = SAMPLES[piece]()
            source = from_midi(midi)
            for style in styles:
                arranged_midi = arrange_midi(midi, style)
                styled = from_midi(arranged_midi)
                figures = measure(source, styled)
                figures["kept"] = _kept(midi, arranged_midi)
                if style == "plain":
                    figures["kept"]["notes"] = f"{note_count(arranged_midi)}/{note_count(midi)}"
                results[piece][style] = figures
        else:
            source = build_score(piece)
            for style in styles:
                results[piece][style] = measure(source, arrange(source, style))
    return results


def _print(results: dict) -> None:
    for piece, by_style in results.items():
        print(f"\n== {piece}")
        for style, f in by_style.items():
            extra = ""
            if "bells" in f:
                extra += f"  bells D-F-E {f['bells']}"
            if "kept" in f:
                extra += "  kept " + ", ".join(f"{k} {v}" for k, v in f["kept"].items())
            print(f"{style:10s} clash {f['clash']:.3f}  orch {f['orchestration_changes']}/"
                  f"{max(f['n_sections'] - 1, 0)}{extra}")
            print(f"{'':10s} by section {' '.join(f'{x:.2f}' for x in f['sections'])}")
            cells = []
            for name, p in f["parts"].items():
                cell = f"{'+' if p.get('added') else ''}{name} {p['copied']:.2f}"
                if p.get("added"):
                    worst = p["worst_17_bars"]
                    cell += f" ({worst if isinstance(worst, str) else f'{worst:.2f}'})"
                cells.append(cell)
            print(f"{'':10s} copied {', '.join(cells)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    everything = [*score_names(), *SAMPLES]
    parser.add_argument("--pieces", default=",".join(everything), help=f"comma-separated (default {everything})")
    parser.add_argument("--styles", default=",".join(style_names()), help="comma-separated (default all)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    args = parser.parse_args(argv)
    pieces, styles = args.pieces.split(","), args.styles.split(",")
    unknown = [p for p in pieces if p not in everything] + [s for s in styles if s not in style_names()]
    if unknown:
        print(f"styles_bench: unknown piece or style {', '.join(unknown)}", file=sys.stderr)
        return 2
    results = run(pieces, styles)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        _print(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
