"""Engine: the cards, the allocator and the MIDI channels together; one `handle` for files and live input."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import mido
import numpy as np

from synth import blep, card
from synth import hardware as hw
from synth.allocator import Allocator
from synth.gm import default_voice_set
from synth.instrument import Instrument
from synth.midi import (
    BEND_RANGE_DEFAULT_SEMITONES,
    CC,
    DRUM_CHANNEL,
    N_CHANNELS,
    RPN_NULL,
    RPN_PITCH_BEND_RANGE,
    is_note_on,
    pedal_down,
)
from synth.protocols import Sound, VoiceSource
from synth.units import db_to_gain, midi_to_hz
from synth.voice import Voice

# Headroom: each card is mixed at 1/8 as in MAME (hardware.CARD_MIX_GAIN); we add 6 dB of make-up
# gain so that a typical arrangement peaks a few dB below full scale (a choice, not the hardware's).
MASTER_GAIN_DB = 6.0

# General MIDI defaults (GM Level 1 / RP-015).
DEFAULT_VOLUME = 100
DEFAULT_EXPRESSION = 127
DEFAULT_PAN = 64
DEFAULT_BEND_RANGE_SEMITONES = BEND_RANGE_DEFAULT_SEMITONES
# FILTER units moved per step of CC74 (brightness) away from its centre of 64 (a choice).
BRIGHTNESS_FILTER_UNITS = 0.5


@dataclass
class ChannelState:
    """What a MIDI channel remembers between notes."""

    program: int = 0
    volume: int = DEFAULT_VOLUME
    expression: int = DEFAULT_EXPRESSION
    pan: int = DEFAULT_PAN
    brightness: int = 64
    sustain: bool = False
    bend: int = 0  # -8192..8191
    bend_range_semitones: float = DEFAULT_BEND_RANGE_SEMITONES
    rpn_msb: int = RPN_NULL[0]
    rpn_lsb: int = RPN_NULL[1]

    @property
    def bend_semitones(self) -> float:
        return self.bend / 8192.0 * self.bend_range_semitones

    def reset_controllers(self) -> None:
        """CC121 as RP-015 defines it: volume, pan and program stay."""
        self.expression = DEFAULT_EXPRESSION
        self.sustain = False
        self.bend = 0
        self.brightness = 64
        self.rpn_msb, self.rpn_lsb = RPN_NULL


@dataclass
class _CardNote:
    channel: int
    play_note: int
    voice: Voice
    drum: bool


@cache
def _residual_tables() -> tuple[np.ndarray, np.ndarray]:
    return card.kernel_tables(blep.stored_residual_table())


def velocity_to_volume(velocity: int, voice_volume: int) -> int:
    """The card's 8-bit volume latch for a note: the voice's volume scaled by velocity squared.

    Velocity squared spans about 42 dB over 1..127, close to what GM players expect.
    """
    return max(1, int(round(voice_volume * (velocity / 127.0) ** 2)))


# The host rates an engine accepts: wider than any audio interface's, narrow enough that the
# band-limited steps and the filters stay meaningful (a choice).
RATE_MIN_HZ, RATE_MAX_HZ = 1000, 384_000


def check_rate_hz(rate_hz) -> int:
    """A sample rate as a whole number of Hz (an integral float, as audio devices report, is taken).

    >>> check_rate_hz(48000.0), check_rate_hz(44100)
    (48000, 44100)
    >>> check_rate_hz(44100.5)
    Traceback (most recent call last):
    ...
    TypeError: rate_hz must be a whole number of Hz, not 44100.5
    """
    if isinstance(rate_hz, bool) or not isinstance(rate_hz, (int, float, np.integer, np.floating)) or (
            isinstance(rate_hz, (float, np.floating)) and not float(rate_hz).is_integer()):
        shown = rate_hz if isinstance(rate_hz, (float, np.floating)) else type(rate_hz).__name__
        raise TypeError(f"rate_hz must be a whole number of Hz, not {shown}")
    if not RATE_MIN_HZ <= rate_hz <= RATE_MAX_HZ:
        raise ValueError(f"rate_hz must be {RATE_MIN_HZ}-{RATE_MAX_HZ}, not {rate_hz:g}")
    return int(rate_hz)


def _frame_count(n_frames) -> int:
    if isinstance(n_frames, bool) or not isinstance(n_frames, (int, np.integer)):
        raise TypeError(f"n_frames must be a whole number, not {type(n_frames).__name__}")
    if n_frames < 0:
        raise ValueError(f"n_frames must be 0 or more, not {n_frames}")
    return int(n_frames)


def _check_out(out, n_frames: int) -> None:
    """`out` must be a buffer the kernel can write the mix into as it is: float32 (n_frames, 2), C order."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy array, not {type(out).__name__}")
    if out.dtype != np.float32:
        raise TypeError(f"out must be float32, not {out.dtype}")
    if out.shape != (n_frames, 2):
        raise ValueError(f"out must have shape ({n_frames}, 2), not {out.shape}")
    if not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError("out must be a writeable, C-contiguous array (np.ascontiguousarray makes one)")


