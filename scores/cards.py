"""What the CMI's channel cards must hold, and how an arrangement is thinned to fit them.

A card holds a note from its key-down to its key-up as a MIDI file plays it (a note is cut where the next
note on its key and part begins, as `scores.score.to_midi` writes it) and, while the sustain pedal of its
channel is down, on until the pedal comes up (or a controller ends every note of the channel, or resets the
pedal). When a note begins with every card holding a note, the engine must steal one (synth.engine counts
them as notes_stolen; a card whose note is in its release is reused, not stolen).

`fit` makes a score need no more cards than a model has. Where more would sound it takes, one at a time
and cheapest first (a note held from before is cut there where it keeps an eighth, or its own length if
shorter, and the pedal is up; a note beginning there is dropped; a note the pedal holds is dropped whole):

  0. a note another voice doubles in unison, on the same key, through the whole of it;
  1. an inner note whose pitch class another voice holds in another octave through the whole of it (an
     octave doubling);
  2. an inner note masked by a much louder one within a major third, held through it;
  3. an inner note of repeated figuration: on a key its part struck within the bar before, in a part
     that strikes two notes a beat or more there (broken chords, repeated chords; not a chorale's common
     tone);
  4. any other note of the piece that is not its melody, its bass, a ground, an ostinato or the drum kit;
  5. a note of a layer the arrangement added (a part the source does not have): the layers come first.

It never takes the melody (the top line of the parts of role "melody"), the bass (the bottom line of the
parts of role "bass"; of the whole piece when none has it), a ground, an ostinato or the drum kit, and it
keeps the file's pedalling as it came. Those are the places a style accepts a steal (`Fitted.left` counts
their onsets): where the notes it may not take need more cards than the model has by themselves; and where
the doublings, masked notes and figuration (0-3) are gone and the notes it may not take and the layers fit
but not with the notes the file's own sustain pedal still holds after their keys are up: it does not empty
a texture's inner voices, nor silence a layer, to make room for what the pedal holds (and there counts as a
doubling only an octave of a note's own part, a hand's octaves, not another voice of a chorale).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from scores.score import Note, Score
from synth.midi import CC, DRUM_CHANNEL, ENDS_ALL_NOTES, pedal_down

SHORTEST_CUT_BEATS = 0.5  # a cut note keeps an eighth at least (or its own length, if shorter)
FIGURATION_RATE = 2  # figuration: a part striking this many notes a beat or more (a chorale's voice does not)
MASK_SEMITONES, MASK_VELOCITY_RATIO, MASK_VELOCITY_STEP = 4, 1.5, 16

UNISON, OCTAVE, MASKED, FIGURATION, INNER, LAYER = range(6)
TIERS = ("unison doubling", "octave doubling", "masked", "repeated figuration", "inner note", "added layer")


@dataclass
class _Pedal:
    """One channel's sustain pedal: the ticks where it goes down and up, and where every note ends."""

    changes: list[tuple[int, bool]] = field(default_factory=list)  # (tick, down), in order
    ends: list[int] = field(default_factory=list)  # ticks of the controllers that end every note

    def down_at(self, tick: int) -> bool:
        """Whether the pedal is down at a tick, after that tick's controllers."""
        i = bisect_right(self.changes, (tick, True)) - 1
        return i >= 0 and self.changes[i][1]

    def up_after(self, tick: int, limit: int) -> int:
        """The first tick after `tick` where the pedal comes up or every note ends (`limit` if none)."""
        i = bisect_right(self.changes, (tick, True))
        up = next((t for t, down in self.changes[i:] if not down), limit)
        j = bisect_right(self.ends, tick)
        return min(up, self.ends[j] if j < len(self.ends) else limit)

    def ended_between(self, start: int, end: int) -> int | None:
        """The first controller ending every note after `start`, up to `end`, or None."""
        j = bisect_right(self.ends, start)
        return self.ends[j] if j < len(self.ends) and self.ends[j] <= end else None


@dataclass
class _Held:
    """A note and how long its card is held: key-down `start`, key-up `key_end`, silence `end` (pedal)."""

    note: Note
    channel: int
    start: int
    key_end: int
    end: int
    protected: bool
    layer: bool
    pedal: _Pedal | None = None
    gone: bool = False


def pedals(score: Score) -> dict[int, _Pedal]:
    """Each channel's sustain pedal, read from the score's controls (the pedal acts on the whole channel)."""
    channel_of = {p.name: p.channel for p in score.parts}
    out: dict[int, _Pedal] = defaultdict(_Pedal)
    for c in score.controls:
        if c.kind != "control":
            continue
        ch = channel_of[c.part]
        if c.number == CC.SUSTAIN:
            out[ch].changes.append((c.tick, pedal_down(c.value)))
        elif c.number == CC.RESET_ALL_CONTROLLERS:
            out[ch].changes.append((c.tick, False))
        elif c.number in ENDS_ALL_NOTES:
            out[ch].ends.append(c.tick)
    for p in out.values():
        p.changes.sort(key=lambda x: x[0])  # stable: a tick's controllers keep their order
        p.ends.sort()
    return out


