"""Pitch-class (chroma) agreement between rendered audio and a MIDI file's notes, for the corpus tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import mido
import numpy as np
import soundfile

# Analysis grid. An 8192-frame Hann window (186 ms at 44.1 kHz) has 5.4 Hz bins, so neighbouring semitones
# (5.9 % apart) fall at least a bin apart from 91 Hz up. On the corpus it told a semitone-transposed render
# from the right one by a wider margin than 4096 frames did, bass-heavy files most. The 2048-frame hop
# (46 ms) keeps the time grid fine although each window is long.
FFT_FRAMES = 8192
HOP_FRAMES = 2048
# Band of the spectrum folded into pitch classes. At 60 Hz semitones are 3.6 Hz apart, under one bin, and
# below it the folding is mostly leakage; above 5 kHz there is mostly upper harmonics, noise and cymbals.
LOW_HZ = 60.0
HIGH_HZ = 5000.0

DRUM_CHANNEL = 9  # General MIDI channel 10, counted from 0 as mido does
SUSTAIN_CONTROL = 64  # MIDI CC 64, damper pedal; values >= 64 mean down (MIDI 1.0 spec)

FLUIDSYNTH = "fluidsynth"
GM_SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")  # Debian package fluid-soundfont-gm

CORPUS_DIR = Path(__file__).resolve().parents[1] / "data" / "corpus"
REFERENCE_SCORES = CORPUS_DIR / "fluidsynth_scores.json"
RATE_HZ = 44100
# Only the opening of each file is rendered, so the whole corpus stays a few minutes of audio.
MAX_SECONDS = 30.0


@dataclass(frozen=True)
class Note:
    """One sounding note of the file, in seconds; `end_s` already includes any damper-pedal hold."""

    start_s: float
    end_s: float
    key: int
    velocity: int
    channel: int


@dataclass(frozen=True)
class ChromaScore:
    """Mean cosine similarity of audio chroma against note chroma, over frames where notes sound."""

    mean_cosine: float
    n_frames: int  # frames that counted: the ones with at least one pitched note sounding
    shift_frames: int  # audio frames the audio was moved earlier (+) or later (-) to get this score


def note_spans(midi: mido.MidiFile, include_drums: bool = False) -> list[Note]:
    """Every note of the file with absolute start and end in seconds, tempo map applied, sorted by start.

    A note-off while the channel's damper pedal is down ends the note when the pedal comes up. A key struck
    again on the same channel before its note-off pairs the offs first-in first-out. Notes still held at the
    end of the file end at the last event.
    """
    now_s = 0.0
    open_notes: dict[tuple[int, int], list[tuple[float, int]]] = {}
    pedal_down: dict[int, bool] = {}
    pedal_held: dict[int, list[tuple[float, int, int]]] = {}
    notes: list[Note] = []

    def close(channel: int, key: int) -> None:
        starts = open_notes.get((channel, key))
        if not starts:
            return
        start_s, velocity = starts.pop(0)
        if pedal_down.get(channel, False):
            pedal_held.setdefault(channel, []).append((start_s, key, velocity))
        else:
            notes.append(Note(start_s, now_s, key, velocity, channel))

    # Iterating a MidiFile merges the tracks and turns delta ticks into seconds through every set_tempo.
    for msg in midi:
        now_s += msg.time
        if msg.is_meta:
            continue
        if msg.type == "note_on" and msg.velocity > 0:
            if msg.channel == DRUM_CHANNEL and not include_drums:
                continue
            open_notes.setdefault((msg.channel, msg.note), []).append((now_s, msg.velocity))
        elif msg.type == "note_off" or (msg.type == "note_on" and msg.velocity == 0):
            close(msg.channel, msg.note)
        elif msg.type == "control_change" and msg.control == SUSTAIN_CONTROL:
            down = msg.value >= 64
            if pedal_down.get(msg.channel, False) and not down:
                for start_s, key, velocity in pedal_held.pop(msg.channel, []):
                    notes.append(Note(start_s, now_s, key, velocity, msg.channel))
            pedal_down[msg.channel] = down
    for (channel, key), starts in open_notes.items():
        for start_s, velocity in starts:
            notes.append(Note(start_s, now_s, key, velocity, channel))
    for channel, held in pedal_held.items():
        for start_s, key, velocity in held:
            notes.append(Note(start_s, now_s, key, velocity, channel))
    notes.sort(key=lambda n: (n.start_s, n.key))
    return notes


def last_note_off_s(midi: mido.MidiFile) -> float:
    """Time of the last note end in seconds, drums included, pedal holds included."""
    return max((n.end_s for n in note_spans(midi, include_drums=True)), default=0.0)


def truncate_midi(midi: mido.MidiFile, max_s: float) -> mido.MidiFile:
    """A copy of `midi` that stops at `max_s` seconds: later events dropped, notes still held released there.

    The cut is made on the tick grid (the first tick at or after `max_s`), so the copy plays exactly like the
    start of the original. A pedal still down at the cut is lifted at the cut.
    """
    cut_tick = _tick_at_seconds(midi, max_s)
    out = mido.MidiFile(type=midi.type, ticks_per_beat=midi.ticks_per_beat)
    for track in midi.tracks:
        new = mido.MidiTrack()
        tick = 0
        last_kept = 0
        held: dict[tuple[int, int], int] = {}
        pedals: set[int] = set()
        for msg in track:
            tick += msg.time
            if msg.type == "end_of_track":
                continue
            is_off = msg.type == "note_off" or (msg.type == "note_on" and msg.velocity == 0)
            if tick > cut_tick or (tick == cut_tick and not is_off):
                break
            new.append(msg.copy(time=tick - last_kept))
            last_kept = tick
            if msg.type == "note_on" and msg.velocity > 0:
                held[(msg.channel, msg.note)] = held.get((msg.channel, msg.note), 0) + 1
            elif is_off and held.get((msg.channel, msg.note), 0) > 0:
                held[(msg.channel, msg.note)] -= 1
            elif msg.type == "control_change" and msg.control == SUSTAIN_CONTROL:
                if msg.value >= 64:
                    pedals.add(msg.channel)
                else:
                    pedals.discard(msg.channel)
        delta = cut_tick - last_kept
        for (channel, key), count in sorted(held.items()):
            for _ in range(count):
                new.append(mido.Message("note_off", channel=channel, note=key, velocity=0, time=delta))
                delta = 0
        for channel in sorted(pedals):
            new.append(mido.Message("control_change", channel=channel, control=SUSTAIN_CONTROL, value=0,
                                    time=delta))
            delta = 0
        new.append(mido.MetaMessage("end_of_track", time=delta))
        out.tracks.append(new)
    return out


def transpose_midi(midi: mido.MidiFile, semitones: int) -> mido.MidiFile:
    """A copy of `midi` with every pitched note (not the drum channel) moved by `semitones`."""
    out = mido.MidiFile(type=midi.type, ticks_per_beat=midi.ticks_per_beat)
    for track in midi.tracks:
        new = mido.MidiTrack()
        for msg in track:
            if msg.type in ("note_on", "note_off", "polytouch") and msg.channel != DRUM_CHANNEL:
                msg = msg.copy(note=min(127, max(0, msg.note + semitones)))
            new.append(msg)
        out.tracks.append(new)
    return out


def audio_chroma(audio: np.ndarray, rate_hz: float) -> np.ndarray:
    """Unit-length 12-bin chroma per analysis frame, float64 (n_frames, 12); bin 0 is C.

    Frame i is centred on sample i * HOP_FRAMES (the signal is padded by half a window at the start), so it
    lines up with `notes_chroma` frame i. A silent frame is all zeros.
    """
    mono = np.asarray(audio, dtype=np.float64)
    if mono.ndim == 2:
        mono = mono.mean(axis=1)
    half = FFT_FRAMES // 2
    padded = np.concatenate([np.zeros(half), mono, np.zeros(half)])
    n_frames = 1 + max(0, len(padded) - FFT_FRAMES) // HOP_FRAMES
    frames = np.lib.stride_tricks.sliding_window_view(padded, FFT_FRAMES)[::HOP_FRAMES][:n_frames]
    # Power rather than magnitude: spectral peaks outweigh the skirts that leak into neighbouring semitones.
    power = np.abs(np.fft.rfft(frames * np.hanning(FFT_FRAMES), axis=1)) ** 2
    return _unit_rows(power @ _bin_to_pitch_class(rate_hz))


def notes_chroma(notes: list[Note], n_frames: int, rate_hz: float) -> np.ndarray:
    """Unit-length 12-bin chroma of the notes on the `audio_chroma` grid; a class weighs its loudest note."""
    times_s = np.arange(n_frames) * HOP_FRAMES / rate_hz
    chroma = np.zeros((n_frames, 12))
    for note in notes:
        first, stop = np.searchsorted(times_s, [note.start_s, note.end_s], side="left")
        pc = note.key % 12
        chroma[first:stop, pc] = np.maximum(chroma[first:stop, pc], note.velocity)
    return _unit_rows(chroma)


def chroma_score(audio: np.ndarray, rate_hz: float, notes: list[Note],
                 max_shift_frames: int = 0) -> ChromaScore:
    """How well the audio's pitch classes follow the notes: mean cosine over frames where a note sounds.

    With `max_shift_frames` > 0 the audio is also tried moved up to that many frames either way and the best
    agreement is returned, which tells a constant latency apart from wrong notes.
    """
    heard = audio_chroma(audio, rate_hz)
    end_s = max((n.end_s for n in notes), default=0.0)
    n_frames = max(len(heard), int(np.ceil(end_s * rate_hz / HOP_FRAMES)) + 1)
    expected = notes_chroma(notes, n_frames, rate_hz)
    heard = np.vstack([heard, np.zeros((n_frames - len(heard), 12))])
    sounding = np.flatnonzero(expected.any(axis=1))
    if len(sounding) == 0:
        raise ValueError("no pitched note sounds in the given notes")
    best = None
    for shift in _shifts_nearest_first(max_shift_frames):
        index = np.clip(sounding + shift, 0, n_frames - 1)
        mean = float(np.mean(np.sum(heard[index] * expected[sounding], axis=1)))
        if best is None or mean > best.mean_cosine + 1e-12:
            best = ChromaScore(mean, len(sounding), shift)
    assert best is not None
    return best


def sine_render(notes: list[Note], rate_hz: int, n_frames: int, semitones: int = 0) -> np.ndarray:
    """An ideal render, float32 (n_frames, 2): each note a tone of octave partials, level from velocity.

    Partials at 1, 2, 4 and 8 times the fundamental carry only the note's own pitch class, and lift notes
    whose fundamental lies below LOW_HZ into the analysed band, as a real instrument's harmonics would.
    """
    out = np.zeros(n_frames)
    fade = max(1, int(0.005 * rate_hz))
    for note in notes:
        first = round(note.start_s * rate_hz)
        stop = min(n_frames, round(note.end_s * rate_hz))
        if stop <= first:
            continue
        hz = 440.0 * 2.0 ** ((note.key + semitones - 69) / 12)
        t = np.arange(stop - first) / rate_hz
        tone = sum(np.sin(2 * np.pi * hz * octave * t) / octave for octave in (1, 2, 4, 8)
                   if hz * octave < rate_hz / 2) * (note.velocity / 127)
        ramp = np.minimum(1.0, np.minimum(np.arange(len(t)) + 1, len(t) - np.arange(len(t))) / fade)
        out[first:stop] += tone * ramp
    peak = np.max(np.abs(out)) or 1.0
    return np.repeat((out / peak * 0.5)[:, None], 2, axis=1).astype(np.float32)


def fluidsynth_version() -> str | None:
    """The installed FluidSynth's version string, or None when it or the GM SoundFont is missing."""
    if shutil.which(FLUIDSYNTH) is None or not GM_SOUNDFONT.exists():
        return None
    text = subprocess.run([FLUIDSYNTH, "--version"], capture_output=True, text=True, check=True).stdout
    for word in text.split():
        if word[:1].isdigit():
            return word
    return text.strip().splitlines()[0]


