"""What the studio is editing: the current voice, its harmonic profile, the registers, the song, the sound.

Every edit goes through the functions the command line uses (synth.library.page4, page7, paged,
page8, user, catalog); this module only keeps the results between requests. One lock guards it:
requests come from the server's threads, the sound from its render thread.
"""

from __future__ import annotations

import collections
import threading
from dataclasses import dataclass

import mido
import numpy as np

from synth import hardware as hw
from synth.app.limits import RATE_MAX_HZ, RATE_MIN_HZ
from synth.app.studio.audio import CardOutput, StudioFeed, open_card
from synth.app.studio.security import check_name
from synth.engine import Engine
from synth import catalog
from synth.library import page4, page7, paged, user
from synth.nphony import PolyphonyLimit
from synth.voice import Voice

N_REGISTERS = 8  # Page 3's registers A-H (docs/hardware.md, Polyphony); register k plays MIDI channel k (0-based)
REGISTER_LETTERS = "ABCDEFGH"
KEYBOARD_CHANNEL = 15  # the page's keyboard plays the voice being edited on MIDI channel 16
DEFAULT_VOICE_NAME = "untitled"
UNDO_STEPS = 50  # voice changes kept for UNDO (a choice: 50 voices of 16 KiB)


class StudioError(ValueError):
    """A request the studio cannot carry out: one line, sent back as the JSON error."""


def sine_profile() -> np.ndarray:
    """32 segments of harmonic 1 alone: Page 4's empty page (a sine)."""
    profile = np.zeros((page4.N_SEGMENTS, page4.N_HARMONICS))
    profile[:, 0] = 1.0
    return profile


def profile_of(voice: Voice) -> np.ndarray:
    """The harmonic profile a voice was computed from, else its first 32 segments' harmonics (peak 1)."""
    stored = voice.meta.get("profile")
    if stored is not None and np.shape(stored) == (page4.N_SEGMENTS, page4.N_HARMONICS):
        return np.array(stored, dtype=np.float64)
    cycles = voice.segments()[: page4.N_SEGMENTS].astype(np.float64)
    amps = page4.cycle_harmonics(cycles)[:, : page4.N_HARMONICS]
    peak = amps.max()
    return amps / peak if peak > 0 else sine_profile()


@dataclass
class Register:
    """One of Page 3's registers: the voice it plays and how many cards it may take (NPHONY)."""

    voice: str = "piano"
    polyphony: int = 1


class StudioVoices:
    """The engine's voice set in the studio: the keyboard channel plays the voice being edited, each
    register's channel its register's voice, the rest General MIDI (synth.catalog's set)."""

    def __init__(self, session: StudioSession) -> None:
        self.session = session
        self.base = catalog.voice_set()

    def __getattr__(self, name):  # names, voice, program_map, drum_map, drum: the base set's
        return getattr(self.base, name)

    def melodic(self, program: int, channel: int | None = None) -> Voice:
        if channel == KEYBOARD_CHANNEL:
            return self.session.voice
        song_voice = self.session.song_voices.get(channel)
        if song_voice is not None:
            return song_voice
        if channel is not None and channel < N_REGISTERS:
            return self.session.register_voice(channel)
        return self.base.melodic(program)


