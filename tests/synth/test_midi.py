"""The MIDI vocabulary: which messages are key-downs and key-ups, which controllers end notes."""

import mido
import pytest

from synth.midi import CC, DRUM_CHANNEL, ENDS_ALL_NOTES, NOTES_OFF, PEDALS, is_note_off, is_note_on, pedal_down


def test_a_note_on_of_velocity_zero_is_a_key_going_up():
    silent = mido.Message("note_on", note=60, velocity=0)
    assert is_note_off(silent) and not is_note_on(silent)
    assert is_note_on(mido.Message("note_on", note=60, velocity=1))
    assert is_note_off(mido.Message("note_off", note=60, velocity=64))


def test_the_mode_messages_end_notes_as_all_notes_off_does_and_all_sound_off_too():
    assert {123, 124, 125, 126, 127} == NOTES_OFF
    assert NOTES_OFF | {120} == ENDS_ALL_NOTES
    assert CC.RESET_ALL_CONTROLLERS not in ENDS_ALL_NOTES


@pytest.mark.parametrize(("value", "down"), [(0, False), (63, False), (64, True), (127, True)])
def test_a_pedal_is_down_from_64(value, down):
    assert pedal_down(value) is down


def test_the_pedals_are_sustain_and_sostenuto_and_the_drums_are_on_channel_10():
    assert {64, 66} == PEDALS
    assert DRUM_CHANNEL + 1 == 10
