"""Fingerprints of renders, to show that a change of code left every sample as it was.

Renders a fixed set of inputs (the demo, corpus MIDI files, a Page R song) on every hardware model and
prints the sha256 of each render's float32 samples. `--write FILE` stores them as JSON; `--check FILE`
compares and exits 1 when any differs. tests/synth/test_render_identity.py runs the check against
tests/data/render_sha256.json.

    python benchmarks/identity.py --check tests/data/render_sha256.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import synth

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "corpus"
RATE_HZ = 22050

# (name, source, model): sources that reach every part of the engine the renders use (pitch ramps, the
# pedal, drums, steals on 8 cards, Page R registers, the 16-card 16-bit Series III).
CASES: list[tuple[str, str, str]] = [
    ("demo-iix", "demo", "iix"),
    ("chorale-iix", str(CORPUS / "bach_bwv1_6_chorale.mid"), "iix"),
    ("rag-iix", str(CORPUS / "joplin_maple_leaf_rag.mid"), "iix"),
    ("minuet-iii", str(CORPUS / "mozart_k80_minuet.mid"), "iii"),
    ("blupi-ii", str(CORPUS / "planetblupi_music004.mid"), "ii"),
    ("undertow-iix", str(ROOT / "examples" / "undertow.toml"), "iix"),
]


def fingerprints() -> dict[str, str]:
    """sha256 of each case's whole render, as float32 bytes, by case name."""
    out = {}
    for name, source, model in CASES:
        audio = synth.render(source, rate_hz=RATE_HZ, model=model).audio
        out[name] = hashlib.sha256(audio.tobytes()).hexdigest()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", type=Path, metavar="FILE", help="store the fingerprints as JSON")
    group.add_argument("--check", type=Path, metavar="FILE", help="compare with stored fingerprints")
    args = parser.parse_args(argv)
    found = fingerprints()
    for name, digest in found.items():
        print(f"{name:14s} {digest}")
    if args.write:
        args.write.write_text(json.dumps(found, indent=2) + "\n")
    if args.check:
        stored = json.loads(args.check.read_text())
        differ = [name for name in stored if stored[name] != found.get(name)]
        if differ:
            print("differ: " + ", ".join(differ), file=sys.stderr)
            return 1
        print("all renders identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
