"""The Python face of rendering: any source a user holds, to an array with its rate, blocks, or a file.

    >>> import synth
    >>> audio, rate_hz = synth.render("demo", rate_hz=8000)
    >>> audio.dtype, audio.shape[1], rate_hz
    (dtype('float32'), 2, 8000)
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

import mido
import numpy as np

from scores.arrange import arrange_midi
from scores.styles import get_style
from synth.app.sources import cards_of, open_source, piece_voice_set
from synth.engine import Engine, check_rate_hz
from synth.midifile import pack_events, read_midi
from synth.offline import DEFAULT_BLOCK_FRAMES, render_events, render_to_file

if TYPE_CHECKING:
    import mido

    from synth.offline import RenderReport

# What `source` may be, for the messages that refuse anything else.
SOURCE_KINDS = ("a path, bytes, a mido.MidiFile, a pretty_midi.PrettyMIDI, a built-in piece's or a score's name, "
                "or a Page R song file")


class Rendered(NamedTuple):
    """A whole render: the audio, float32 (n_frames, 2) in [-1, 1), and its sample rate.

    Unpacks as soundfile.read's result does: `audio, rate_hz = synth.render(...)`.
    """

    audio: np.ndarray
    rate_hz: int


def open_midi(source: Any, style: str | None = None, *, seed: int = 0,
              tempo_scale: float = 1.0, voices: int | None = None) -> tuple[str, mido.MidiFile]:
    """(display name, mido.MidiFile) for any source `synth.render` takes, arranged in `style` if given (for
    a CMI of `voices` cards, 8 by default).

    Paths and names go through synth.app.sources.open_source (built-in pieces, scores, MIDI files,
    Page R songs); bytes are a MIDI file's contents; a pretty_midi.PrettyMIDI is written out
    and read back (pretty_midi is never imported here: an object of its is recognised by its type).

    >>> name, midi = open_midi("demo")
    >>> name, midi.type
    ('demo', 1)
    >>> open_midi(3.5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: source must be a path, bytes, a mido.MidiFile, ... not float
    """
    if isinstance(source, (str, os.PathLike)):
        return open_source(source, style, seed=seed, tempo_scale=tempo_scale, voices=voices)
    if isinstance(source, (bytes, bytearray, memoryview)):
        name, midi = "bytes", read_midi(bytes(source))
    elif _is_pretty_midi(source):
        buffer = io.BytesIO()
        source.write(buffer)
        name, midi = "PrettyMIDI", read_midi(buffer.getvalue())
    elif isinstance(source, mido.MidiFile):
        name, midi = os.path.basename(source.filename or "MidiFile"), read_midi(source)
    else:
        raise TypeError(f"source must be {SOURCE_KINDS}, not {type(source).__name__}")
    if style in (None, "plain") and tempo_scale == 1.0:
        return name, midi

    get_style(style or "plain")
    return f"{name} ({style or 'plain'})", arrange_midi(midi, style or "plain", seed=seed, tempo_scale=tempo_scale,
                                                          voices=voices)


def _is_pretty_midi(source: Any) -> bool:
    return any(cls.__module__.split(".")[0] == "pretty_midi" and cls.__name__ == "PrettyMIDI"
               for cls in type(source).__mro__)


def render(source: Any, *, rate_hz: int = 44100, model: str = "iix", n_voices: int | None = None,
           voices=None, style: str | None = None, seed: int = 0, tempo_scale: float = 1.0,
           block_frames: int = DEFAULT_BLOCK_FRAMES) -> Rendered:
    """Render a whole piece in memory; returns Rendered(audio, rate_hz), audio float32 (n_frames, 2).

    `source` is a path, bytes, a mido.MidiFile, a pretty_midi.PrettyMIDI, the name of a built-in
    piece or score, or a Page R song file. `voices` is a voice set (synth.catalog.voice_set;
    default the General MIDI set, with a song's register voices on their channels); `style`, `seed`
    and `tempo_scale` arrange the piece first, as the command line's --style does. For long pieces
    `stream` gives the same samples in blocks.

    >>> audio, rate_hz = render("demo", rate_hz=8000)
    >>> rate_hz, audio.dtype, round(len(audio) / rate_hz)
    (8000, dtype('float32'), 36)
    >>> render("demo", rate_hz=8000.5)
    Traceback (most recent call last):
    ...
    TypeError: rate_hz must be a whole number of Hz, not 8000.5
    """
    blocks = list(stream(source, rate_hz=rate_hz, model=model, n_voices=n_voices, voices=voices, style=style,
                         seed=seed, tempo_scale=tempo_scale, block_frames=block_frames))
    audio = np.concatenate(blocks) if blocks else np.zeros((0, 2), dtype=np.float32)
    return Rendered(audio, rate_hz)


def stream(source: Any, *, block_frames: int = DEFAULT_BLOCK_FRAMES, rate_hz: int = 44100, model: str = "iix",
           n_voices: int | None = None, voices=None, style: str | None = None, seed: int = 0,
           tempo_scale: float = 1.0) -> Iterator[np.ndarray]:
    """Render a piece block by block: yields float32 (n, 2) arrays of at most block_frames frames.

    The blocks joined are exactly `render(...)`'s audio, whatever block_frames. The piece's events
    are packed (13 bytes each) and its parsed file let go before the first block, so memory hardly
    grows with the piece's length, and not at all with the audio's. Each block is a new array.

    >>> blocks = list(stream("demo", rate_hz=8000, block_frames=1000))
    >>> max(len(b) for b in blocks), blocks[0].dtype
    (1000, dtype('float32'))
    >>> bool((np.concatenate(blocks) == render("demo", rate_hz=8000).audio).all())
    True
    """
    rate_hz = check_rate_hz(rate_hz)
    if isinstance(block_frames, bool) or not isinstance(block_frames, (int, np.integer)):
        raise TypeError(f"block_frames must be a whole number, not {type(block_frames).__name__}")
    if block_frames < 1:
        raise ValueError(f"block_frames must be at least 1, not {block_frames}")
    _, midi = open_midi(source, style, seed=seed, tempo_scale=tempo_scale,
                        voices=cards_of(model, n_voices))
    voices = _piece_voices(source, voices)
    events = pack_events(midi, rate_hz)  # 13 bytes an event; the parsed file is let go
    del midi
    engine = Engine(model=model, rate_hz=rate_hz, n_voices=n_voices, voices=voices)
    return (block.mix for block in render_events(events, engine, block_frames=int(block_frames),
                                                 end_frame=events.end_frame))


def render_file(source: Any, out_path: str | os.PathLike, *, rate_hz: int = 44100, model: str = "iix",
                n_voices: int | None = None, voices=None, style: str | None = None, seed: int = 0,
                tempo_scale: float = 1.0, **options) -> RenderReport:
    """Render to a WAV or FLAC file (by out_path's extension), streamed and written atomically.

    Returns the RenderReport (n_frames, duration_s, rate_hz, peak_dbfs, ...). `options` are
    synth.offline.render_to_file's: bits, normalize_dbfs, stems_dir, max_frames, ...

    >>> import tempfile, soundfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     report = render_file("demo", os.path.join(folder, "demo.flac"), rate_hz=8000)
    ...     soundfile.info(os.path.join(folder, "demo.flac")).frames == report.n_frames
    True
    """
    rate_hz = check_rate_hz(rate_hz)
    name, midi = open_midi(source, style, seed=seed, tempo_scale=tempo_scale,
                        voices=cards_of(model, n_voices))
    voices = _piece_voices(source, voices)
    return render_to_file(pack_events(midi, rate_hz), out_path, rate_hz=rate_hz, model=model, n_voices=n_voices,
                          voices=voices, name=name, **options)



def _piece_voices(source: Any, voices):
    """The caller's voice set, else the voices a Page R song's registers name for its channels."""
    if voices is not None or not isinstance(source, (str, os.PathLike)):
        return voices

    return piece_voice_set(source)
