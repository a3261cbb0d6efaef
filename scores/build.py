"""Write the MIDI file of every score from its source: python -m scores.build [NAME ...]."""

from __future__ import annotations

import argparse
import io
import sys

from scores import CATALOGUE, build_score, score_info
from scores.score import to_midi


def midi_bytes(name: str) -> bytes:
    """The bytes of a score's MIDI file as its source builds it today."""
    buffer = io.BytesIO()
    to_midi(build_score(name)).save(file=buffer)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scores.build", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"scores to build (default all: {', '.join(CATALOGUE)})")
    args = parser.parse_args(argv)
    for name in args.names or list(CATALOGUE):
        info = score_info(name)
        data = midi_bytes(name)
        tmp = info.midi_path.with_suffix(".mid.tmp")
        tmp.write_bytes(data)
        tmp.replace(info.midi_path)
        print(f"wrote {info.midi_path.name}: {len(data):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