def fluidsynth_render(midi: mido.MidiFile, rate_hz: int) -> np.ndarray:
    """Render `midi` with the FluidSynth command line and FluidR3_GM, no reverb or chorus: float32 (n, 2)."""
    with tempfile.TemporaryDirectory() as tmp:
        midi_path = os.path.join(tmp, "in.mid")
        wav_path = os.path.join(tmp, "out.wav")
        midi.save(midi_path)
        # Options must come before the SoundFont and MIDI file arguments.
        subprocess.run([FLUIDSYNTH, "-ni", "-q", "-R", "0", "-C", "0", "-r", str(rate_hz), "-F", wav_path,
                        str(GM_SOUNDFONT), midi_path], check=True, capture_output=True)
        audio, file_rate_hz = soundfile.read(wav_path, dtype="float32", always_2d=True)
    if file_rate_hz != rate_hz:
        raise RuntimeError(f"fluidsynth wrote {file_rate_hz} Hz, asked for {rate_hz} Hz")
    return audio


def corpus_names() -> list[str]:
    """Stems of the corpus MIDI files, sorted."""
    return sorted(p.stem for p in CORPUS_DIR.glob("*.mid"))


def corpus_opening(name: str) -> mido.MidiFile:
    """The first MAX_SECONDS of corpus file `name`, as the tests render it."""
    return truncate_midi(mido.MidiFile(CORPUS_DIR / f"{name}.mid"), MAX_SECONDS)


