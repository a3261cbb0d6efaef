"""The seams between the engine's parts, as types: what a voice set, a renderer and a live feed
offer to the code that drives them. The engine, the offline loop and live play take any object with
these members (the tests give them small fakes); none of them probes for attributes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, Union

if TYPE_CHECKING:
    import mido
    import numpy as np

    from synth.instrument import Instrument
    from synth.voice import Voice

#: What a melodic channel plays: one voice, or an instrument of key splits (each key on one voice).
Sound = Union["Voice", "Instrument"]


class VoiceSource(Protocol):
    """What each MIDI program and drum key plays (synth.gm.VoiceSet, synth.catalog's
    ChannelVoiceSet, the studio's voices)."""

    def melodic(self, program: int, channel: int | None = None) -> Sound:
        """The sound of a program (0-127) on a melodic channel (0-15; None: by program alone)."""
        ...

    def drum(self, key: int) -> tuple[Voice, int] | None:
        """(voice, note it plays at) for a drum key, or None for a key that stays silent."""
        ...


class Renderer(Protocol):
    """What turns MIDI messages into audio (synth.engine.Engine); the offline loop and live play drive it."""

    rate_hz: int
    n_cards: int
    latency_frames: int  # how far the output runs behind the messages handled
    notes_stolen: int

    @property
    def stems(self) -> np.ndarray | None:
        """Each card's output of the last render, (n_frames, n_cards), when stems were asked for."""
        ...

    def is_silent(self) -> bool:
        """No card sounds and nothing is left in the output's latency."""
        ...

    def n_sounding(self) -> int:
        """Cards now sounding."""
        ...

    def handle(self, message: mido.Message, track: int = 0) -> None:
        """Apply one message at the current frame."""
        ...

    def render(self, n_frames: int, out: np.ndarray | None = None) -> np.ndarray:
        """The next n_frames of stereo output, into `out` when given."""
        ...


class Feed(Protocol):
    """What the live player's render thread fills the ring from (synth.live's FileFeed and LiveFeed,
    the studio's feed): blocks of a renderer's output, with the messages placed on their frames."""

    engine: Renderer
    expected_frames: int  # frames the feed means to give (0 when it does not know)
    n_late: int  # messages that came too late for their frame and sounded at a block's start

    def fill(self, out: np.ndarray) -> int:
        """Render into out; the number of frames given (fewer only at the end)."""
        ...

    def follow_card_clock(self, clock, delay_frames: int) -> None:
        """The audio callback's clock, for a feed that places live input on the frame it arrived at
        (`delay_frames` later, a constant latency); a feed of timed events has no use for it."""
        ...
