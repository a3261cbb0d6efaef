"""Three small MIDI files made from code, free of any rights, for measuring the styles on foreign files.

None is one of the scores, and none is written the way `scores.score.to_midi` writes: they are made as
other sequencers make files, so that a style meets what it meets in the wild.

- `chorale_midi()`: a four-part chorale in G major (24 bars of 4/4 in three periods of eight: p in half
  notes, f in quarters, mp in halves again), one track a voice, soprano and alto sharing channel 1 and tenor and bass
  channel 2 (with unisons between the voices that share a channel), a drum track on channel 10 (a bass drum
  and hi-hat strokes of no length, as many files write them), the sustain pedal (CC64) on the lower voices,
  bank select, modulation, expression and reverb controllers, and a pitch bend in the middle of a note.
- `piano_midi()`: a pedalled piano piece in A minor on one track and channel (24 bars of 3/4: an arpeggiated
  opening, a quiet middle in long chords, a loud climax in octaves and a close), the pedal down and up in
  every bar and an expression swell over the climax.
- `quartet_midi()`: a dense texture in C minor in the manner of a classical string quartet with a piano (16
  bars of 4/4, two chords a bar): a first violin's line, the second violin and viola in repeated eighths
  (double stops in the loud middle), the cello's bass, and a piano track of broken-chord eighths over
  the bass in octaves, the pedal changed with every chord. Up to eleven notes sound at once, so that an
  eight-voice CMI must steal (or an arrangement make room).

The harmony of all three is a plain progression voiced by nearest motion (`_voice`); nothing is random, so the
files are the same every time.
"""

from __future__ import annotations

import mido

from scores.theory import chord

TICKS_PER_BEAT = 480
Q = TICKS_PER_BEAT

# The chorale's harmony, a chord a half note (two to a bar): twelve bars, played twice.
_CHORALE_PERIOD = ("G", "C", "G/B", "D", "Em", "C", "D", "G", "G", "Am", "D/F#", "G", "C", "Am", "D", "D",
                   "Em", "Bm", "C", "G/B", "Am", "D", "G", "G")
_CHORALE_RANGES = {"soprano": (64, 79), "alto": (57, 72), "tenor": (48, 67), "bass": (40, 60)}


def _voice(symbols: list[str], ranges: dict[str, tuple[int, int]], start: dict[str, int]) -> list[dict[str, int]]:
    """Each chord voiced by nearest motion: every voice takes the chord tone nearest its last pitch in its
    range, a tone the voices above do not hold yet unless that is a leap of more than five semitones
    further; the lowest voice takes the chord's bass."""
    last = dict(start)
    out = []
    names = list(ranges)
    for symbol in symbols:
        c = chord(symbol)
        now = {}
        for name in names:
            low, high = ranges[name]
            wanted = {c.bass_pc} if name == names[-1] else set(c.pcs)
            candidates = [p for p in range(low, high + 1) if p % 12 in wanted]
            used = {q % 12 for q in now.values()}  # a tone no voice above holds yet, if one is near enough
            now[name] = min(candidates, key=lambda p, n=name: (abs(p - last[n]) + 5 * (p % 12 in used), p))
        out.append(now)
        last = now
    return out


def _track(name: str, events: list[tuple[int, int, mido.BaseMessage]]) -> mido.MidiTrack:
    """A track from (tick, order, message), note-offs before note-ons at one tick (order), ended after all."""
    track = mido.MidiTrack([mido.MetaMessage("track_name", name=name, time=0)])
    now = 0
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