def metric_settings() -> dict:
    """Everything a committed score depends on besides the files themselves."""
    return {"rate_hz": RATE_HZ, "max_seconds": MAX_SECONDS, "fft_frames": FFT_FRAMES,
            "hop_frames": HOP_FRAMES, "low_hz": LOW_HZ, "high_hz": HIGH_HZ}


def fluidsynth_scores(name: str) -> dict:
    """FluidSynth's chroma scores for the opening of `name`: as rendered, best within 5 frames, and two
    deliberately wrong versions (every pitched note a semitone up; the render 2 s late)."""
    midi = corpus_opening(name)
    notes = note_spans(midi)
    audio = fluidsynth_render(midi, RATE_HZ)
    best = chroma_score(audio, RATE_HZ, notes, max_shift_frames=5)
    up = fluidsynth_render(transpose_midi(midi, 1), RATE_HZ)
    late = np.vstack([np.zeros((2 * RATE_HZ, audio.shape[1]), dtype=audio.dtype), audio])
    return {
        "mean_cosine": round(chroma_score(audio, RATE_HZ, notes).mean_cosine, 4),
        "best_mean_cosine": round(best.mean_cosine, 4),
        "best_shift_frames": best.shift_frames,
        "semitone_up_mean_cosine": round(chroma_score(up, RATE_HZ, notes).mean_cosine, 4),
        "two_seconds_late_mean_cosine": round(chroma_score(late, RATE_HZ, notes).mean_cosine, 4),
        "n_frames": best.n_frames,
    }


