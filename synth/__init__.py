"""liquidsky's engine: the Fairlight CMI's channel cards, playing MIDI into audio.

The public API, for scripts and notebooks:

    import synth
    audio, rate_hz = synth.render("song.mid", rate_hz=44100, model="iix")   # float32 (n_frames, 2), 44100
    for block in synth.stream("song.mid", block_frames=4096):              # the same samples, in blocks
        ...
    synth.render_file("song.mid", "song.flac")                              # streamed to disk

    engine = synth.Engine(model="iix", rate_hz=48000)                        # play messages yourself
    engine.handle(mido.Message("note_on", note=62, velocity=100))
    block = engine.render(4800)                                              # a new array each call
    engine.render(4800, out=buffer)                                          # or into yours

Names are imported on first use, so that `import synth` (and the command line's --help) stays fast.
"""

from __future__ import annotations

from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {
    "Engine": "synth.engine",
    "Voice": "synth.voice",
    "VoiceError": "synth.voice",
    "single_cycle_voice": "synth.voice",
    "sampled_voice": "synth.voice",
    "Profile": "synth.hardware",
    "PROFILES": "synth.hardware",
    "read_midi": "synth.midifile",
    "timed_events": "synth.midifile",
    "MidiFileError": "synth.midifile",
    "default_voice_set": "synth.gm",
    "VoiceSet": "synth.gm",
    "render_to_array": "synth.offline",
    "render_to_file": "synth.offline",
    "render": "synth.app.api",
    "stream": "synth.app.api",
    "render_file": "synth.app.api",
    "Rendered": "synth.app.api",
    "RenderJob": "synth.app.jobs",
    "read_jobs_file": "synth.app.jobs",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'synth' has no attribute {name!r}")
