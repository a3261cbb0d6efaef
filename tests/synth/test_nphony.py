"""Page 3's NPHONY as a filter of MIDI messages."""

from __future__ import annotations

import mido
import pytest

from synth.nphony import PolyphonyLimit


def on(key: int, channel: int = 0) -> mido.Message:
    return mido.Message("note_on", channel=channel, note=key, velocity=100)


def off(key: int, channel: int = 0) -> mido.Message:
    return mido.Message("note_off", channel=channel, note=key, velocity=0)


def kinds(messages) -> list[tuple[str, int]]:
    return [(m.type, m.note) for m in messages]


def test_a_note_past_the_registers_polyphony_ends_its_oldest():
    limit = PolyphonyLimit({0: 2})
    assert kinds(limit(on(60))) == [("note_on", 60)]
    assert kinds(limit(on(64))) == [("note_on", 64)]
    assert kinds(limit(on(67))) == [("note_off", 60), ("note_on", 67)]


def test_the_note_off_of_a_note_the_limit_ended_is_dropped_and_cannot_end_a_later_strike():
    limit = PolyphonyLimit({0: 1})
    limit(on(60))
    assert kinds(limit(on(60))) == [("note_off", 60), ("note_on", 60)]  # the same key struck again
    assert limit(off(60)) == []  # the first strike's note-off: already ended
    assert kinds(limit(off(60))) == [("note_off", 60)]  # the second's


def test_other_channels_pass_and_nphony_0_silences_a_register():
    limit = PolyphonyLimit({0: 0})
    assert limit(on(60)) == [] and limit(off(60)) == []
    assert kinds(limit(on(60, channel=3))) == [("note_on", 60)]


def test_a_bad_limit_is_refused():
    with pytest.raises(ValueError, match="not a count"):
        PolyphonyLimit({0: -1})
