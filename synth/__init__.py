"""liquidsky's engine: the Fairlight CMI's channel cards, playing MIDI into audio.

The public API, for scripts and notebooks:

    import synth
    audio = synth.render("song.mid", rate_hz=44100, model="iix")   # float32 (n_frames, 2)
    synth.render_file("song.mid", "song.flac")                       # streamed to disk

    engine = synth.Engine(model="iix", rate_hz=48000)                 # play messages yourself
    engine.handle(mido.Message("note_on", note=62, velocity=100))
    block = engine.render(4800)

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
}

__all__ = sorted([*_EXPORTS, "render", "render_file", "__version__"])


def render(source, rate_hz: int = 44100, model: str = "iix", n_voices: int | None = None, **options):
    """Render a MIDI file (path, bytes or mido.MidiFile), a Page R song (.toml) or a built-in piece to float32
    (n_frames, 2)."""
    from synth.offline import render_to_array

    return render_to_array(_midi(source), rate_hz=rate_hz, model=model, n_voices=n_voices,
                           **_song_voices(source, options))


def render_file(source, out_path, rate_hz: int = 44100, model: str = "iix", n_voices: int | None = None,
                **options):
    """Render to a WAV or FLAC file, streamed in bounded memory; returns the render's report."""
    from synth.offline import render_to_file

    return render_to_file(_midi(source), out_path, rate_hz=rate_hz, model=model, n_voices=n_voices,
                          **_song_voices(source, options))


def _song_voices(source, options: dict) -> dict:
    """The options with a Page R song's register voices, unless `voices` chooses the voice set."""
    import os

    from synth.sources import piece_voice_set

    if options.get("voices") is None and isinstance(source, (str, os.PathLike)):
        options = {**options, "voices": piece_voice_set(source)}
    return options


def _midi(source):
    import os

    from synth.midifile import read_midi
    from synth.sources import open_source

    if isinstance(source, (bytes, bytearray)) or hasattr(source, "tracks"):
        return read_midi(source)
    if isinstance(source, (str, os.PathLike)) and (not os.path.exists(source)
                                                   or os.fspath(source).lower().endswith(".toml")):
        return open_source(source)[1]
    return read_midi(source)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'synth' has no attribute {name!r}")
