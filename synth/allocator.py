"""Voice allocation: which channel card plays which note. Bookkeeping only, no audio.

The CMI's Page 3 divided the cards among eight registers A-H, each a virtual keyboard. With MIDI a
channel plays the part of a register, but here every channel draws from one shared pool of cards:
a General MIDI file decides for itself how many notes each channel needs at any moment.

A note is named by (track, channel, key). The track is part of the name so that two tracks of a
type 1 file playing the same key on the same channel end their own notes, not each other's.
The sustain pedal and the all-notes-off messages act on a channel across all tracks, as in MIDI.

A card is in one of four states:

    free       silent, ready for a new note
    held       its key is down
    sustained  its key is up but the channel's sustain pedal (CC64) keeps the note sounding
    released   its key is up; the card plays its release (DAMPING) until the engine calls free()

Cards never free themselves: only the engine knows when an envelope has reached zero or a sample
has run out, and it says so with free(card).
"""

from __future__ import annotations

import heapq
from collections import deque

import mido

from synth.midi import CC, ENDS_ALL_NOTES, is_note_off, pedal_down

#: How note_on picks a card when more notes are wanted than there are cards. The CMI sources say
#: only "prefer a voice already in release, then the oldest" (docs/hardware.md, Polyphony); the lowest
#: free card and the order among released cards are our choices, made so that a render is
#: reproducible.
POLICY = "free (lowest card first), then released longest ago, then oldest sounding"

FREE = "free"
HELD = "held"
SUSTAINED = "sustained"
RELEASED = "released"

Note = tuple[int, int, int]  # (track, channel, key)


