"""Page 3's NPHONY: a register (a MIDI channel) holds at most N notes; a note past that ends its oldest.

The cards stay one shared pool (synth.allocator); this limits how many keys each register holds
down at once, as the CMI's registers each had their number of voices. A note the limit ends early
has its own note-off dropped when it comes, so that it cannot end a later strike of the same key.
Keys held by the sustain pedal after their note-off no longer count (a simplification: the CMI
counted the voices themselves, which the pedal kept).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Mapping

import mido

from synth.midi import ENDS_ALL_NOTES


class PolyphonyLimit:
    """A filter of MIDI messages: `limits` {0-based channel: NPHONY}; other channels pass untouched.

    NPHONY 0 silences the register (its note-ons are dropped).
    """

    def __init__(self, limits: Mapping[int, int]) -> None:
        for channel, n in limits.items():
            if not 0 <= channel <= 15 or n < 0:
                raise ValueError(f"polyphony {n} for channel {channel + 1} is not a count of notes")
        self.limits = dict(limits)
        self._held: dict[int, deque[int]] = {ch: deque() for ch in self.limits}
        self._cut: Counter[tuple[int, int]] = Counter()  # (channel, key): note-offs to drop

    def __call__(self, message: mido.Message) -> list[mido.Message]:
        """The messages to play for one message (the note-offs the limit adds come first)."""
        channel = getattr(message, "channel", None)
        if channel not in self.limits:
            return [message]
        held = self._held[channel]
        if message.type == "note_on" and message.velocity > 0:
            limit = self.limits[channel]
            if limit == 0:
                self._cut[(channel, message.note)] += 1
                return []
            out = []
            while len(held) >= limit:
                oldest = held.popleft()
                self._cut[(channel, oldest)] += 1
                out.append(mido.Message("note_off", channel=channel, note=oldest, velocity=0))
            held.append(message.note)
            out.append(message)
            return out
        if message.type in ("note_off", "note_on"):
            key = (channel, message.note)
            if self._cut[key]:
                self._cut[key] -= 1
                return []
            if message.note in held:
                held.remove(message.note)
            return [message]
        if message.type == "control_change" and message.control in ENDS_ALL_NOTES:
            held.clear()
            self._cut = Counter({k: v for k, v in self._cut.items() if k[0] != channel})
        return [message]
