"""The built-in demonstration piece: an original bell ground in D minor, generated as a MIDI file."""

from __future__ import annotations

import mido

from synth.midi import DRUM_CHANNEL

TITLE = "liquidsky demo"
TICKS_PER_BEAT = 480
BEATS_PER_BAR = 3
BAR_TICKS = TICKS_PER_BEAT * BEATS_PER_BAR
EIGHTH_TICKS = TICKS_PER_BEAT // 2
SIXTEENTH_TICKS = TICKS_PER_BEAT // 4
TEMPO_BPM = 100.0

# MIDI channels as mido numbers them (0-15); the comments give the 1-16 numbering players show.
BELLS_CHANNEL = 0  # channel 1
PAD_CHANNEL = 1  # channel 2
HARPSICHORD_CHANNEL = 2  # channel 3

# General MIDI programs, counted from 0 as they travel in a program_change message.
TUBULAR_BELLS = 14
CHOIR_AAHS = 52
HARPSICHORD = 6

# General MIDI percussion keys.
LOW_FLOOR_TOM = 41  # the nearest thing to a timpano in the standard kit
HIGH_FLOOR_TOM = 43

# (volume CC7, pan CC10) per channel: bells in the middle, choir a little left, harpsichord right.
MIX = {
    BELLS_CHANNEL: (100, 64),
    PAD_CHANNEL: (88, 50),
    HARPSICHORD_CHANNEL: (92, 82),
    DRUM_CHANNEL: (96, 60),
}

# The ground, one note a beat: D-F-E, and its Phrygian shadow D-F-Eb for the darkest stretch.
GROUND = (62, 65, 64)
GROUND_PHRYGIAN = (62, 65, 63)

# Pad chords (close voicings around D3) by name.
CHORDS = {
    "D5": (50, 57),  # bare fifth: the opening drone
    "Dm": (50, 53, 57),
    "Bb/D": (50, 53, 58),
    "Gm/D": (50, 55, 58),
    "A": (49, 52, 57),
    "A7": (49, 55, 57),
    "Eb": (51, 55, 58),
    "end": (50, 57, 62),  # hollow octave-and-fifth, no third
}

# Bars 0-17 (the last bar, 18, is the held ending). Each entry: pad chord, harpsichord bass, harpsichord line.
# The line is six eighths or twelve sixteenths; None means the harpsichord is silent.
BARS: list[tuple[str | None, int | None, tuple[int, ...] | None]] = [
    (None, None, None),
    (None, None, None),
    ("D5", None, None),
    ("D5", None, None),
    # first variation: broken chords rising, then falling from the top
    ("Dm", 38, (57, 62, 65, 69, 65, 62)),
    ("Bb/D", 34, (58, 62, 65, 70, 65, 62)),
    ("Gm/D", 31, (55, 58, 62, 67, 62, 58)),
    ("A", 33, (57, 61, 64, 69, 67, 64)),
    ("Dm", 38, (74, 69, 65, 62, 65, 69)),
    ("Bb/D", 34, (74, 70, 65, 62, 65, 70)),
    ("Gm/D", 31, (74, 70, 67, 62, 67, 70)),
    ("A7", 33, (73, 76, 79, 76, 73, 69)),
    # second variation, Phrygian: Eb against the D pedal, running sixteenths
    ("Dm", 38, (74, 72, 69, 65, 74, 72, 69, 65, 74, 75, 74, 69)),
    ("Eb", 39, (75, 70, 67, 63, 75, 70, 67, 63, 75, 77, 75, 70)),
    ("Dm", 38, (74, 69, 65, 62, 74, 69, 65, 62, 77, 75, 74, 69)),
    ("Eb", 38, (75, 70, 67, 63, 79, 75, 70, 67, 82, 79, 75, 70)),
    # the way home: a fall through G minor, a climb through A
    ("Gm/D", 31, (79, 74, 70, 67, 62, 58)),
    ("A7", 33, (57, 61, 64, 67, 69, 73)),
]
PHRYGIAN_BARS = range(12, 16)
FINAL_BAR = len(BARS)
# The last chord is held for a fermata of four beats, then everything is released and two beats of
# silence let the release tails ring out.
FERMATA_BEATS = 4
TAIL_BEATS = 2