class Allocator:
    """Assigns notes to n_cards channel cards (numbered 0..n_cards-1) following POLICY."""

    def __init__(self, n_cards: int) -> None:
        if n_cards < 1:
            raise ValueError(f"an allocator needs at least one card, not {n_cards}")
        self.n_cards = n_cards
        self.reset()

    def reset(self) -> None:
        """Every card free, every pedal up."""
        n = self.n_cards
        self._note: list[Note | None] = [None] * n
        self._state: list[str] = [FREE] * n
        # Sequence numbers order events in time without needing a clock: _on_seq says which note
        # is oldest, _off_seq which card was released longest ago.
        self._on_seq: list[int] = [0] * n
        self._off_seq: list[int] = [0] * n
        self._seq = 0
        self._free_heap: list[int] = list(range(n))  # already a valid heap
        # Held (key-down) cards of each note, oldest first: note_off ends the oldest instance.
        self._held: dict[Note, deque[int]] = {}
        # Sustained cards of each channel, in the order their keys went up.
        self._sustained: dict[int, list[int]] = {}
        self._pedal_down: set[int] = set()

    # --- queries ---------------------------------------------------------------------------------

    @property
    def n_busy(self) -> int:
        """Cards that are not free (held, sustained or released)."""
        return self.n_cards - len(self._free_heap)

    def playing(self, card: int) -> Note | None:
        """The (track, channel, key) on a card, or None if the card is free."""
        return self._note[card]

    def state(self, card: int) -> str:
        """'free', 'held', 'sustained' or 'released'."""
        return self._state[card]

    def card_of(self, track: int, channel: int, key: int) -> int | None:
        """The card of the oldest instance of a note whose key is still down, or None."""
        cards = self._held.get((track, channel, key))
        return cards[0] if cards else None

    def cards_on(self, channel: int) -> list[int]:
        """Every busy card playing a note of this channel, in card order (for channel-wide controls)."""
        return [card for card, note in enumerate(self._note) if note is not None and note[1] == channel]

    def pedal_is_down(self, channel: int) -> bool:
        return channel in self._pedal_down

    # --- events ----------------------------------------------------------------------------------

    def note_on(self, track: int, channel: int, key: int) -> tuple[int, Note | None]:
        """Give a new note a card: (card, None), or (card, the note taken from it) when stealing."""
        note = (track, channel, key)
        if self._free_heap:
            card = heapq.heappop(self._free_heap)
            stolen = None
        else:
            card = self._victim()
            stolen = self._note[card]
            self._forget(card)
        self._note[card] = note
        self._state[card] = HELD
        self._on_seq[card] = self._next_seq()
        self._held.setdefault(note, deque()).append(card)
        return card, stolen

    def note_off(self, track: int, channel: int, key: int) -> int | None:
        """Key up for the oldest held instance of the note.

        Returns its card, now released, or None: when no instance of the note is held (already
        ended, stolen, or never started), or when the channel's pedal is down, in which case the
        note is sustained until pedal_up().
        """
        note = (track, channel, key)
        cards = self._held.get(note)
        if not cards:
            return None
        card = cards.popleft()
        if not cards:
            del self._held[note]
        if channel in self._pedal_down:
            self._state[card] = SUSTAINED
            self._sustained.setdefault(channel, []).append(card)
            return None
        self._release(card)
        return card

    def hold(self, channel: int, on: bool) -> list[int]:
        """Sustain pedal (CC64) down or up. Pedal up releases the sustained notes: see pedal_up()."""
        if on:
            self._pedal_down.add(channel)
            return []
        return self.pedal_up(channel)

    def pedal_up(self, channel: int) -> list[int]:
        """Lift the channel's pedal; its sustained notes are released. Returns their cards, in the
        order their keys went up (which is also the order of their release for the steal policy)."""
        self._pedal_down.discard(channel)
        cards = self._sustained.pop(channel, [])
        for card in cards:
            self._release(card)
        return cards

    def follow(self, track: int, message: mido.Message) -> list[int]:
        """Keep the books for a message that ends notes; returns the cards it releases.

        A key going up releases its oldest held instance (or sustains it under the pedal); the sustain
        pedal going down holds the channel's notes from then on, going up releases them; Reset All
        Controllers lifts the pedal; All Notes Off, the mode messages and All Sound Off release every
        note of the channel. Any other message changes nothing. Key-downs go through note_on, which
        returns what its caller needs: the card and the note stolen.
        """
        if is_note_off(message):
            card = self.note_off(track, message.channel, message.note)
            return [] if card is None else [card]
        if message.type == "control_change":
            control, channel = message.control, message.channel
            if control == CC.SUSTAIN:
                return self.hold(channel, pedal_down(message.value))
            if control == CC.RESET_ALL_CONTROLLERS:
                return self.pedal_up(channel)
            if control in ENDS_ALL_NOTES:
                return self.all_notes_off(channel)
        return []

    def all_notes_off(self, channel: int) -> list[int]:
        """CC123 / CC120: release every held and sustained note of the channel, pedal or not.

        Returns the cards released, oldest note first. The pedal's own state is left as it is.
        """
        cards = [card for card in range(self.n_cards)
                 if self._state[card] in (HELD, SUSTAINED) and self._note[card][1] == channel]
        cards.sort(key=self._on_seq.__getitem__)
        for card in cards:
            if self._state[card] == HELD:
                self._unhold(card)
            self._release(card)
        self._sustained.pop(channel, None)
        return cards

    def free(self, card: int) -> None:
        """The engine reports the card silent (envelope at zero, sample ended): it becomes free.

        Freeing a card whose key is still down ends that note too. Freeing a free card does nothing.
        """
        if not 0 <= card < self.n_cards:
            raise IndexError(f"card {card} out of range 0..{self.n_cards - 1}")
        if self._state[card] == FREE:
            return
        self._forget(card)
        self._note[card] = None
        self._state[card] = FREE
        heapq.heappush(self._free_heap, card)

    # --- internals -------------------------------------------------------------------------------

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _release(self, card: int) -> None:
        self._state[card] = RELEASED
        self._off_seq[card] = self._next_seq()

    def _victim(self) -> int:
        """The card to steal when none is free (POLICY). Ties cannot happen: sequence numbers are unique."""
        released = [card for card in range(self.n_cards) if self._state[card] == RELEASED]
        if released:
            return min(released, key=self._off_seq.__getitem__)
        return min(range(self.n_cards), key=self._on_seq.__getitem__)

    def _unhold(self, card: int) -> None:
        note = self._note[card]
        cards = self._held[note]
        cards.remove(card)
        if not cards:
            del self._held[note]

    def _forget(self, card: int) -> None:
        """Drop a busy card from the held and sustained indexes (before it is freed or stolen)."""
        state = self._state[card]
        if state == HELD:
            self._unhold(card)
        elif state == SUSTAINED:
            channel = self._note[card][1]
            sustained = self._sustained[channel]
            sustained.remove(card)
            if not sustained:
                del self._sustained[channel]
