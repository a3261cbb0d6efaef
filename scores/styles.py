"""Named styles: seeded pipelines of transformations that turn any score ominous, dissonant or into a march."""

from __future__ import annotations

import inspect
import random
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from scores.analysis import PHRASE_BARS, Section, read_sections
from scores.score import Score
from scores.transforms import TRANSFORMS

# Transformations that move notes in time: after one of them a style reads the sections afresh.
RETIMING = frozenset({"remeter_as_march", "limping_waltz", "augmentation", "condense", "march_introduction"})
DIAL_FLOOR = 0.1  # the quietest section gets this share of the climax's share of a dialled step's phrases
DIAL_ONE_PHRASE = 0.15  # a section whose share comes to this or more gets one phrase at least, however short
UNITS = ("phrase", "section")


class StyleError(ValueError):
    """A style that does not exist or cannot be applied: an unknown name, a step naming no transformation."""


@dataclass(frozen=True)
class Step:
    """One transformation of a style: its name in scores.transforms.TRANSFORMS, with its parameters."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    # None: the step acts on the whole piece. A number in 0-1: how much of the piece it acts on, dialled by
    # the form: by phrases ("phrase": that share of the climax's phrases, down to DIAL_FLOOR of it in the
    # quietest section) or by whole sections ("section": the sections whose intensity is 1 - dial or more).
    dial: float | None = None
    unit: str = "phrase"

    def __post_init__(self) -> None:
        if self.dial is not None and not 0 <= self.dial <= 1:
            raise StyleError(f"{self.name}: a dial of {self.dial:g} is outside 0-1")
        if self.unit not in UNITS:
            raise StyleError(f"{self.name}: unknown unit {self.unit!r} (units: {', '.join(UNITS)})")
        if self.dial is not None and self.name in RETIMING:
            raise StyleError(f"{self.name} moves notes in time and cannot be dialled")
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

    @property
    def wants_source(self) -> bool:
        """The transformation compares with the score before the style (takes `source`): the style passes it."""
        return "source" in inspect.signature(TRANSFORMS[self.name]).parameters

    @property
    def fits_voices(self) -> bool:
        """The transformation fits a number of voices (takes `max_voices`) and the step leaves it unset."""
        return "max_voices" in inspect.signature(TRANSFORMS[self.name]).parameters and "max_voices" not in self.params

    @property
    def wants_sections(self) -> bool:
        """The transformation composes by sections (it takes `sections`): the style passes those it reads."""
        return "sections" in inspect.signature(TRANSFORMS[self.name]).parameters

    def __str__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        dial = "" if self.dial is None else f" dialled {self.dial:g} by {self.unit}"
        return f"{self.name}({args}){dial}"


@dataclass(frozen=True)
class Style:
    """A named pipeline: the steps in the order mode, harmony, register, time, sound."""

    name: str
    summary: str
    steps: tuple[Step, ...] = ()


def _steps(*steps: tuple | str | Step) -> tuple[Step, ...]:
    """Steps from names, (name, params), (name, params, dial) or (name, params, dial, unit)."""
    return tuple(s if isinstance(s, Step) else Step(s) if isinstance(s, str) else Step(*s) for s in steps)


# How much of the piece each style makes dissonant, at its climax (Step.dial): the dial of the styles.
OMINOUS_DIAL, DISSONANT_DIAL, NIGHTMARE_DIAL = 0.5, 0.55, 0.85
# The layers are composed whole (no limit of voices of their own): the last step of every style but plain,
# fit_cards, makes room for them, thinning the piece's doublings and figuration before a layer loses
# anything.
WHOLE = {"max_voices": None}
# Every style but plain begins by varying the piece's own repeated bars, so that its layers follow them,
# and ends by varying what still repeats (the layers too) and fitting the arrangement to the cards.
_FINISH = _steps("vary_repeats", "fit_cards")
_MARCH_FINISH = _steps(("vary_repeats", {"displace": False}), "fit_cards")  # a march keeps its duple grid

_OMINOUS = _steps(
    # a part repeated bar for bar (the Trionfo's pianos, timpani and drums; the Sonnerie's continuo) follows
    # the form: new registers, displacement, breaks and changes at the cadences; the ground stays as written
    "vary_ostinato",
    # the darker mode in the sections that build (the quiet ones keep theirs); never on the ground
    ("phrygian", {}, OMINOUS_DIAL, "section"),
    # a pedal that moves with the bass and the form, a low doubling that comes and goes by phrases
    ("moving_pedal", {"velocity": 44, "program": 19, "added_from": 0.9, **WHOLE}),  # the flat second at the climax
    ("phrase_doubling", {"roles": ("bass",), "velocity_scale": 0.5, **WHOLE}),
    ("tempo_scale", {"factor": 0.7}),
    "dread_voices",
    # after the voices are chosen, so that the detuned copy beats against the melody's own voice; in the
    # phrases the dial gives it, more of them toward the climax
    ("detuned_doubling", {"roles": ("melody",), "velocity_scale": 0.45, **WHOLE}, 0.7),
    ("dynamics", {"scale": 0.9, "sforzando_chance": 0.04, "by_form": 0.35}),
    # the colours change with the form: pads and glass where it is quiet, organ and strings where it
    # builds, the choir at the climax
    "orchestration_arc",
    *_FINISH,
)


def _dissonance(dial: float, shadowed: tuple[str, ...] = ("melody",)) -> tuple[Step, ...]:
    """The dissonant steps at one dial: shadows of the `shadowed` parts, smears and clusters in that share of
    the climax's phrases (fewer in quiet sections), the melody a tritone off in about half of those."""
    return _steps(
        ("bitonality", {"interval": -6, "roles": ("melody",)}, dial / 2),
        ("tritone_shadow", {"interval": -6, "velocity_scale": 0.45, "roles": shadowed, **WHOLE}, dial),
        ("minor_second_smear", {"interval": 1, "velocity_scale": 0.3, "roles": ("melody",), "tie": True, **WHOLE},
         dial),
        ("clusters", {"min_beats": 2.0, "intervals": (1, 2), "velocity_scale": 0.45, **WHOLE}, dial),
    )


