"""The MIDI vocabulary every part of the toolkit speaks: channels, controllers and parameters by name
(MIDI 1.0 Detailed Specification, and General MIDI 1 for the drum channel), and the one place that
says which messages end notes.

Channels are numbered as on the wire, 0-15; musicians (and the command line) count them 1-16.
"""

from __future__ import annotations

import mido

N_CHANNELS = 16
DRUM_CHANNEL = 9  # General MIDI: channel 10 as musicians count
N_KEYS = 128
N_PROGRAMS = 128
CONTROL_MAX = 127
PEDAL_DOWN_MIN = 64  # a switch controller (sustain, sostenuto) is on from 64 up


class CC:
    """Controller numbers of the control_change message."""

    DATA_ENTRY = 6  # the MSB of the selected parameter's value
    VOLUME = 7
    PAN = 10
    EXPRESSION = 11
    DATA_ENTRY_LSB = 38
    SUSTAIN = 64
    SOSTENUTO = 66
    BRIGHTNESS = 74  # sound controller 5, General MIDI 2's brightness (the filter's cutoff here)
    RPN_LSB = 100
    RPN_MSB = 101
    ALL_SOUND_OFF = 120
    RESET_ALL_CONTROLLERS = 121
    ALL_NOTES_OFF = 123
    OMNI_OFF = 124
    OMNI_ON = 125
    MONO_ON = 126
    POLY_ON = 127


#: Switch controllers: held down from PEDAL_DOWN_MIN.
PEDALS = frozenset({CC.SUSTAIN, CC.SOSTENUTO})
#: All Notes Off and the channel mode messages, which the specification says imply it.
NOTES_OFF = frozenset({CC.ALL_NOTES_OFF, CC.OMNI_OFF, CC.OMNI_ON, CC.MONO_ON, CC.POLY_ON})
#: Everything that ends every note of a channel: the above and All Sound Off (which also cuts the release).
ENDS_ALL_NOTES = NOTES_OFF | {CC.ALL_SOUND_OFF}

#: Registered parameter numbers, as (MSB, LSB).
RPN_PITCH_BEND_RANGE = (0, 0)
RPN_NULL = (127, 127)

#: The pitch-bend range a channel starts with (General MIDI 1), in semitones.
BEND_RANGE_DEFAULT_SEMITONES = 2.0


def is_note_on(message: mido.Message) -> bool:
    """A key going down (a note_on of velocity 0 is a key going up, by the specification)."""
    return message.type == "note_on" and message.velocity > 0


def is_note_off(message: mido.Message) -> bool:
    """A key going up: note_off, or note_on with velocity 0."""
    return message.type == "note_off" or (message.type == "note_on" and message.velocity == 0)


def pedal_down(value: int) -> bool:
    """Whether a switch controller's value holds it down."""
    return value >= PEDAL_DOWN_MIN