def write_reference_scores() -> dict:
    """Render every corpus file with FluidSynth and store the scores in REFERENCE_SCORES."""
    version = fluidsynth_version()
    if version is None:
        raise RuntimeError(f"{FLUIDSYNTH} or {GM_SOUNDFONT} is missing")
    soundfont = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Version}", "fluid-soundfont-gm"],
                               capture_output=True, text=True, check=False).stdout.strip() or "unknown"
    table = {
        "fluidsynth_version": version,
        "soundfont": f"{GM_SOUNDFONT.name} ({soundfont})",
        "command": f"{FLUIDSYNTH} -ni -q -R 0 -C 0 -r {RATE_HZ} -F out.wav {GM_SOUNDFONT.name} in.mid",
        "metric": metric_settings(),
        "scores": {name: fluidsynth_scores(name) for name in corpus_names()},
    }
    REFERENCE_SCORES.write_text(json.dumps(table, indent=2) + "\n")
    return table


def _tick_at_seconds(midi: mido.MidiFile, seconds: float) -> int:
    """First tick at or after `seconds`, through the file's tempo map (tempo events of every track)."""
    changes = sorted({(tick, msg.tempo) for tick, msg in _absolute(midi) if msg.type == "set_tempo"})
    tempo_us = 500_000  # default 120 beats per minute (SMF spec)
    tick_now = 0
    now_s = 0.0
    for tick, new_tempo in changes:
        span_s = mido.tick2second(tick - tick_now, midi.ticks_per_beat, tempo_us)
        if now_s + span_s >= seconds:
            break
        now_s += span_s
        tick_now = tick
        tempo_us = new_tempo
    ticks_per_s = midi.ticks_per_beat * 1e6 / tempo_us
    return tick_now + int(np.ceil((seconds - now_s) * ticks_per_s - 1e-9))


def _absolute(midi: mido.MidiFile):
    for track in midi.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            yield tick, msg


def _bin_to_pitch_class(rate_hz: float) -> np.ndarray:
    """(n_bins, 12) matrix sending each FFT bin in the band to the pitch class of its nearest semitone."""
    hz = np.fft.rfftfreq(FFT_FRAMES, 1.0 / rate_hz)
    matrix = np.zeros((len(hz), 12))
    band = (hz >= LOW_HZ) & (hz <= HIGH_HZ)
    keys = np.rint(69 + 12 * np.log2(hz[band] / 440.0)).astype(int)
    matrix[np.flatnonzero(band), keys % 12] = 1.0
    return matrix


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norm, out=np.zeros_like(x), where=norm > 1e-12)


def _shifts_nearest_first(max_shift: int) -> list[int]:
    shifts = [0]
    for k in range(1, max_shift + 1):
        shifts += [k, -k]
    return shifts


if __name__ == "__main__":
    print(json.dumps(write_reference_scores()["scores"], indent=2))
