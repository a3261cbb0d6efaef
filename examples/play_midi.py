"""Play a MIDI file through the engine block by block, as a program embedding liquidsky would.

    python examples/play_midi.py song.mid                   # to the sound card (needs liquidsky[live])
    python examples/play_midi.py sonnerie --style march     # a score of Liquid Sky, in a style
    python examples/play_midi.py song.mid --wav out.wav     # the same blocks into a file, no sound card

The loop is the whole of real-time playback: split each block at the events that fall inside it, hand
each event to Engine.handle at its frame, and let Engine.render fill the rest. `liquidsky play` does the
same with a render thread ahead of the audio callback; this example keeps it plain.
"""

from __future__ import annotations

import argparse

import numpy as np

from synth.engine import Engine
from synth.midifile import timed_events
from synth.app.sources import open_source

BLOCK_FRAMES = 256  # 5.3 ms at 48 kHz
TAIL_S = 3.0  # how long to let the last notes ring after the last event, at most


def blocks(midi, rate_hz: int, model: str):
    """Yield float32 (BLOCK_FRAMES, 2) blocks of the song, each event handled at its own frame."""
    engine = Engine(model=model, rate_hz=rate_hz)
    events = timed_events(midi, rate_hz)
    now = i = 0
    while i < len(events) or (not engine.is_silent and now < events[-1].frame + TAIL_S * rate_hz):
        block = np.zeros((BLOCK_FRAMES, 2), dtype=np.float32)
        done = 0
        while done < BLOCK_FRAMES:
            # render up to the next event inside this block, then handle every event at that frame
            next_frame = events[i].frame if i < len(events) else now + BLOCK_FRAMES
            n = min(BLOCK_FRAMES - done, max(0, next_frame - now))
            if n:
                engine.render(n, out=block[done:done + n])  # into the block, no array of its own
                done += n
                now += n
            while i < len(events) and events[i].frame <= now:
                engine.handle(events[i].message, events[i].track)
                i += 1
        yield block


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="a .mid file, 'demo', or a score's name")
    parser.add_argument("--style", default=None, help="arrange it first: ominous, dissonant, march, ...")
    parser.add_argument("--model", default="iix")
    parser.add_argument("--wav", help="write the blocks to this file instead of playing them")
    args = parser.parse_args(argv)

    name, midi = open_source(args.source, args.style)
    if args.wav:
        import soundfile as sf

        with sf.SoundFile(args.wav, "w", samplerate=44100, channels=2) as f:
            for block in blocks(midi, 44100, args.model):
                f.write(block)
        print(f"{args.wav}: {name}")
        return 0
    try:
        import sounddevice as sd
    except (ImportError, OSError) as e:
        raise SystemExit(f"playing needs PortAudio and sounddevice (pip install 'liquidsky[live]'): {e}") from None
    rate_hz = int(sd.query_devices(kind="output")["default_samplerate"])
    print(f"playing {name} at {rate_hz} Hz; Ctrl-C stops")
    with sd.OutputStream(samplerate=rate_hz, channels=2, dtype="float32", blocksize=BLOCK_FRAMES) as stream:
        try:
            for block in blocks(midi, rate_hz, args.model):
                stream.write(block)  # blocks while the device's buffer is full: the loop keeps real time
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
