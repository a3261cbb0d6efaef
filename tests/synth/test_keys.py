"""The computer keyboard as a music keyboard: the key map, gated notes, octaves, and a real terminal."""

from __future__ import annotations

import io
import os
import pty
import termios
import time

import pytest

from synth import keys
from synth.live import Inbox


@pytest.mark.parametrize(("key", "note"), [
    ("z", 48), ("s", 49), ("x", 50), ("c", 52), ("v", 53), ("m", 59), (",", 60), ("/", 64),
    ("q", 60), ("2", 61), ("w", 62), ("e", 64), ("r", 65), ("u", 71), ("i", 72), ("p", 76),
    ("Z", 48), ("Q", 60),
])
def test_the_two_rows_play_two_chromatic_octaves_from_c3(key, note):
    assert keys.note_for_key(key) == note


def test_keys_outside_the_map_and_notes_outside_midi_play_nothing():
    assert keys.note_for_key("a") is None
    assert keys.note_for_key("1") is None
    assert keys.note_for_key("\x1b[A") is None
    assert keys.note_for_key("z", octave=-1) == 0
    assert keys.note_for_key("p", octave=9) is None  # 120 + 28 is past 127


def test_each_semitone_of_the_rows_is_played_by_exactly_one_key_per_row():
    lower = sorted(keys.LOWER_ROW.values())
    upper = sorted(keys.UPPER_ROW.values())
    assert lower == list(range(17))
    assert upper == list(range(12, 29))


def test_a_press_strikes_a_note_that_ends_when_its_gate_closes():
    state = keys.KeyState(gate_s=0.5)
    [on] = state.press("n", now_s=10.0)
    assert (on.type, on.note, on.velocity, on.channel) == ("note_on", 57, keys.DEFAULT_VELOCITY, 0)
    assert state.expire(10.49) == []
    [off] = state.expire(10.5)
    assert (off.type, off.note) == ("note_off", 57)
    assert state.sounding == []


def test_auto_repeat_of_a_held_key_extends_the_note_without_striking_it_again():
    state = keys.KeyState(gate_s=0.5)
    assert len(state.press("z", 0.0)) == 1
    assert state.press("z", 0.4) == []  # a repeat inside the gate
    assert state.press("z", 0.8) == []
    assert state.expire(1.2) == []  # 0.8 + 0.5 has not passed
    assert [m.note for m in state.expire(1.3)] == [48]


def test_octave_keys_shift_the_rows_and_stop_at_the_ends():
    state = keys.KeyState()
    state.press("=", 0.0)
    assert state.press("z", 0.0)[0].note == 60
    for _ in range(20):
        state.press("\x1b[A", 0.0)
    assert state.octave == keys.MAX_OCTAVE
    for _ in range(20):
        state.press("-", 0.0)
    assert state.octave == keys.MIN_OCTAVE
    assert state.press("z", 1.0)[0].note == 0


def test_space_toggles_the_sustain_pedal():
    state = keys.KeyState(channel=3)
    [down] = state.press(" ", 0.0)
    [up] = state.press(" ", 0.1)
    assert (down.type, down.channel, down.control, down.value) == ("control_change", 3, 64, 127)
    assert (up.control, up.value) == (64, 0)


def test_escape_quits_and_releases_every_note_and_the_pedal():
    state = keys.KeyState()
    state.press("z", 0.0)
    state.press("q", 0.0)
    state.press(" ", 0.0)
    released = state.press("\x1b", 0.1)
    assert state.quit
    assert [(m.type, getattr(m, "note", None)) for m in released] == [
        ("note_off", 48), ("note_off", 60), ("control_change", None)]
    assert released[-1].value == 0


def test_escape_sequences_are_cut_into_whole_keys():
    assert keys.split_keys("zx\x1b[Aq\x1bOB\x1b") == ["z", "x", "\x1b[A", "q", "\x1b[B", "\x1b"]
    assert keys.split_keys("\x1b[1;5C") == ["\x1b[C"]


def test_the_layout_line_names_the_octaves_it_plays():
    line = keys.layout_help(3)
    assert "C3..B" in line and "C4..B" in line and "Esc" in line


def test_keys_refuses_a_stdin_that_is_not_a_terminal():
    with pytest.raises(keys.KeysError, match="--keys needs a terminal"):
        keys.KeyboardInput(Inbox(), stream=io.StringIO("zx")).start()


def test_keys_typed_in_a_terminal_become_notes_and_esc_quits():
    main_fd, child_fd = pty.openpty()
    quit_called = []
    try:
        stream = os.fdopen(child_fd, "r", closefd=False)
        before = termios.tcgetattr(child_fd)
        inbox = Inbox()
        board = keys.KeyboardInput(inbox, on_quit=lambda: quit_called.append(True), stream=stream)
        board.start()
        assert not termios.tcgetattr(child_fd)[3] & termios.ICANON  # keys come one at a time
        os.write(main_fd, b"z")
        os.write(main_fd, b"w")
        messages = []
        deadline = time.monotonic() + 5
        while len(messages) < 2 and time.monotonic() < deadline:
            messages += [m for _, m in inbox.drain()]
            time.sleep(0.01)
        os.write(main_fd, b"\x1b")
        deadline = time.monotonic() + 5
        while not quit_called and time.monotonic() < deadline:
            time.sleep(0.01)
        board.stop()
        after = termios.tcgetattr(child_fd)
        rest = [m for _, m in inbox.drain()]
    finally:
        os.close(main_fd)
        os.close(child_fd)
    assert [(m.type, m.note) for m in messages[:2]] == [("note_on", 48), ("note_on", 62)]
    assert quit_called == [True]
    assert sorted(m.note for m in rest if m.type == "note_off") == [48, 62]
    assert after == before  # the terminal's settings are back as they were
