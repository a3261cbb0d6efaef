"""The computer keyboard as a two-octave music keyboard in the terminal, laid out as in trackers."""

from __future__ import annotations

import contextlib
import os
import select
import sys
import threading
import time

import mido

# Two rows of a QWERTY keyboard, as trackers lay them out: the letter rows are the white keys and
# the row above each holds the black keys. Semitones above the lower row's C; the lower row's last
# keys and the upper row's run on into the next octave.
LOWER_ROW = {"z": 0, "s": 1, "x": 2, "d": 3, "c": 4, "v": 5, "g": 6, "b": 7, "h": 8, "n": 9, "j": 10, "m": 11,
             ",": 12, "l": 13, ".": 14, ";": 15, "/": 16}
UPPER_ROW = {"q": 12, "2": 13, "w": 14, "3": 15, "e": 16, "r": 17, "5": 18, "t": 19, "6": 20, "y": 21, "7": 22,
             "u": 23, "i": 24, "9": 25, "o": 26, "0": 27, "p": 28}
KEY_SEMITONES = {**LOWER_ROW, **UPPER_ROW}

OCTAVE_DOWN = ("-", "\x1b[B", "\x1b[D")  # minus, arrow down, arrow left
OCTAVE_UP = ("=", "+", "\x1b[A", "\x1b[C")  # equals (plus without shift), arrow up, arrow right
SUSTAIN = " "  # space toggles the sustain pedal (CC64)
QUIT = ("\x1b", "\x04")  # Esc, Ctrl-D (Ctrl-C still interrupts as everywhere)

DEFAULT_OCTAVE = 3  # the z key plays C3 = MIDI 48 (middle C is C4 = 60)
MIN_OCTAVE, MAX_OCTAVE = -1, 7  # C-1 = MIDI 0; at octave 7 the top key, p, plays 96 + 28 = 124
DEFAULT_VELOCITY = 100

# A terminal reports key presses, never releases. A note therefore sounds for GATE_S after the last
# press of its key; a held key repeats (after the usual 250-600 ms auto-repeat delay, then about 30
# times a second), and each repeat extends the note instead of striking it again. 0.6 s is a choice:
# longer than the common 500 ms delay, so that holding a key holds its note.
GATE_S = 0.6

ESCAPE_WAIT_S = 0.01  # the rest of an arrow key's escape sequence arrives within this


class KeysError(ValueError):
    """The computer keyboard cannot be used (standard input is not a terminal)."""


def note_for_key(key: str, octave: int = DEFAULT_OCTAVE) -> int | None:
    """The MIDI note a key plays with the lower row starting at C of `octave`; None if none or out of range."""
    semitones = KEY_SEMITONES.get(key.lower()) if len(key) == 1 else None
    if semitones is None:
        return None
    note = 12 * (octave + 1) + semitones
    return note if 0 <= note <= 127 else None


def layout_help(octave: int = DEFAULT_OCTAVE) -> str:
    """One line telling what the keys do."""
    low = mido_note_name(12 * (octave + 1))
    high = mido_note_name(12 * (octave + 2))
    return (f"keys: z s x d c v g b h n j m = {low}..B, q 2 w 3 e r 5 t 6 y 7 u = {high}..B; "
            "- and = (or arrows) octave down/up; space sustain; Esc quits")


def mido_note_name(note: int) -> str:
    names = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
    return f"{names[note % 12]}{note // 12 - 1}"