class Engine:
    """The CMI with `n_voices` channel cards, playing MIDI messages into stereo (and per-card stems).

    `card_kernel` is the function that renders the cards: None for the compiled kernel
    (synth.card.render_cards), or another with its signature and state, such as
    synth.card_reference.render_cards, the same rules in plain Python (slow; for checking the kernel).
    """

    def __init__(
        self,
        model: str = hw.DEFAULT_PROFILE,
        rate_hz: int = 44100,
        n_voices: int | None = None,
        stems: bool = False,
        voices: VoiceSource | None = None,
        master_tune: int = hw.MASTER_TUNE_DEFAULT,
        envelope_level_read: str = hw.ENVELOPE_LEVEL_READ_DEFAULT,
        card_kernel=None,
    ) -> None:
        self.profile = hw.get_profile(model)
        self.rate_hz = check_rate_hz(rate_hz)
        self.n_cards = int(n_voices) if n_voices else self.profile.n_voices
        if not 1 <= self.n_cards <= 64:
            raise ValueError(f"the number of voices must be 1..64, not {self.n_cards}")
        if not 0 <= master_tune <= hw.MASTER_TUNE_MAX:
            raise ValueError("master tune must be 0..255")
        self.master_tune = master_tune
        if envelope_level_read not in hw.ENVELOPE_LEVEL_READS:
            raise ValueError(
                f"envelope_level_read must be one of {hw.ENVELOPE_LEVEL_READS}, not {envelope_level_read!r}")
        # the exponential curve's 7497 multiplier reads the level before or after each step (hardware.py)
        self._exponential_curve = 1 if envelope_level_read == "before" else 2
        if voices is None:
            voices = default_voice_set()
        self.voices = voices
        self.latency_frames = blep.HALF_TAPS
        self._want_stems = stems
        self._cards = card.CardBank(self.n_cards, self.rate_hz, blep.HALF_TAPS, self._exponential_curve,
                                    kernel=card.render_cards if card_kernel is None else card_kernel)
        self._table, self._table_diff = _residual_tables()
        self._master_gain = hw.CARD_MIX_GAIN * db_to_gain(MASTER_GAIN_DB)
        self._out = np.zeros((0, 2), dtype=np.float32)
        self._stems_buf = np.zeros((0, self.n_cards), dtype=np.float32)
        self._last_stems = self._stems_buf
        # Threads the kernel may share the cards between in one render call: with 2 a helper thread
        # takes some of the cards of calls of 1024 frames or more (offline renders; live blocks are
        # shorter and stay on their own thread). The samples do not depend on it.
        self.render_threads = 2
        self.reset()

    # --- state ------------------------------------------------------------------------------

    def reset(self) -> None:
        """Silence every card and return every channel to its power-on state."""
        self.frame = 0
        self.notes_stolen = 0
        self._cards.reset()
        self._alloc = Allocator(self.n_cards)
        self._channels = [ChannelState() for _ in range(N_CHANNELS)]
        self._card_notes: list[_CardNote | None] = [None] * self.n_cards

    @property
    def is_silent(self) -> bool:
        return not self._cards.any_active

    @property
    def n_sounding(self) -> int:
        """Cards playing or ringing out (not counting steal fades)."""
        return self._cards.n_active_cards()

    @property
    def stems(self) -> np.ndarray | None:
        """float32 (n_frames, n_cards): each card's own output for the last render, when asked for."""
        return self._last_stems if self._want_stems else None

    # --- rendering ----------------------------------------------------------------------------

    def render(self, n_frames: int, out: np.ndarray | None = None) -> np.ndarray:
        """Render the next n_frames of the stereo mix; returns float32 (n_frames, 2).

        By default the result is a new array, the caller's to keep. With `out` (a C-contiguous float32
        array of shape (n_frames, 2)) the mix is written into it and `out` is returned, so that a
        real-time loop allocates nothing. `stems`, when asked for, is valid until the next call.

        >>> engine = Engine(rate_hz=8000)
        >>> engine.handle(mido.Message("note_on", note=60, velocity=100))
        >>> a = engine.render(800)
        >>> b = engine.render(800)
        >>> a.shape, a.dtype, bool((a != b).any())
        ((800, 2), dtype('float32'), True)
        >>> buffer = np.zeros((800, 2), dtype=np.float32)
        >>> engine.render(800, out=buffer) is buffer
        True
        """
        n_frames = _frame_count(n_frames)
        if out is not None:
            _check_out(out, n_frames)
        if self._out.shape[0] < n_frames:
            self._out = np.zeros((n_frames, 2), dtype=np.float32)
            if self._want_stems:
                self._stems_buf = np.zeros((n_frames, self.n_cards), dtype=np.float32)
        mix = self._out[:n_frames] if out is None else out
        mix[:] = 0.0
        stems = self._stems_buf[:n_frames] if self._want_stems else self._stems_buf[:0]
        if self._want_stems:
            stems[:] = 0.0
        for c in self._cards.render(mix, stems, self.frame, n_frames, self._table, self._table_diff,
                                    self.render_threads):
            self._alloc.free(c)
            self._card_notes[c] = None
        self.frame += n_frames
        self._last_stems = stems
        return mix.copy() if out is None else out

    # --- MIDI ---------------------------------------------------------------------------------

    def handle(self, message: mido.Message, track: int = 0) -> None:
        """Apply one MIDI message at the current frame (file and live input alike)."""
        kind = message.type
        if is_note_on(message):
            self._note_on(message.channel, message.note, message.velocity, track)
            return
        if kind == "control_change" and message.control == CC.ALL_SOUND_OFF:
            self._sound_off(message.channel)
            return
        # Key-ups, the pedal, and the messages that end every note: the allocator's books say which
        # cards go into their release.
        for c in self._alloc.follow(track, message):
            self._release(c)
        if kind == "control_change":
            self._control(message.channel, message.control, message.value)
        elif kind == "program_change":
            self._channels[message.channel].program = message.program
        elif kind == "pitchwheel":
            self._channels[message.channel].bend = message.pitch
            self._retune_channel(message.channel)
        # Aftertouch, sysex and meta messages do not reach the cards.

    def _note_on(self, channel: int, key: int, velocity: int, track: int) -> None:
        ch = self._channels[channel]
        drum = channel == DRUM_CHANNEL
        if drum:
            found = self.voices.drum(key)
            if found is None:
                return
            voice, play_note = found
        else:
            voice, play_note = self._melodic_voice(ch.program, channel), key
            if isinstance(voice, Instrument):  # a key split: the key's voice, clocked from its own root
                voice = voice.voice_for_key(key)
        # A steal counts when every card holds a key down (or under the pedal); taking a card whose
        # note is only ringing out in its release is ordinary voice reuse, as `liquidsky info` counts.
        all_held = all(self._alloc.state(k) in ("held", "sustained") for k in range(self.n_cards))
        c, stolen = self._alloc.note_on(track, channel, key)
        if stolen is not None and all_held:
            self.notes_stolen += 1
        self._start(c, voice, play_note, velocity, channel, drum)

    def _melodic_voice(self, program: int, channel: int) -> Sound:
        return self.voices.melodic(program, channel=channel)

    def _release(self, c: int) -> None:
        info = self._card_notes[c]
        # A drum hit plays its whole sound (GM drums ignore note-off) unless the voice loops.
        if info is not None and info.drum and not info.voice.looped:
            return
        self._cards.release(c)

    def _control(self, channel: int, control: int, value: int) -> None:
        """What a controller changes in the channel's state (the notes it ends are already released)."""
        ch = self._channels[channel]
        if control == CC.VOLUME:
            ch.volume = value
            self._update_mix(channel)
        elif control == CC.EXPRESSION:
            ch.expression = value
            self._update_mix(channel)
        elif control == CC.PAN:
            ch.pan = value
            self._update_mix(channel)
        elif control == CC.SUSTAIN:
            ch.sustain = pedal_down(value)
        elif control == CC.BRIGHTNESS:
            ch.brightness = value
            self._update_filters(channel)
        elif control == CC.RPN_MSB:
            ch.rpn_msb = value
        elif control == CC.RPN_LSB:
            ch.rpn_lsb = value
        elif control in (CC.DATA_ENTRY, CC.DATA_ENTRY_LSB) and (ch.rpn_msb, ch.rpn_lsb) == RPN_PITCH_BEND_RANGE:
            # The pitch bend range: semitones in the data entry MSB and cents in the LSB.
            whole = math.floor(ch.bend_range_semitones)
            cents = round((ch.bend_range_semitones - whole) * 100)
            if control == CC.DATA_ENTRY:
                whole = value
            else:
                cents = value
            ch.bend_range_semitones = whole + cents / 100.0
            self._retune_channel(channel)
        elif control == CC.RESET_ALL_CONTROLLERS:
            ch.reset_controllers()
            self._update_mix(channel)
            self._update_filters(channel)
            self._retune_channel(channel)

    def _sound_off(self, channel: int) -> None:
        """CC120: every card of the channel stops now, through the steal fade so it does not click."""
        for c, _ in self._cards_on(channel):
            self._cards.steal_to_shadow(c)
            self._alloc.free(c)
            self._card_notes[c] = None

    # --- card set-up --------------------------------------------------------------------------

    def _cards_on(self, channel: int) -> list[tuple[int, _CardNote]]:
        """(card, note) for every card sounding a note of the channel (a list: callers may free cards)."""
        return [(c, info) for c, info in enumerate(self._card_notes) if info is not None and info.channel == channel]

    def _start(self, c: int, voice: Voice, play_note: int, velocity: int, channel: int, drum: bool) -> None:
        tick_increment = self._tick_increment(voice, play_note, self._channels[channel].bend_semitones)
        self._cards.start(c, voice, self.frame, velocity_to_volume(velocity, voice.volume), tick_increment)
        self._card_notes[c] = _CardNote(channel, play_note, voice, drum)
        self._set_mix(c, channel, jump=True)
        self._set_filter(c, jump=True)

    def clock_hz(self, voice: Voice, play_note: float) -> float:
        """The card clock a voice runs at for a (possibly bent) note, quantised as the card does."""
        if voice.mode == 1:
            target = hw.SEGMENT_SAMPLES * midi_to_hz(play_note)
        else:
            target = voice.recording_rate_hz * 2.0 ** ((play_note - voice.root_key) / 12.0)
        return hw.quantised_clock_hz(target, self.master_tune)

    def _tick_increment(self, voice: Voice, play_note: int, bend_semitones: float) -> int:
        clock = self.clock_hz(voice, play_note + bend_semitones)
        return int(round(self.rate_hz / clock * card.TIME_ONE))

    def _retune_channel(self, channel: int) -> None:
        bend = self._channels[channel].bend_semitones
        for c, info in self._cards_on(channel):
            if not info.drum:
                self._cards.set_tick_increment(c, self._tick_increment(info.voice, info.play_note, bend))

    def _set_mix(self, c: int, channel: int, jump: bool = False) -> None:
        ch = self._channels[channel]
        amp = (ch.volume / 127.0) ** 2 * (ch.expression / 127.0) ** 2 * self._master_gain
        # Constant-power pan; CC10 = 64 is the centre, 1 and 127 the ends.
        p = (max(ch.pan, 1) - 1) / 126.0
        left = amp * math.cos(0.5 * math.pi * p)
        right = amp * math.sin(0.5 * math.pi * p)
        self._cards.set_gains(c, left, right, amp, jump)

    def _update_mix(self, channel: int) -> None:
        for c, _ in self._cards_on(channel):
            self._set_mix(c, channel)

    def filter_setting(self, voice: Voice, play_note: int, channel: int) -> float:
        """The effective FILTER value for a note: Page 7 value, key tracking, CC74."""
        setting = float(voice.filter)
        if voice.filter >= hw.FILTER_MAX:
            return float(hw.FILTER_MAX)
        setting += voice.filter_key_tracking * (play_note - voice.root_key) * hw.FILTER_UNITS_PER_OCTAVE / 12
        setting += (self._channels[channel].brightness - 64) * BRIGHTNESS_FILTER_UNITS
        return setting

    def _set_filter(self, c: int, jump: bool = False) -> None:
        info = self._card_notes[c]
        setting = self.filter_setting(info.voice, info.play_note, info.channel)
        self._cards.set_filter(c, None if setting >= hw.FILTER_MAX else hw.filter_cutoff_hz(setting), jump)

    def _update_filters(self, channel: int) -> None:
        for c, _ in self._cards_on(channel):
            self._set_filter(c)
