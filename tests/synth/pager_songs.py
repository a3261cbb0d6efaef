"""Small songs for the Page R tests, written as a musician writes them."""

from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "undertow.toml"

# Line numbers matter: the error tests name them.
BASE = """\
title = "Base"
speed = 2618
grid = "1/16"
metre = "4/4"
song = "1x2 A"

[sections]
A = "2 1"

[registers]
A = { voice = "synth-bass", channel = 2, level = 90 }
H = { voice = "drums", channel = 10 }

[patterns.1]
A = "D2 - - . | F2:80 . E2/50 . | D2 . . . | . . A1 -"
H = "36 . . . | 38 . 36 36 | 36 . . . | 38 . . ."

[patterns.2]
metre = "3/4"
grid = "1/8T"
A = "- - - | A2 - - | F2 . ."
"""


def base_with(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)