def chorale_midi() -> mido.MidiFile:
    """The four-part chorale with drums, pedal and controllers (see the module's docstring)."""
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks.append(_track("chorale", [
        (0, 0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(76))),
        (0, 0, mido.MetaMessage("time_signature", numerator=4, denominator=4)),
        (0, 0, mido.MetaMessage("key_signature", key="G")),
    ]))
    symbols = list(_CHORALE_PERIOD) * 2
    voiced = _voice(symbols, _CHORALE_RANGES, {"soprano": 71, "alto": 67, "tenor": 59, "bass": 43})
    channels = {"soprano": 0, "alto": 0, "tenor": 1, "bass": 1}
    per_voice: dict[str, list] = {name: [] for name in _CHORALE_RANGES}
    for name, ch in channels.items():
        if name in ("soprano", "tenor"):
            per_voice[name] += [(0, 1, mido.Message("program_change", channel=ch, program=52 if ch == 0 else 48)),
                                (0, 1, mido.Message("control_change", channel=ch, control=0, value=0)),
                                (0, 1, mido.Message("control_change", channel=ch, control=7, value=100)),
                                (0, 1, mido.Message("control_change", channel=ch, control=91, value=40))]
    bar = 4 * Q
    for i, chords in enumerate(voiced):  # i counts half notes: 24 bars of two
        bar_number = i // 2
        period = bar_number // 8  # 0: p in halves, 1: f in quarters, 2: mp in halves
        velocity = (54, 96, 70)[period]
        start = i * 2 * Q
        for name, pitch in chords.items():
            ch = channels[name]
            if period == 1:  # quarters: the chord tone, then a passing step toward the next chord's tone
                nxt = voiced[i + 1][name] if i + 1 < len(voiced) else pitch
                step = 0 if nxt == pitch else (1 if nxt > pitch else -1) * (2 if abs(nxt - pitch) > 2 else 1)
                second = pitch + step if name != "bass" else pitch - 12 if pitch - 12 >= 36 else pitch
                notes = [(start, Q, pitch), (start + Q, Q, second)]
            else:
                notes = [(start, 2 * Q, pitch)]
            for t, length, p in notes:
                per_voice[name].append((t, 3, mido.Message("note_on", channel=ch, note=p, velocity=velocity)))
                per_voice[name].append((t + length, 2, mido.Message("note_off", channel=ch, note=p, velocity=0)))
    for b in range(0, 24, 4):  # the pedal on the lower voices: down a little after each phrase's start
        per_voice["tenor"].append((b * bar + Q // 4, 1, mido.Message("control_change", channel=1, control=64,
                                                                      value=127)))
        per_voice["tenor"].append(((b + 4) * bar - Q // 8, 1, mido.Message("control_change", channel=1,
                                                                            control=64, value=0)))
    for b in range(24):  # modulation and expression on the upper voices, bar by bar
        per_voice["soprano"].append((b * bar, 1, mido.Message("control_change", channel=0, control=1,
                                                               value=(b * 9) % 64)))
        per_voice["soprano"].append((b * bar + 2 * Q, 1, mido.Message("control_change", channel=0, control=11,
                                                                       value=90 + (b % 4) * 10)))
    per_voice["alto"].append((10 * bar + Q, 1, mido.Message("pitchwheel", channel=0, pitch=1200)))
    per_voice["alto"].append((10 * bar + 2 * Q, 1, mido.Message("pitchwheel", channel=0, pitch=0)))
    for name in _CHORALE_RANGES:
        midi.tracks.append(_track(name, per_voice[name]))
    drums = [(0, 1, mido.Message("control_change", channel=9, control=7, value=110))]
    for b in range(24):
        t = b * bar
        drums.append((t, 3, mido.Message("note_on", channel=9, note=36, velocity=70)))
        drums.append((t + Q // 2, 2, mido.Message("note_off", channel=9, note=36, velocity=0)))
        for beat in (1, 2, 3):  # hi-hat strokes of no length: note-off at the note-on's tick
            drums.append((t + beat * Q, 3, mido.Message("note_on", channel=9, note=42, velocity=50)))
            drums.append((t + beat * Q, 4, mido.Message("note_off", channel=9, note=42, velocity=0)))
    midi.tracks.append(_track("drums", drums))
    return midi


# The piano piece's harmony, a chord a bar, by section: opening, quiet middle, climax, close.
_PIANO_CHORDS = ("Am", "Dm/F", "E/G#", "Am", "F", "Dm", "E", "E7",
                 "Am", "F", "C", "G", "Dm", "Am", "E", "E",
                 "F", "Dm", "E7", "Am", "Dm", "E", "Am", "Am")


def piano_midi() -> mido.MidiFile:
    """The pedalled piano piece (see the module's docstring)."""
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    events: list[tuple[int, int, mido.BaseMessage]] = [
        (0, 0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(84))),
        (0, 0, mido.MetaMessage("time_signature", numerator=3, denominator=4)),
        (0, 1, mido.Message("program_change", channel=0, program=0)),
        (0, 1, mido.Message("control_change", channel=0, control=7, value=110)),
    ]
    ranges = {"top": (69, 88), "middle": (60, 76), "low": (52, 67), "bass": (33, 50)}
    voiced = _voice(list(_PIANO_CHORDS), ranges, {"top": 76, "middle": 69, "low": 60, "bass": 45})
    bar = 3 * Q

    def note(t: int, length: int, pitch: int, velocity: int) -> None:
        events.append((t, 3, mido.Message("note_on", channel=0, note=pitch, velocity=velocity)))
        events.append((t + length, 2, mido.Message("note_off", channel=0, note=pitch, velocity=0)))

    for b, chords in enumerate(voiced):
        t = b * bar
        part = b // 8 if b < 16 else 2 if b < 22 else 3
        events.append((t + Q // 8, 1, mido.Message("control_change", channel=0, control=64, value=127)))
        events.append((t + bar - Q // 8, 1, mido.Message("control_change", channel=0, control=64, value=0)))
        if part == 0:  # an arpeggio over a held bass: eighths rising through the chord
            note(t, bar, chords["bass"], 62)
            figure = [chords["low"], chords["middle"], chords["top"], chords["middle"] + 12 if chords["middle"]
                      + 12 <= 88 else chords["top"], chords["top"], chords["middle"]]
            for i, p in enumerate(figure):
                note(t + i * Q // 2, Q // 2, p, 58 + 6 * (i == 2))
        elif part == 1:  # the quiet middle: long chords
            note(t, bar, chords["bass"], 40)
            for name in ("low", "middle", "top"):
                note(t + Q, 2 * Q, chords[name], 38)
        elif part == 2:  # the climax: octaves in the bass, chords on every beat
            for beat in range(3):
                note(t + beat * Q, Q, chords["bass"], 100)
                note(t + beat * Q, Q, chords["bass"] - 12, 96)
                for name in ("low", "middle", "top"):
                    note(t + beat * Q, Q - Q // 8, chords[name], 104 - 8 * (beat > 0))
            for step in range(6):
                events.append((t + step * Q // 2, 1, mido.Message("control_change", channel=0, control=11,
                                                                  value=80 + 8 * ((b - 16) % 6) + step)))
        else:  # the close: the chord held, soft
            note(t, bar, chords["bass"], 50)
            note(t, bar, chords["middle"], 46)
            note(t, bar, chords["top"], 46)
    midi.tracks.append(_track("piano", events))
    return midi


# The quartet's harmony, a chord a half note: two phrases of four bars, a louder middle, a close.
_QUARTET_CHORDS = ("Cm", "Cm/Eb", "Fm", "G", "Ab", "Fm/Ab", "G", "G7",
                   "Cm", "Bb", "Eb", "Ab", "Fm", "Dm7b5", "G", "G7",
                   "Ab", "Fm", "Dm7b5", "G7", "Cm", "Ab", "Fm", "G",
                   "Eb", "Ab", "Fm", "G7", "Cm", "G7", "Cm", "Cm")
_QUARTET_RANGES = {"violin 1": (67, 84), "violin 2": (60, 76), "viola": (53, 69), "cello": (36, 52)}


def quartet_midi() -> mido.MidiFile:
    """The dense quartet with piano (see the module's docstring)."""
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks.append(_track("quartet", [
        (0, 0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(96))),
        (0, 0, mido.MetaMessage("time_signature", numerator=4, denominator=4)),
        (0, 0, mido.MetaMessage("key_signature", key="Cm")),
    ]))
    voiced = _voice(list(_QUARTET_CHORDS), _QUARTET_RANGES, {"violin 1": 75, "violin 2": 67, "viola": 60,
                                                              "cello": 48})
    programs = {"violin 1": 40, "violin 2": 40, "viola": 41, "cello": 42}
    events: dict[str, list] = {name: [(0, 1, mido.Message("program_change", channel=ch, program=programs[name]))]
                               for ch, name in enumerate(_QUARTET_RANGES)}
    piano: list = [(0, 1, mido.Message("program_change", channel=4, program=0))]

    def note(out: list, ch: int, t: int, length: int, pitch: int, velocity: int) -> None:
        out.append((t, 3, mido.Message("note_on", channel=ch, note=pitch, velocity=velocity)))
        out.append((t + length, 2, mido.Message("note_off", channel=ch, note=pitch, velocity=0)))

    half = 2 * Q
    for i, chords in enumerate(voiced):  # i counts half notes: 16 bars of two
        t = i * half
        loud = 8 <= i < 24
        v = 92 if loud else 70
        c = chord(_QUARTET_CHORDS[i])
        nxt = voiced[i + 1] if i + 1 < len(voiced) else chords
        top = chords["violin 1"]  # the first violin: the chord tone, a step toward the next, an eighth turn
        step = (1 if nxt["violin 1"] > top else -1) * (2 if abs(nxt["violin 1"] - top) > 2 else 1)
        line = [(0, Q, top), (Q, Q // 2, top + step), (3 * Q // 2, Q // 2, top + (step if i % 3 else -step))]
        for at, length, p in line:
            note(events["violin 1"], 0, t + at, length, p, v + 6)
        for k in range(4):  # second violin and viola: repeated eighths on their chord tones
            note(events["violin 2"], 1, t + k * Q // 2, Q // 2, chords["violin 2"], v - 14)
            note(events["viola"], 2, t + k * Q // 2, Q // 2, chords["viola"], v - 16)
            if loud and k % 2 == 0:  # a double stop: the chord's third or fifth below the second violin
                below = max(p for p in range(chords["violin 2"] - 9, chords["violin 2"] - 2)
                            if p % 12 in c.pcs)
                note(events["violin 2"], 1, t + k * Q // 2, Q // 2, below, v - 18)
        note(events["cello"], 3, t, Q, chords["cello"], v)
        note(events["cello"], 3, t + Q, Q, chords["cello"] if i % 2 else chords["cello"] + 7, v - 6)
        bass = 36 + (c.bass_pc - 36) % 12  # the piano: the bass in octaves, a broken chord over it
        note(piano, 4, t, half, bass, v - 4)
        note(piano, 4, t, half, bass + 12, v - 10)
        tones = sorted(p for p in range(max(55, bass + 13), 82) if p % 12 in c.pcs)[:4]  # above the octave
        for k, p in enumerate(tones):
            note(piano, 4, t + k * Q // 2, Q // 2, p, v - 20 + 4 * (k == 0))
        piano.append((t + Q // 8, 1, mido.Message("control_change", channel=4, control=64, value=127)))
        piano.append((t + half - Q // 8, 1, mido.Message("control_change", channel=4, control=64, value=0)))
    for name in _QUARTET_RANGES:
        midi.tracks.append(_track(name, events[name]))
    midi.tracks.append(_track("piano", piano))
    return midi


SAMPLES = {"chorale": chorale_midi, "piano": piano_midi, "quartet": quartet_midi}


def note_count(midi: mido.MidiFile, channel: int | None = None) -> int:
    """Note-ons (velocity above 0) in a file, on one channel (0-15) or all."""
    return sum(1 for track in midi.tracks for msg in track
               if msg.type == "note_on" and msg.velocity > 0 and (channel is None or msg.channel == channel))


def control_counts(midi: mido.MidiFile) -> dict[tuple[int, str], int]:
    """How many controller events a file holds, by (channel, controller): 'cc64', 'pitchwheel', ..."""
    counts: dict[tuple[int, str], int] = {}
    for track in midi.tracks:
        for msg in track:
            if msg.type == "control_change":
                key = (msg.channel, f"cc{msg.control}")
            elif msg.type in ("pitchwheel", "aftertouch", "polytouch"):
                key = (msg.channel, msg.type)
            else:
                continue
            counts[key] = counts.get(key, 0) + 1
    return counts