class StudioSession:
    """The studio's state between requests."""

    def __init__(self, model: str = hw.DEFAULT_PROFILE) -> None:
        self.model = model
        self.lock = threading.RLock()
        self.profile = sine_profile()
        self.volume = np.ones(page4.N_SEGMENTS)  # Page 4's volume profile, one level a segment
        self.voice: Voice = page4.profile_voice(DEFAULT_VOICE_NAME, self.profile, filter=hw.FILTER_MAX,
                                                loop_start_segment=0, loop_end_segment=page4.N_SEGMENTS - 1)
        self.history: collections.deque = collections.deque(maxlen=UNDO_STEPS)
        self.registers = [Register() for _ in range(N_REGISTERS)]
        self._register_voices: dict[str, Voice] = {}
        self.song = None
        self.song_voices: dict[int, Voice] = {}  # the voices the playing song's registers name
        self.feed: StudioFeed | None = None
        self.output = "browser"
        self.card = None
        self.stream_id = 0  # the page's WebSocket stream that plays (the newest)

    # --- voices -------------------------------------------------------------------------------

    def set_voice(self, voice: Voice) -> Voice:
        with self.lock:
            self.history.append((self.voice, self.profile, self.volume))
            self.voice = voice
            return voice

    def undo(self) -> Voice:
        """Back to the voice before the last change (the studio's addition to the pages)."""
        with self.lock:
            if not self.history:
                raise StudioError("nothing to undo")
            self.voice, self.profile, self.volume = self.history.pop()
            return self.voice

    def compute_profile(self, profile, volume=None) -> Voice:
        """Page 4's COMPUTE: the drawn profile (32 segments x 32 harmonics, 0..1) and volume profile
        (32 levels 0..1, default all 1) into the voice's Mode 1 segments, keeping its Page 7
        parameters (a Mode 4 voice becomes Mode 1)."""
        a = np.asarray(profile, dtype=np.float64)
        if a.shape != (page4.N_SEGMENTS, page4.N_HARMONICS):
            raise StudioError(f"a Page 4 profile is {page4.N_SEGMENTS} segments x {page4.N_HARMONICS} harmonics, "
                              f"not {'x'.join(map(str, a.shape))}")
        if not np.all(np.isfinite(a)) or a.min() < 0 or a.max() > 1:
            raise StudioError("harmonic amplitudes must be 0..1")
        with self.lock:
            params = page7.parameters(self.voice)
            params["mode"] = 1
            for name in ("start_segment", "loop_start_segment", "loop_end_segment"):
                if params[name] is not None and params[name] >= page4.N_SEGMENTS:
                    params[name] = page4.N_SEGMENTS - 1 if name != "start_segment" else 0
            if (params["loop_start_segment"] is None) != (params["loop_end_segment"] is None):
                params["loop_start_segment"] = params["loop_end_segment"] = None
            levels = np.ones(page4.N_SEGMENTS) if volume is None else volume
            voice = page4.profile_voice(self.voice.name, page4.apply_volume_profile(a, levels), **params)
            self.set_voice(voice)
            self.profile = a.copy()
            self.volume = np.asarray(levels, dtype=np.float64).copy()
            return voice

    def set_parameters(self, changes: dict) -> Voice:
        with self.lock:
            return self.set_voice(page7.set_parameters(self.voice, changes))

    def set_segment(self, segment: int, levels) -> Voice:
        with self.lock:
            return self.set_voice(paged.with_segment(self.voice, segment, levels))

    def segment_macro(self, macro: str, first: int, last: int, gain: float = 1.0) -> Voice:
        """Page D's GAIN or MERGE over segments first..last (0-based)."""
        with self.lock:
            if macro == "gain":
                return self.set_voice(paged.gain_segments(self.voice, first, last, gain))
            if macro == "merge":
                return self.set_voice(paged.merge_segments(self.voice, first, last))
        raise StudioError(f"unknown macro {macro!r} (gain or merge)")

    def load_voice(self, name: str) -> Voice:
        """A factory or user voice by name (never a path) becomes the voice being edited."""
        check_name(name, "voice")
        if name not in catalog.voice_names():
            raise StudioError(f"unknown voice {name!r}")
        with self.lock:
            try:
                voice = catalog.find_single_voice(name, "the pages")
            except catalog.CatalogError as e:
                raise StudioError(str(e)) from None
            self.set_voice(voice)
            self.profile = profile_of(voice)
            self.volume = np.ones(page4.N_SEGMENTS)
            return voice

    def save_voice(self, name: str, replace: bool = False):
        """Save the voice being edited in the user's voice folder under `name` (factory names are taken)."""
        check_name(name, "voice")
        if name in catalog.factory_voices():
            raise StudioError(f"{name!r} is a factory voice's name; choose another")
        with self.lock:
            voice = self.voice.with_params(name=name)
            path = user.save_user_voice(voice, replace=replace)
            self.voice = voice
            self._register_voices.pop(name, None)
        return path

    def delete_voice(self, name: str) -> None:
        check_name(name, "voice")
        path = user.user_voice_path(name)
        if not path.is_file():
            raise StudioError(f"no user voice {name!r}")
        path.unlink()
        self._register_voices.pop(name, None)

    # --- registers (Page 3) ---------------------------------------------------------------------

    def register_voice(self, index: int) -> Voice:
        name = self.registers[index].voice
        found = self._register_voices.get(name)
        if found is None:
            found = catalog.find_voice(name) if name in catalog.voice_names() else catalog.find_voice("piano")
            self._register_voices[name] = found
        return found

    def set_song_voices(self, names: dict[int, str]) -> None:
        """The voices a song's registers name, by channel (a register without one plays Page 3's)."""
        voices = {}
        for channel, name in names.items():
            if name not in catalog.voice_names():
                raise StudioError(f"the song's register on channel {channel + 1} names an unknown voice {name!r}")
            voices[channel] = catalog.find_voice(name)
        self.song_voices = voices

    def n_cards(self) -> int:
        return hw.get_profile(self.model).n_voices

    def set_registers(self, registers: list[dict]) -> list[Register]:
        """Page 3: a voice and a polyphony per register; the polyphonies may not add up past the cards."""
        if not isinstance(registers, list) or len(registers) != N_REGISTERS:
            raise StudioError(f"Page 3 has {N_REGISTERS} registers")
        new = []
        for letter, r in zip(REGISTER_LETTERS, registers, strict=True):
            if not isinstance(r, dict):
                raise StudioError(f"register {letter}: not an object")
            name = check_name(r.get("voice"), f"register {letter} voice")
            if name not in catalog.voice_names():
                raise StudioError(f"register {letter}: unknown voice {name!r}")
            poly = r.get("polyphony", 1)
            if isinstance(poly, bool) or not isinstance(poly, int) or not 0 <= poly <= self.n_cards():
                raise StudioError(f"register {letter}: polyphony must be 0..{self.n_cards()}")
            new.append(Register(name, poly))
        total = sum(r.polyphony for r in new)
        if total > self.n_cards():
            raise StudioError(f"the registers ask for {total} voices; the {self.model} has {self.n_cards()} cards")
        with self.lock:
            self.registers = new
            if self.feed is not None:
                self.feed.limit = self.polyphony_limit()
        return new

    def polyphony_limit(self):
        """Page 3's NPHONY for the registers' channels (synth.nphony); the keyboard's channel is free."""
        return PolyphonyLimit({i: r.polyphony for i, r in enumerate(self.registers)})

    # --- sound ------------------------------------------------------------------------------------

    def make_engine(self, rate_hz: int):
        return Engine(model=self.model, rate_hz=rate_hz, voices=StudioVoices(self))

    def browser_feed(self, rate_hz: int) -> StudioFeed:
        """The feed for the page's stream at the page's rate (a new one when the rate changes)."""
        if not RATE_MIN_HZ <= rate_hz <= RATE_MAX_HZ:
            raise StudioError(f"sample rate {rate_hz} Hz is outside {RATE_MIN_HZ}..{RATE_MAX_HZ}")
        with self.lock:
            if self.card is not None:
                self.card.stop()
                self.card = None
            if self.feed is None or self.feed.rate_hz != rate_hz or self.output != "browser":
                self.feed = StudioFeed(self.make_engine(rate_hz))
                self.feed.limit = self.polyphony_limit()
            self.output = "browser"
            return self.feed

    def use_card(self, device: str | None = None) -> str:
        """Play on the sound card through synth.live (as `liquidsky play`); returns the device's name."""
        sd, dev, rate_hz = open_card("studio", device)
        with self.lock:
            if self.card is not None:
                self.card.stop()
            self.feed = StudioFeed(self.make_engine(rate_hz))
            self.feed.limit = self.polyphony_limit()
            self.card = CardOutput(self.feed, sd, dev)
            self.output = "card"
        return dev.name

    def close(self) -> None:
        with self.lock:
            if self.card is not None:
                self.card.stop()
                self.card = None
            if self.feed is not None:
                self.feed.finish()

    def send(self, message) -> None:
        """A message from the page's keyboard, to the sound at the start of its next block."""
        feed = self.feed
        if feed is not None:
            feed.inbox.put(message)

    def render_preview(self, note: int = 60, seconds: float = 1.0, rate_hz: int = 48000) -> np.ndarray:
        """The voice being edited playing one note for `seconds`, offline (float32 (n, 2))."""
        engine = self.make_engine(rate_hz)
        engine.handle(mido.Message("note_on", channel=KEYBOARD_CHANNEL, note=note, velocity=100))
        return engine.render(int(seconds * rate_hz)).copy()
