"""Voice sets for tests: what the engine asks of synth.gm.VoiceSet, with one voice everywhere."""

from __future__ import annotations

from synth.voice import Voice


class OneVoice:
    """Every program and every drum key plays the same voice (drums at their own key)."""

    def __init__(self, voice: Voice) -> None:
        self.voice = voice

    def melodic(self, program: int, channel: int | None = None) -> Voice:
        return self.voice

    def drum(self, key: int):
        return self.voice, key