_DISSONANT = _steps("vary_ostinato") + _dissonance(DISSONANT_DIAL) + _FINISH
_MARCH = _steps(
    "major_to_minor",
    ("remeter_as_march", {"pattern": "even"}),
    ("march_introduction", {"bars": 4}),
    ("march_drums", {"snare_velocity": 72, "timpani_velocity": 76, **WHOLE}),
)

STYLES: dict[str, Style] = {
    s.name: s
    for s in (
        Style("plain", "the score as written"),
        Style("ominous", "slower, Phrygian where the piece builds, a tonic pedal and low doubling, a detuned "
                         "double of the melody, choir, organ and low strings, soft with rare sforzandi", _OMINOUS),
        Style("dissonant", "tritone and minor-second shadows and clusters in some phrases, more toward the "
                           "climax, the melody a tritone off in some of them", _DISSONANT),
        Style("march", "triple time re-metered as a duple march in minor after four bars of drums alone, the "
                       "snare and timpani filling at phrase ends and accenting the cadences, lighter in the "
                       "trio, the bells on their own three-beat cycle",
              _steps(("vary_ostinato", {"displace": False})) + _MARCH + _MARCH_FINISH),
        Style("nightmare", "the march made dissonant in most phrases and given the voices of dread",
              _steps(("vary_ostinato", {"displace": False})) + _MARCH[:1]
              + _dissonance(NIGHTMARE_DIAL, ("melody", "inner")) + _MARCH[1:]
              + _steps("dread_voices", ("dynamics", {"scale": 0.85, "sforzando_chance": 0.03}),
                       "orchestration_arc") + _MARCH_FINISH),
        Style("cue", "a film cue of 2-4 minutes: the opening of every section, slow and sparse over a held "
                     "drone, the upper parts in long swelling notes (the melody detuned against itself), the bass one "
                     "note a bar, the voices of dread",
              _steps(("condense", {"minutes": 3.0, "tempo_factor": 0.6}),
                     ("long_notes", {"roles": ("melody", "inner"), "bars": 2}),
                     ("long_notes", {"roles": ("bass",), "bars": 1, "swell": False}),
                     "vary_ostinato",
                     ("pedal", {"kind": "tonic", "every_bars": 8, "velocity": 40, "program": 89, **WHOLE}),
                     ("tempo_scale", {"factor": 0.6}),
                     "dread_voices",
                     ("detuned_doubling", {"roles": ("melody",), "velocity_scale": 0.4, **WHOLE}),
                     ("dynamics", {"scale": 0.8, "sforzando_chance": 0.0})) + _FINISH),
        Style("limping", "a waltz that drops a beat every fourth bar, Locrian where the piece builds, over a "
                         "tritone pedal",
              _steps("vary_ostinato",
                     ("locrian", {}, OMINOUS_DIAL, "section"),
                     ("moving_pedal", {"added_interval": 6, "added_from": 0.5, "velocity": 36, "program": 97,
                                       **WHOLE}),
                     ("limping_waltz", {"every": 4}),
                     ("tempo_scale", {"factor": 0.85})) + _FINISH),
    )
}


def style_names() -> list[str]:
    return list(STYLES)


def get_style(name: str) -> Style:
    try:
        return STYLES[name]
    except KeyError:
        raise StyleError(f"unknown style {name!r} (styles: {', '.join(STYLES)})") from None


