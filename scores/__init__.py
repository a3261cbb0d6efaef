"""The three pieces of Liquid Sky's score arranged for the CMI, and the styles that turn any score ominous.

Each piece has a readable source (scores/<name>.py, whose build() returns a Score) and a generated MIDI file
beside it (scores/<name>.mid), written by `python -m scores.build`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class ScoreInfo:
    """What the catalogue says of a piece: its name on the command line, title, and what it is after."""

    name: str
    title: str
    after: str  # the composer and the piece it is after, with the year
    module: str  # the module whose build() writes it
    summary: str

    @property
    def midi_path(self) -> Path:
        return HERE / f"{self.name}.mid"


CATALOGUE: dict[str, ScoreInfo] = {
    info.name: info
    for info in (
        ScoreInfo(
            "sonnerie", "Sonnerie (after Marais)",
            "Marin Marais, La Sonnerie de Sainte-Genevieve du Mont-de-Paris (1723)", "scores.sonnerie",
            "the authentic D-F-E bell ground in all 302 bars; original variations for violin and viol over "
            "harpsichord continuo",
        ),
        ScoreInfo(
            "trionfo", "Trionfo (after Orff)",
            "Carl Orff, Trionfo di Afrodite (1951); original music in his manner, none of his", "scores.trionfo",
            "ostinati, drones, chant on a reciting tone, choral blocks, pianos and timpani, abrupt cuts",
        ),
        ScoreInfo(
            "laurel", "Laurel Waltz (after Heinrich)",
            "Anthony Philip Heinrich, Laurel Waltz (c. 1840); an original parlour waltz", "scores.laurel",
            "a piano waltz of the 1840s: periods of 8 and 16 bars, a trio, a coda",
        ),
    )
}


class UnknownScoreError(ValueError):
    """A name that is not one of the scores."""


def score_names() -> list[str]:
    return list(CATALOGUE)


def score_info(name: str) -> ScoreInfo:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise UnknownScoreError(f"unknown score {name!r} (scores: {', '.join(CATALOGUE)})") from None


def build_score(name: str):
    """The Score of a piece, composed afresh from its source module."""
    return import_module(score_info(name).module).build()