_Event = tuple[int, int, int, mido.Message]  # (tick, 0 for note-off / 1 otherwise, order, message)


class _Track:
    """Absolute-tick event list for one track, turned into a mido.MidiTrack at the end."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.events: list[_Event] = []

    def add(self, tick: int, message: mido.Message) -> None:
        is_note_off = message.type == "note_off"
        self.events.append((tick, 0 if is_note_off else 1, len(self.events), message))

    def note(self, tick: int, n_ticks: int, channel: int, note: int, velocity: int) -> None:
        self.add(tick, mido.Message("note_on", channel=channel, note=note, velocity=velocity))
        self.add(tick + n_ticks, mido.Message("note_off", channel=channel, note=note, velocity=0))

    def to_midi(self, end_tick: int) -> mido.MidiTrack:
        # note-offs first at equal ticks, so a re-struck key is released before it sounds again
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=self.name, time=0)])
        now = 0
        for tick, _, _, message in sorted(self.events, key=lambda e: e[:3]):
            track.append(message.copy(time=tick - now))
            now = tick
        track.append(mido.MetaMessage("end_of_track", time=max(0, end_tick - now)))
        return track


def _channel_setup(track: _Track, channel: int, program: int | None) -> None:
    if program is not None:
        track.add(0, mido.Message("program_change", channel=channel, program=program))
    volume, pan = MIX[channel]
    track.add(0, mido.Message("control_change", channel=channel, control=7, value=volume))
    track.add(0, mido.Message("control_change", channel=channel, control=10, value=pan))


def _conductor(end_tick: int) -> mido.MidiTrack:
    track = _Track(TITLE)
    track.add(0, mido.MetaMessage("time_signature", numerator=BEATS_PER_BAR, denominator=4))
    track.add(0, mido.MetaMessage("key_signature", key="Dm"))
    track.add(0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(TEMPO_BPM)))
    # a ritardando over the last two beats before the ending, then the ending itself at 80 bpm
    last_bar = (FINAL_BAR - 1) * BAR_TICKS
    for beat, bpm in ((1, 91.0), (2, 84.0), (3, 80.0)):
        track.add(last_bar + beat * TICKS_PER_BEAT, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm)))
    return track.to_midi(end_tick)


def _bells(release_tick: int) -> _Track:
    track = _Track("bells")
    _channel_setup(track, BELLS_CHANNEL, TUBULAR_BELLS)
    accents = (100, 80, 88)  # the first stroke of each bar is the heaviest
    for bar in range(FINAL_BAR):
        ground = GROUND_PHRYGIAN if bar in PHRYGIAN_BARS else GROUND
        lift = 12 if bar in PHRYGIAN_BARS else 0
        for beat, (note, velocity) in enumerate(zip(ground, accents, strict=True)):
            start = bar * BAR_TICKS + beat * TICKS_PER_BEAT
            track.note(start, TICKS_PER_BEAT - 40, BELLS_CHANNEL, note, velocity + lift)
    final = FINAL_BAR * BAR_TICKS
    track.note(final, release_tick - final, BELLS_CHANNEL, GROUND[0], 110)
    return track


def _pad(release_tick: int) -> _Track:
    track = _Track("choir")
    _channel_setup(track, PAD_CHANNEL, CHOIR_AAHS)
    bar = 0
    while bar < FINAL_BAR:
        chord = BARS[bar][0]
        if chord is None:
            bar += 1
            continue
        n_bars = 1
        while bar + n_bars < FINAL_BAR and BARS[bar + n_bars][0] == chord and chord == "D5":
            n_bars += 1  # the opening drone is one long breath, not re-struck
        start = bar * BAR_TICKS
        # swell: quiet drone, fuller variations, loudest in the Phrygian bars
        expression = 72 if chord == "D5" else (116 if bar in PHRYGIAN_BARS else 92)
        track.add(start, mido.Message("control_change", channel=PAD_CHANNEL, control=11, value=expression))
        for note in CHORDS[chord]:
            track.note(start, n_bars * BAR_TICKS - 30, PAD_CHANNEL, note, 64)
        bar += n_bars
    final = FINAL_BAR * BAR_TICKS
    track.add(final, mido.Message("control_change", channel=PAD_CHANNEL, control=11, value=104))
    for note in CHORDS["end"]:
        track.note(final, release_tick - final, PAD_CHANNEL, note, 70)
    # fade through the fermata so the release starts from a soft chord
    for beat, value in enumerate((96, 84, 72), start=1):
        tick = final + beat * TICKS_PER_BEAT
        track.add(tick, mido.Message("control_change", channel=PAD_CHANNEL, control=11, value=value))
    return track


def _harpsichord(release_tick: int) -> _Track:
    track = _Track("harpsichord")
    _channel_setup(track, HARPSICHORD_CHANNEL, HARPSICHORD)
    for bar, (_, bass, line) in enumerate(BARS):
        if line is None:
            continue
        start = bar * BAR_TICKS
        if bass is not None:
            track.note(start, BAR_TICKS - 60, HARPSICHORD_CHANNEL, bass, 84)
        step = BAR_TICKS // len(line)
        for i, note in enumerate(line):
            # the first note of each beat leans a little
            velocity = 78 if (i * step) % TICKS_PER_BEAT == 0 else 66
            track.note(start + i * step, step - 20, HARPSICHORD_CHANNEL, note, velocity)
    final = FINAL_BAR * BAR_TICKS
    track.note(final, release_tick - final, HARPSICHORD_CHANNEL, 38, 90)
    track.note(final, release_tick - final, HARPSICHORD_CHANNEL, 74, 80)
    return track


def _timpani() -> _Track:
    track = _Track("timpani")
    _channel_setup(track, DRUM_CHANNEL, None)
    hit = SIXTEENTH_TICKS - 10
    # distant strokes on the downbeat, then an answer on the third beat, then a roll into the ending
    for bar, velocity in ((14, 56), (15, 68)):
        track.note(bar * BAR_TICKS, hit, DRUM_CHANNEL, LOW_FLOOR_TOM, velocity)
    bar = 16
    track.note(bar * BAR_TICKS, hit, DRUM_CHANNEL, LOW_FLOOR_TOM, 80)
    track.note(bar * BAR_TICKS + 2 * TICKS_PER_BEAT, hit, DRUM_CHANNEL, HIGH_FLOOR_TOM, 72)
    bar = 17
    track.note(bar * BAR_TICKS, hit, DRUM_CHANNEL, HIGH_FLOOR_TOM, 84)
    roll_start = bar * BAR_TICKS + 2 * TICKS_PER_BEAT
    for i in range(8):
        track.note(roll_start + i * (TICKS_PER_BEAT // 8), TICKS_PER_BEAT // 8 - 10, DRUM_CHANNEL,
                   LOW_FLOOR_TOM, 60 + 6 * i)
    track.note(FINAL_BAR * BAR_TICKS, hit, DRUM_CHANNEL, LOW_FLOOR_TOM, 118)
    return track


def demo_midi() -> mido.MidiFile:
    """Build the demonstration piece (about 37 s): the same bytes on every call.

    A D-F-E bell ground in 3/4 at quarter = 100; a choir drone that becomes chords; a harpsichord with
    broken-chord variations that turn Phrygian (Eb against D); timpani strokes toward a held hollow ending,
    then a release. Never more than seven keys down at once, within one eight-card CMI.
    """
    release_tick = FINAL_BAR * BAR_TICKS + FERMATA_BEATS * TICKS_PER_BEAT
    end_tick = release_tick + TAIL_BEATS * TICKS_PER_BEAT
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks.append(_conductor(end_tick))
    for part in (_bells(release_tick), _pad(release_tick), _harpsichord(release_tick), _timpani()):
        midi.tracks.append(part.to_midi(end_tick))
    return midi
