"""Mutated MIDI files and one run of the reader and the renderer over them, for the fuzz test and benchmark.

`exercise(data)` reads the bytes, describes them, stamps their events and renders them (the first
RENDER_S seconds of a longer file) through the real engine. The only exceptions it lets out are the
documented ones, ALLOWED; anything else is a bug the fuzzers report.
"""

from __future__ import annotations

from pathlib import Path

from synth.engine import Engine
from synth.midifile import EventStream, MidiFileError, describe, pack_events, read_midi, timed_events
from synth.offline import RenderError, render_events

CORPUS_DIR = Path(__file__).resolve().parents[1] / "data" / "corpus"
RATE_HZ = 8000  # low, so that a render costs little; the engine's paths are the same at any rate
RENDER_S = 2.0
ALLOWED = (MidiFileError, RenderError)

# Mutation kinds, each (kind, position 0-1, value 0-255, length 0-255) in mutate().
KINDS = ("flip", "set", "insert", "delete", "duplicate", "truncate", "length")
# Bytes that mean something to a MIDI reader: status bytes, meta types, VLQ continuation.
INTERESTING = (0x00, 0x01, 0x2F, 0x51, 0x7F, 0x80, 0x81, 0x90, 0xB0, 0xC0, 0xE0, 0xF0, 0xF7, 0xF8, 0xFF)


def _vlq(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def _smf(fmt: int, division: bytes, *tracks: bytes) -> bytes:
    head = b"MThd" + (6).to_bytes(4, "big") + fmt.to_bytes(2, "big") + len(tracks).to_bytes(2, "big") + division
    return head + b"".join(b"MTrk" + len(t).to_bytes(4, "big") + t for t in tracks)


_END = b"\x00\xff\x2f\x00"


def tiny_fixtures() -> dict[str, bytes]:
    """Small files that between them use every kind of event and header the reader knows."""
    tpb = (96).to_bytes(2, "big")
    notes = b"\x00\x90\x3c\x64" + _vlq(48) + b"\x3c\x00" + b"\x00\x40\x50" + _vlq(96) + b"\x80\x40\x00"
    controls = (b"\x00\xc1\x13\x00\xb1\x07\x64\x00\xb1\x0a\x20\x00\xb1\x40\x7f\x00\x91\x45\x70"
                b"\x10\xe1\x00\x50\x10\xb1\x40\x00\x00\xa1\x45\x10\x00\xd1\x30\x20\x81\x45\x00")
    meta_sysex = (b"\x00\xff\x51\x03\x07\xa1\x20\x00\xff\x58\x04\x04\x02\x18\x08\x00\xff\x03\x04name"
                  b"\x00\xf0\x05\x7e\x7f\x09\x01\xf7\x00\xf7\x01\xf8\x00\xff\x60\x02\x01\x02")
    rmid_body = _smf(0, tpb, notes + _END)
    rmid = (b"RIFF" + (4 + 8 + len(rmid_body)).to_bytes(4, "little") + b"RMID" + b"data"
            + len(rmid_body).to_bytes(4, "little") + rmid_body)
    return {
        "type0": _smf(0, tpb, meta_sysex + notes + _END),
        "type1": _smf(1, tpb, meta_sysex + _END, notes + _END, controls + _END),
        "type2": _smf(2, tpb, meta_sysex + notes + _END, b"\x00\xff\x51\x03\x03\x0d\x40" + controls + _END),
        "smpte": _smf(0, bytes([0xE7, 40]), notes + _END),
        "drums": _smf(0, tpb, b"\x00\x99\x24\x64\x30\x26\x64\x30\x89\x24\x00\x00\x26\x00" + _END),
        "meta_only": _smf(1, tpb, b"\x00\xff\x03\x01x" + _vlq(9600) + b"\xff\x2f\x00", _END),
        "rmid": rmid,
    }


def seeds() -> dict[str, bytes]:
    """The corpus files and the tiny fixtures, by name."""
    found = {path.stem: path.read_bytes() for path in sorted(CORPUS_DIR.glob("*.mid"))}
    return {**found, **tiny_fixtures()}


def mutate(data: bytes, mutations: list[tuple[str, float, int, int]]) -> bytes:
    """The bytes with each mutation applied in turn: (kind, position as a fraction, a byte value, a length)."""
    b = bytearray(data)
    for kind, where, value, length in mutations:
        pos = min(int(where * len(b)), max(len(b) - 1, 0))
        if kind == "flip" and b:
            b[pos] ^= 1 << (value % 8)
        elif kind == "set" and b:
            b[pos] = INTERESTING[value % len(INTERESTING)] if length % 2 else value
        elif kind == "insert":
            b[pos:pos] = bytes([value]) * (length % 16 + 1)
        elif kind == "delete":
            del b[pos:pos + length % 64 + 1]
        elif kind == "duplicate":
            b[pos:pos] = b[pos:pos + length + 1]
        elif kind == "truncate":
            del b[pos:]
        elif kind == "length" and len(b) >= pos + 4:
            # A 32-bit big-endian field (a chunk length, often) set to something near or far.
            old = int.from_bytes(b[pos:pos + 4], "big")
            new = (old + value - 128) if length % 2 else (value << (length % 25))
            b[pos:pos + 4] = (new & 0xFFFFFFFF).to_bytes(4, "big")
    return bytes(b)


def exercise(data: bytes, voices=None) -> int:
    """Read, describe and render the bytes; returns the frames rendered. Raises only ALLOWED errors.

    On the way it checks that the streamed, listed and packed forms of the events agree (an
    AssertionError, which the fuzzers report, if not).
    """
    midi = read_midi(data, name="fuzzed.mid")
    describe(midi, 8)
    stream = EventStream(midi, RATE_HZ)
    listed = [(e.frame, e.track, e.message) for e in timed_events(midi, RATE_HZ)]
    assert [(e.frame, e.track, e.message) for e in stream] == listed
    events = pack_events(midi, RATE_HZ)  # what the command line renders
    assert [(e.frame, e.track, e.message) for e in events] == listed
    assert (events.last_frame, events.end_frame) == (stream.last_frame, stream.end_frame)
    max_frames = int(RENDER_S * RATE_HZ)
    try:
        blocks = list(render_events(events, Engine(rate_hz=RATE_HZ, voices=voices), max_frames=max_frames,
                                    end_frame=events.end_frame))
    except RenderError:
        # Refused as too long: render its first RENDER_S seconds instead, so that the engine meets
        # what the file holds.
        events = [e for e in events if e.frame <= max_frames]
        blocks = list(render_events(events, Engine(rate_hz=RATE_HZ, voices=voices), end_frame=max_frames))
    return sum(len(b.mix) for b in blocks)