def key_intervals(notes: Iterable[Note]) -> list[tuple[Note, int]]:
    """(note, key-up tick) of each note as a MIDI file plays it: cut where the next note on its key and part
    begins, if sooner; notes that begin together on one key each keep their own end (scores.score.to_midi)."""
    by_key: dict[tuple[str, int], list[Note]] = defaultdict(list)
    for n in notes:
        by_key[n.part, n.pitch].append(n)
    out = []
    for same in by_key.values():
        same.sort(key=lambda n: (n.start, -n.duration))
        starts = [n.start for n in same]
        for n in same:
            j = bisect_right(starts, n.start)
            out.append((n, min(n.end, starts[j]) if j < len(starts) else n.end))
    return out


def _held(score: Score, protected: set[Note], layers: set[str]) -> list[_Held]:
    channel_of = {p.name: p.channel for p in score.parts}
    by_channel = pedals(score)
    limit = max(score.end, max((n.end for n in score.notes), default=0)) + 1
    out = []
    for n, key_end in key_intervals(score.notes):
        ch = channel_of[n.part]
        pedal = by_channel.get(ch)
        end = key_end
        if pedal is not None:
            cut = pedal.ended_between(n.start, key_end)
            if cut is not None:
                end = key_end = cut
            elif pedal.down_at(key_end):
                # held on until the pedal comes up; one tick more, for a key-down at that tick on an earlier
                # track may come before the pedal (the engine plays a tick's note-offs first, then the rest
                # track by track)
                end = pedal.up_after(key_end, limit) + 1
        out.append(_Held(n, ch, n.start, key_end, end, n in protected, n.part in layers, pedal))
    out.sort(key=lambda h: (h.start, h.note.pitch))
    return out


def held_spans(score: Score) -> list[tuple[Note, int, int]]:
    """(note, key-down tick, tick its card is let go) of every note, the sustain pedal counted."""
    return [(h.note, h.start, h.end) for h in _held(score, set(), set())]


def _outer(spans: list[tuple[Note, int, int]], top: bool) -> set[Note]:
    """The notes of one part that are its highest (lowest) when they begin: above (below) every other note of
    the part then sounding, struck with it or held from before (the pedal counted for the top line: a
    falling arpeggio under the pedal is figuration; not for the bass, which the pedal's tails never hide).
    `spans` are (note, key-down, end) with the pedal's end; for the bass the key-up ends a note."""
    sign = 1 if top else -1
    out = set()
    active: list[tuple[Note, int, int]] = []
    spans = sorted(spans, key=lambda x: x[1])
    i = 0
    while i < len(spans):
        t = spans[i][1]
        group = []
        while i < len(spans) and spans[i][1] == t:
            group.append(spans[i])
            i += 1
        active = [x for x in active if x[2] > t] + group
        best = max(sign * x[0].pitch for x in active)
        out |= {n for n, _, _ in group if sign * n.pitch == best}
    return out


def protected_notes(score: Score, source: Score | None = None) -> set[Note]:
    """The notes `fit` never takes: the melody (the notes of each part of role "melody" that are its highest
    when they begin), the bass (those of each part of role "bass" that are its lowest; of every pitched part
    of the source together when none has that role), the grounds, the ostinati and the drum kit. Parts the
    source does not have are layers, never protected."""
    own = {p.name for p in (source or score).parts}
    parts = [p for p in score.parts if p.name in own]
    fixed = {p.name for p in parts if p.role in ("ground", "ostinato", "drums") or p.channel == DRUM_CHANNEL}
    out = {n for n in score.notes if n.part in fixed}
    pedalled = [x for x in held_spans(score) if x[0].part in own and x[0].part not in fixed]
    keyed = [(n, n.start, end) for n, end in key_intervals(score.notes) if n.part in own and n.part not in fixed]
    for role, top, spans in (("melody", True, pedalled), ("bass", False, keyed)):
        names = {p.name for p in parts if p.role == role and p.name not in fixed}
        by_part: dict[str, list[tuple[Note, int, int]]] = defaultdict(list)
        for x in spans:
            if x[0].part in names or not names:
                by_part[x[0].part if names else ""].append(x)
        for chosen in by_part.values():
            out |= _outer(chosen, top)
    return out


@dataclass
class Fitted:
    """What `fit` did: the score, the notes it dropped and cut by reason, and the onsets where the notes it
    may not take alone need more cards (left to the engine's stealing), with the notes that would then be
    stolen there."""

    score: Score
    dropped: dict[str, int]
    cut: dict[str, int]
    left: int
    left_notes: int