def phrases(score: Score, sections: list[Section]) -> list[tuple[int, int, Section]]:
    """(start, stop, section) of each phrase: PHRASE_BARS bars from each section's start (half as many in a
    section shorter than four phrases, so that the dial has more than two or three to choose from), the
    last one running to the section's end."""
    bars = score.bar_starts()
    out = []
    for sec in sections:
        inside = [b for b in bars if sec.start <= b < sec.stop] or [sec.start]
        length = PHRASE_BARS if len(inside) >= 4 * PHRASE_BARS else max(PHRASE_BARS // 2, 1)
        starts = inside[::length]
        for i, t in enumerate(starts):
            out.append((t, starts[i + 1] if i + 1 < len(starts) else sec.stop, sec))
    return out


def dial_spans(step: Step, score: Score, sections: list[Section], seed: int = 0) -> list[tuple[int, int]]:
    """The tick spans a dialled step acts on (see Step.dial).

    By phrase, a section's phrases are ranked by a number each draws from the seed and its place alone (the
    same for every step and every style), and the first dial x (DIAL_FLOOR + (1 - DIAL_FLOOR) x intensity)
    of them (rounded; one at least where that share is DIAL_ONE_PHRASE or more, so that a short section
    is not left out) are chosen: so a higher dial acts on the same phrases and more, the climax on the most
    and the quietest section on few or none.
    """
    assert step.dial is not None
    if step.unit == "section":
        return [(s.start, s.stop) for s in sections if step.dial > 0 and s.intensity >= 1 - step.dial - 1e-9]
    by_section: dict[int, list[tuple[float, int, int]]] = {}
    for i, (start, stop, sec) in enumerate(phrases(score, sections)):
        by_section.setdefault(sec.start, []).append((random.Random(f"{seed}:phrase:{i}").random(), start, stop))
    spans = []
    for sec in sections:
        ranked = sorted(by_section.get(sec.start, []))
        amount = step.dial * (DIAL_FLOOR + (1 - DIAL_FLOOR) * sec.intensity)
        count = max(round(amount * len(ranked)), 1 if amount >= DIAL_ONE_PHRASE else 0)
        spans += [(start, stop) for _, start, stop in ranked[:count]]
    return sorted(spans)


def _within(before: Score, after: Score, spans: list[tuple[int, int]]) -> Score:
    """`after` where it starts notes in the spans, `before` elsewhere: notes a step added outside the spans
    are dropped, notes it moved or removed there are given back, and so are the keys it renamed there."""
    starts = [s for s, _ in spans]

    def inside(tick: int) -> bool:
        i = bisect_right(starts, tick) - 1
        return i >= 0 and tick < spans[i][1]

    added = Counter(after.notes) - Counter(before.notes)
    removed = Counter(before.notes) - Counter(after.notes)
    notes = []
    for n in after.notes:
        if added[n] > 0:
            added[n] -= 1
            if not inside(n.start):
                continue
        notes.append(n)
    notes += [n for n, count in removed.items() if not inside(n.start) for _ in range(count)]
    keys = after.keys
    if len(keys) == len(before.keys):
        keys = tuple(k if inside(k.tick) else old for k, old in zip(keys, before.keys, strict=True))
    used = {n.part for n in notes} | {p.name for p in before.parts}
    return after.with_notes(notes, [p for p in after.parts if p.name in used]).replace(keys=keys)


def apply_style(score: Score, style: str | Style, seed: int = 0, tempo_scale: float = 1.0,
                voices: int | None = None) -> Score:
    """The score in a style, its title with the style's name appended ("Sonnerie (after Marais), ominous").

    Each step that draws on chance gets a random.Random of its own, seeded by the seed, the step's place
    and its name, so the same seed gives the same score. A dialled step acts on the phrases or sections
    `dial_spans` chooses from the form the piece has (scores.analysis.read_sections: read once, and again
    after a step that moves notes in time). `tempo_scale` multiplies every tempo after the style (0.5 =
    half speed). `voices` is the number of cards of the model the arrangement is for (None: the IIx's 8,
    scores.transforms.CMI_VOICES): a step that fits the voices and does not set its own gets it (fit_cards,
    the last step of every style but plain). "plain" changes nothing, title included, unless `tempo_scale` does.
    """
    chosen = get_style(style) if isinstance(style, str) else style
    if not tempo_scale > 0:
        raise StyleError(f"a tempo scale of {tempo_scale:g}")
    if voices is not None and not 1 <= voices <= 64:
        raise StyleError(f"{voices} voices (1-64)")
    result = score
    sections: list[Section] | None = None
    for index, step in enumerate(chosen.steps):
        params = dict(step.params)
        if step.uses_rng:
            params["rng"] = random.Random(f"{seed}:{index}:{step.name}")
        if step.wants_sections:
            sections = sections or read_sections(result)
            params["sections"] = sections
        if step.wants_source:
            params["source"] = score
        if voices is not None and step.fits_voices:
            params["max_voices"] = voices
        out = TRANSFORMS[step.name](result, **params)
        if step.dial is not None:
            sections = sections or read_sections(result)
            out = _within(result, out, dial_spans(step, result, sections, seed))
        if step.name in RETIMING:
            sections = None
        result = out
    if chosen.steps:
        result = result.replace(title=f"{score.title}, {chosen.name}")
    if tempo_scale != 1.0:
        result = TRANSFORMS["tempo_scale"](result, factor=tempo_scale)
    return result
