"""Named styles: seeded pipelines of transformations that turn any score ominous, dissonant or into a march."""

from __future__ import annotations

import inspect
import random
from dataclasses import dataclass, field
from typing import Any

from scores.score import Score
from scores.transforms import TRANSFORMS


class StyleError(ValueError):
    """A style that does not exist or cannot be applied: an unknown name, a step naming no transformation."""


@dataclass(frozen=True)
class Step:
    """One transformation of a style: its name in scores.transforms.TRANSFORMS, with its parameters."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.name not in TRANSFORMS:
            raise StyleError(f"unknown transformation {self.name!r} "
                             f"(transformations: {', '.join(TRANSFORMS)})")
        try:
            inspect.signature(TRANSFORMS[self.name]).bind(None, **self.params)
        except TypeError as e:
            raise StyleError(f"{self.name}: {e}") from None

    @property
    def uses_rng(self) -> bool:
        return "rng" in inspect.signature(TRANSFORMS[self.name]).parameters

    def __str__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.name}({args})"


@dataclass(frozen=True)
class Style:
    """A named pipeline: the steps in the order mode, harmony, register, time, sound."""

    name: str
    summary: str
    steps: tuple[Step, ...] = ()


def _steps(*steps: tuple[str, dict[str, Any]] | str) -> tuple[Step, ...]:
    return tuple(Step(s) if isinstance(s, str) else Step(s[0], s[1]) for s in steps)


_OMINOUS = _steps(
    "phrygian",
    ("pedal", {"kind": "tonic", "every_bars": 2, "velocity": 44, "program": 19}),
    ("octave_doubling", {"octaves": (-1,), "roles": ("bass",), "velocity_scale": 0.5}),
    ("tempo_scale", {"factor": 0.7}),
    "dread_voices",
    # after the voices are chosen, so that the detuned copy beats against the melody's own voice
    ("detuned_doubling", {"roles": ("melody",), "velocity_scale": 0.45}),
    ("dynamics", {"scale": 0.9, "sforzando_chance": 0.04}),
)
_DISSONANT = _steps(
    ("bitonality", {"interval": -6, "roles": ("melody",), "span_bars": 8, "chance": 0.5}),
    ("tritone_shadow", {"interval": -6, "velocity_scale": 0.45, "roles": ("melody",)}),
    ("minor_second_smear", {"interval": 1, "velocity_scale": 0.3, "roles": ("melody",)}),
    ("clusters", {"min_beats": 2.0, "intervals": (1, 2), "velocity_scale": 0.45}),
)
_MARCH = _steps(
    "major_to_minor",
    ("remeter_as_march", {"pattern": "even"}),
    ("march_ostinato", {"snare_velocity": 72, "timpani_velocity": 76}),
)

STYLES: dict[str, Style] = {
    s.name: s
    for s in (
        Style("plain", "the score as written"),
        Style("ominous", "slower, Phrygian, a tonic pedal and low doubling, a detuned double of the melody, "
                         "choir, organ and low strings, soft with rare sforzandi", _OMINOUS),
        Style("dissonant", "the melody a tritone off in some phrases, tritone and minor-second shadows, "
                           "clusters on long notes", _DISSONANT),
        Style("march", "triple time re-metered as a duple march over snare and timpani, in minor, the bells "
                       "on their own three-beat cycle", _MARCH),
        Style("nightmare", "the march made dissonant and given the voices of dread",
              _MARCH[:1] + _DISSONANT + _MARCH[1:]
              + _steps("dread_voices", ("dynamics", {"scale": 0.85, "sforzando_chance": 0.03}))),
        Style("limping", "a waltz that drops a beat every fourth bar, Locrian, over a tritone pedal",
              _steps("locrian",
                     ("pedal", {"kind": "tritone", "every_bars": 4, "velocity": 36, "program": 97}),
                     ("limping_waltz", {"every": 4}),
                     ("tempo_scale", {"factor": 0.85}))),
    )
}


def style_names() -> list[str]:
    return list(STYLES)


def get_style(name: str) -> Style:
    try:
        return STYLES[name]
    except KeyError:
        raise StyleError(f"unknown style {name!r} (styles: {', '.join(STYLES)})") from None


def apply_style(score: Score, style: str | Style, seed: int = 0, tempo_scale: float = 1.0) -> Score:
    """The score in a style, its title with the style's name appended ("Sonnerie (after Marais), ominous").

    Each step that draws on chance gets a random.Random of its own, seeded by the seed, the step's place
    and its name, so the same seed gives the same score. `tempo_scale` multiplies every tempo after the
    style (0.5 = half speed). "plain" changes nothing, title included, unless `tempo_scale` does.
    """
    chosen = get_style(style) if isinstance(style, str) else style
    if not tempo_scale > 0:
        raise StyleError(f"a tempo scale of {tempo_scale:g}")
    result = score
    for index, step in enumerate(chosen.steps):
        params = dict(step.params)
        if step.uses_rng:
            params["rng"] = random.Random(f"{seed}:{index}:{step.name}")
        result = TRANSFORMS[step.name](result, **params)
    if chosen.steps:
        result = result.replace(title=f"{score.title}, {chosen.name}")
    if tempo_scale != 1.0:
        result = TRANSFORMS["tempo_scale"](result, factor=tempo_scale)
    return result