class KeyState:
    """Turns key presses into MIDI messages: notes gated by time, octave shifts, the sustain pedal."""

    def __init__(self, channel: int = 0, octave: int = DEFAULT_OCTAVE, velocity: int = DEFAULT_VELOCITY,
                 gate_s: float = GATE_S) -> None:
        self.channel = channel
        self.octave = octave
        self.velocity = velocity
        self.gate_s = gate_s
        self.sustain = False
        self.quit = False
        self._until: dict[int, float] = {}  # sounding note -> when its gate closes

    @property
    def sounding(self) -> list[int]:
        return sorted(self._until)

    def press(self, key: str, now_s: float) -> list[mido.Message]:
        """The messages one key press makes (key: one character, or an escape sequence)."""
        if key in QUIT:
            self.quit = True
            return self.release_all()
        if key in OCTAVE_DOWN or key in OCTAVE_UP:
            step = -1 if key in OCTAVE_DOWN else 1
            self.octave = min(MAX_OCTAVE, max(MIN_OCTAVE, self.octave + step))
            return []
        if key == SUSTAIN:
            self.sustain = not self.sustain
            return [mido.Message("control_change", channel=self.channel, control=64,
                                 value=127 if self.sustain else 0)]
        note = note_for_key(key, self.octave)
        if note is None:
            return []
        struck = note not in self._until
        self._until[note] = now_s + self.gate_s
        if not struck:
            return []  # auto-repeat of a held key: the note goes on
        return [mido.Message("note_on", channel=self.channel, note=note, velocity=self.velocity)]

    def expire(self, now_s: float) -> list[mido.Message]:
        """Note-offs for the notes whose gate has closed by now_s."""
        ended = [note for note, until in self._until.items() if until <= now_s]
        for note in ended:
            del self._until[note]
        return [mido.Message("note_off", channel=self.channel, note=note) for note in sorted(ended)]

    def release_all(self) -> list[mido.Message]:
        """Note-offs for every sounding note, and the pedal up."""
        messages = [mido.Message("note_off", channel=self.channel, note=note) for note in sorted(self._until)]
        self._until.clear()
        if self.sustain:
            self.sustain = False
            messages.append(mido.Message("control_change", channel=self.channel, control=64, value=0))
        return messages

    @property
    def next_deadline(self) -> float | None:
        return min(self._until.values()) if self._until else None


def split_keys(data: str) -> list[str]:
    """Cut what the terminal sent into keys; an escape sequence becomes one key, '\x1b[' and its final
    letter (so the arrows read the same in either cursor mode); a lone Esc is Esc."""
    keys, i = [], 0
    while i < len(data):
        if data[i] == "\x1b" and i + 2 < len(data) and data[i + 1] in "[O":
            j = i + 2
            while j < len(data) and not data[j].isalpha() and data[j] != "~":
                j += 1
            keys.append("\x1b[" + data[j] if j < len(data) else data[i:])
            i = j + 1
        else:
            keys.append(data[i])
            i += 1
    return keys


class KeyboardInput:
    """Reads the terminal in cbreak mode on a thread of its own and puts the messages into an Inbox.

    `on_quit` is called once when Esc or Ctrl-D is pressed. The terminal's settings are restored by
    stop(), which also releases the notes still sounding.
    """

    def __init__(self, inbox, *, on_quit=None, channel: int = 0, octave: int = DEFAULT_OCTAVE,
                 velocity: int = DEFAULT_VELOCITY, stream=None) -> None:
        self.inbox = inbox
        self.on_quit = on_quit
        self.state = KeyState(channel=channel, octave=octave, velocity=velocity)
        self.stream = stream if stream is not None else sys.stdin
        self._fd: int | None = None
        self._saved = None
        self._stop = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        import termios
        import tty

        try:
            fd = self.stream.fileno()
        except (AttributeError, ValueError, OSError):
            fd = -1
        if fd < 0 or not os.isatty(fd):
            raise KeysError("--keys needs a terminal: standard input is not one")
        self._fd = fd
        self._saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)  # keys one at a time, no echo; Ctrl-C still sends SIGINT
        self._thread = threading.Thread(target=self._read_loop, name="liquidsky-keys", daemon=True)
        self._thread.start()

    def _read_loop(self) -> None:
        fd, state = self._fd, self.state
        while not self._stop:
            deadline = state.next_deadline
            timeout = 0.05 if deadline is None else max(0.0, min(0.05, deadline - time.monotonic()))
            ready, _, _ = select.select([fd], [], [], timeout)
            if ready:
                try:
                    data = os.read(fd, 64)
                except OSError:
                    break
                if not data:
                    break
                text = data.decode("latin-1")
                if text == "\x1b":  # a lone Esc, or the start of a sequence still on its way
                    more, _, _ = select.select([fd], [], [], ESCAPE_WAIT_S)
                    if more:
                        text += os.read(fd, 64).decode("latin-1")
                now = time.monotonic()
                for key in split_keys(text):
                    for message in state.press(key, now):
                        self.inbox.put(message)
                if state.quit:
                    if self.on_quit is not None:
                        self.on_quit()
                    break
            for message in state.expire(time.monotonic()):
                self.inbox.put(message)

    def stop(self) -> None:
        self._stop = True
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        for message in self.state.release_all():
            self.inbox.put(message)
        if self._saved is not None:
            import termios

            with contextlib.suppress(OSError, termios.error):
                termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
            self._saved = None

    def __enter__(self) -> KeyboardInput:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
