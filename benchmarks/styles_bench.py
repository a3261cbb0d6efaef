"""What the styles do to the music, measured: for each score and style, and for three foreign MIDI files.

    python benchmarks/styles_bench.py            # every score and sample file, every style
    python benchmarks/styles_bench.py --pieces trionfo --styles plain,ominous
    python benchmarks/styles_bench.py --no-steals  # without playing the files through the engine (faster)
    python benchmarks/styles_bench.py --json     # the same figures as JSON

For each piece and style it prints:
- clash: the share of pitched notes that sound a minor second, tritone or major seventh against another
  sounding note (scores.analysis.clash_share), over the piece and then section by section (the sections the
  arrangement reads, scores.analysis.read_sections, in order);
- copied: the share of bars each part repeats literally over the whole piece (scores.analysis.copied_share),
  the source's parts first, then the layers the style added (marked +), each with in brackets the worst
  share over any passage of 17 bars or more (scores.analysis.worst_copied_share; "drone" for a held drone
  and "ground" for the ground, which are exempt: scores.variation);
- steals: the notes an eight-voice IIx steals playing the arrangement, counted by synth.engine.Engine
  (notes_stolen; played at 8 kHz, the cards' books do not depend on the rate), and for a style the steals
  of the same arrangement before its last step, fit_cards, which thins it to the cards; "accepted" is what
  fit_cards leaves to the stealing (scores.cards: where the melody, bass, grounds, ostinati and drums alone,
  or with what the file's own pedal holds, need more than eight cards);
- bells: for the Sonnerie, the bar cycles whose bells still ring D-F-E, of all cycles;
- kept: for the foreign files, drum notes, sustain-pedal events and every other controller event of the file
  found again in the arrangement (arranged / source), and the notes of `plain` against the source's;
- orch: how many sections change orchestration (the parts and voices that play differ from the section before).

The three foreign files are made by scores.samples (a chorale with drums, pedal and controllers; a pedalled
piano piece; a dense quartet with a pedalled piano). Everything is deterministic (seed 0).
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
from scores import cards
from scores.samples import SAMPLES, control_counts, note_count
from scores.score import DRUM_CHANNEL, Score, from_midi, to_midi
from scores.styles import Style, apply_style, get_style, style_names
from synth.engine import Engine
from synth.midifile import EventStream
from synth.offline import render_events

STEAL_RATE_HZ = 8000
VOICES = 8


def engine_steals(midi: mido.MidiFile) -> int:
    """The notes synth.engine.Engine steals playing the file on the IIx's eight cards."""
    events = EventStream(midi, STEAL_RATE_HZ)
    engine = Engine(rate_hz=STEAL_RATE_HZ, n_voices=VOICES)
    for _ in render_events(events, engine, block_frames=8192, end_frame=events.end_frame):
        pass
    return engine.notes_stolen


def arranged(source: Score, style: str) -> tuple[Score, Score, cards.Fitted | None]:
    """(the arrangement, the arrangement before fit_cards, what fit_cards did) of a style; plain: the piece."""
    chosen = get_style(style)
    if not chosen.steps or chosen.steps[-1].name != "fit_cards":
        out = apply_style(source, chosen)
        return out, out, None
    before = apply_style(source, Style(chosen.name, chosen.summary, chosen.steps[:-1]))
    fitted = cards.fit(before, VOICES, source)
    return fitted.score.replace(title=before.title), before, fitted


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
        entry["worst_17_bars"] = "ground" if p.role == "ground" else "drone" if is_held_drone(styled, p.name) \
            else round(worst_copied_share(patterns), 2)
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


def run(pieces: list[str], styles: list[str], steals: bool = True) -> dict:
    results: dict[str, dict] = {}
    for piece in pieces:
        results[piece] = {}
        midi = SAMPLES[piece]() if piece in SAMPLES else None
        source = from_midi(midi) if midi is not None else build_score(piece)
        for style in styles:
            styled, before, fitted = arranged(source, style)
            arranged_midi = to_midi(styled)
            if midi is not None:  # measured as the file reads back, like any foreign file
                figures = measure(source, from_midi(arranged_midi))
                figures["kept"] = _kept(midi, arranged_midi)
                if style == "plain":
                    figures["kept"]["notes"] = f"{note_count(arranged_midi)}/{note_count(midi)}"
            else:
                figures = measure(source, styled)
            if steals:
                figures["steals"] = engine_steals(midi if midi is not None and style == "plain" else arranged_midi)
                if fitted is not None:
                    figures["steals_before_fitting"] = engine_steals(to_midi(before))
                    figures["steals_accepted"] = fitted.left_notes
            results[piece][style] = figures
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
            if "steals" in f:
                extra += f"  steals {f['steals']}"
                if "steals_before_fitting" in f:
                    extra += f" (before fitting {f['steals_before_fitting']}, accepted {f['steals_accepted']})"
            print(f"{style:10s} clash {f['clash']:.3f}  orch {f['orchestration_changes']}/"
                  f"{max(f['n_sections'] - 1, 0)}{extra}")
            print(f"{'':10s} by section {' '.join(f'{x:.2f}' for x in f['sections'])}")
            cells = []
            for name, p in f["parts"].items():
                worst = p["worst_17_bars"]
                cells.append(f"{'+' if p.get('added') else ''}{name} {p['copied']:.2f} "
                             f"({worst if isinstance(worst, str) else f'{worst:.2f}'})")
            print(f"{'':10s} copied {', '.join(cells)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    everything = [*score_names(), *SAMPLES]
    parser.add_argument("--pieces", default=",".join(everything), help=f"comma-separated (default {everything})")
    parser.add_argument("--styles", default=",".join(style_names()), help="comma-separated (default all)")
    parser.add_argument("--no-steals", action="store_true",
                        help="do not play the arrangements through the engine to count the notes stolen")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    args = parser.parse_args(argv)
    pieces, styles = args.pieces.split(","), args.styles.split(",")
    unknown = [p for p in pieces if p not in everything] + [s for s in styles if s not in style_names()]
    if unknown:
        print(f"styles_bench: unknown piece or style {', '.join(unknown)}", file=sys.stderr)
        return 2
    results = run(pieces, styles, steals=not args.no_steals)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        _print(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
