"""Voice sets for tests: what the engine asks of synth.gm.VoiceSet, with one voice everywhere."""

from __future__ import annotations

from synth.instrument import Sound
from synth.voice import Voice


class OneVoice:
    """Every program and every drum key plays the same voice (drums at their own key)."""

    def __init__(self, voice: Voice) -> None:
        self.voice = voice

    def melodic(self, program: int, channel: int | None = None) -> Voice:
        return self.voice

    def drum(self, key: int):
        return self.voice, key


class OneMelodicSound:
    """Every program plays the same voice or instrument; drum keys play nothing."""

    def __init__(self, sound: Sound) -> None:
        self.sound = sound

    def melodic(self, program: int, channel: int | None = None) -> Sound:
        return self.sound

    def drum(self, key: int):
        return None