def fit(score: Score, max_voices: int, source: Score | None = None) -> Fitted:
    """The score thinned so that no more than `max_voices` cards are ever held (see the module's docstring)."""
    layers = {p.name for p in score.parts} - {p.name for p in (source or score).parts}
    held = _held(score, protected_notes(score, source), layers)
    beat = score.ticks(1.0)
    bar = score.bar_ticks(*score.metre_at(0))
    strikes: dict[tuple[str, int | None], list[int]] = defaultdict(list)
    for h in held:  # sorted by start: each key's strikes, and each part's (key None)
        strikes[h.note.part, h.note.pitch].append(h.start)
        strikes[h.note.part, None].append(h.start)
    dropped: dict[str, int] = defaultdict(int)
    cut: dict[str, int] = defaultdict(int)
    left = left_notes = 0
    active: list[_Held] = []
    i = 0
    while i < len(held):
        t = held[i].start
        while i < len(held) and held[i].start == t:
            active.append(held[i])
            i += 1
        active = [h for h in active if not h.gone and h.end > t]
        if len(active) <= max_voices:
            continue
        while len(active) > max_voices:
            kept = sum(h.protected and h.key_end > t for h in active)  # by rule, their keys down
            layered = sum(h.layer and h.key_end > t for h in active)
            pedalled = sum(h.key_end <= t for h in active)  # held by the pedal, their keys up
            for_the_pedal = kept + layered <= max_voices < kept + layered + pedalled
            choice = None if sum(h.protected for h in active) > max_voices else _cheapest(
                active, t, beat, bar, strikes, own_part_only=for_the_pedal)
            if choice is None or (choice[1] >= INNER and for_the_pedal):
                # only the engine's stealing can make room here: it takes the cards of the notes struck
                # longest ago (every card is held)
                left += 1
                stolen = sorted((h for h in active if h.start < t), key=lambda h: h.start)
                stolen = stolen[:len(active) - max_voices]
                left_notes += len(stolen)
                for h in stolen:
                    h.end = t
                active = [h for h in active if h.end > t]
                break
            how, tier, target = choice
            if how == "cut":
                target.key_end = target.end = t
                cut[TIERS[tier]] += 1
            else:
                target.gone = True
                dropped[TIERS[tier]] += 1
            active = [h for h in active if not h.gone and h.end > t]
    if not dropped and not cut:
        return Fitted(score, {}, {}, left, left_notes)
    notes = [Note(h.note.start, max(h.key_end - h.note.start, 1), h.note.pitch, h.note.velocity, h.note.part)
             for h in held if not h.gone]
    return Fitted(score.with_notes(notes), dict(dropped), dict(cut), left, left_notes)


def _cheapest(active: list[_Held], t: int, beat: int, bar: int, strikes: dict[tuple[str, int | None], list[int]],
              own_part_only: bool = False):
    """The cheapest way to free a card at tick t, (how, tier, held): "cut" a note held from before (its pedal
    up), or "drop" one (beginning there, or held by the pedal from before); some note may be taken. With
    `own_part_only` (room wanted for what the pedal holds) a note counts as an octave doubling or as masked
    only by a note of its own part (a hand's octaves, not another voice of a chorale)."""
    shortest = int(beat * SHORTEST_CUT_BEATS)
    pitched = [h for h in active if h.channel != DRUM_CHANNEL]
    low = min((h.note.pitch for h in pitched), default=0)
    high = max((h.note.pitch for h in pitched), default=127)
    best = None
    for h in active:
        if h.protected:
            continue
        n = h.note
        if h.start == t:
            how, cost = "drop", 1
        elif h.key_end > t and not (h.pedal and h.pedal.down_at(t)) and t - h.start >= min(shortest, n.duration):
            how, cost = "cut", 0  # its key comes up here, the pedal up
        else:
            how, cost = "drop", 2  # held by the pedal (or too short to cut): dropped whole
        a, b = (t if how == "cut" else h.start), h.end
        # the notes that double or mask it are struck and held through its own key's time (not a tail the
        # pedal keeps of an earlier chord)
        through = [m for m in active if m is not h and m.start <= a and m.key_end >= min(h.key_end, b)]
        inner = low < n.pitch < high
        beside = [m for m in through if m.note.part == n.part] if own_part_only else through
        if h.layer:
            tier = LAYER
        elif any(m.note.pitch == n.pitch for m in through):
            tier = UNISON
        elif inner and any(m.note.pitch % 12 == n.pitch % 12 and m.note.pitch != n.pitch for m in beside):
            tier = OCTAVE
        elif inner and any(abs(m.note.pitch - n.pitch) <= MASK_SEMITONES and m.channel != DRUM_CHANNEL
                           and m.note.velocity >= max(n.velocity * MASK_VELOCITY_RATIO,
                                                      n.velocity + MASK_VELOCITY_STEP) for m in beside):
            tier = MASKED
        elif inner and _figuration(n, strikes, beat, bar):
            tier = FIGURATION
        else:
            tier = INNER
        key = (tier, cost, n.velocity, -(b - a))
        if best is None or key < best[0]:
            best = (key, (how, tier, h))
    assert best is not None
    return best[1]


def _figuration(n: Note, strikes: dict, beat: int, bar: int) -> bool:
    """Whether a note repeats a key its part struck in the bar before, the part striking FIGURATION_RATE notes
    a beat or more over that bar."""
    ticks = strikes[n.part, n.pitch]
    i = bisect_left(ticks, n.start)
    if i == 0 or n.start - ticks[i - 1] > bar:
        return False
    all_strikes = strikes[n.part, None]
    busy = bisect_left(all_strikes, n.start + 1) - bisect_left(all_strikes, n.start - bar + 1)
    return busy >= FIGURATION_RATE * bar / beat
