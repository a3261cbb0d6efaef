#!/usr/bin/env python3
"""How close liquidsky's timbre is to recorded instruments: log-mel distance to FluidSynth's render.

    python benchmarks/timbre.py [--midi PATH ...] [--soundfont PATH] [--json]

Each piece is rendered at 44.1 kHz by liquidsky (model iix, the factory General MIDI voice set), by
liquidsky with a sawtooth on every channel (every program and drum key plays the factory "saw",
drums at their key's note: the baseline), and by FluidSynth with FluidR3_GM, reverb and chorus off
(`-R 0 -C 0`, the reference) and on (its defaults: how far FluidSynth is from itself). The pieces:
`../shared/bench/bench.mid` and three public-domain textures the script writes itself as GM MIDI
(originals after Bach, Joplin and a wind-band march), so the numbers can be reproduced anywhere.

The distance, precisely:
- each render is mixed to mono (mean of the two channels) and cut to the length of the shorter of the
  two being compared (FluidSynth keeps its reverb tail);
- frames of 2048 samples (46 ms) with a Hann window, hop 1024; power spectrum |rfft|^2;
- 64 mel bands (HTK mel scale, triangular, 40 Hz to 16 kHz), band energy = sum of power times weight;
- level normalisation, per frame: each band in dB relative to the frame's total over all bands,
  10 log10(E_band / sum E), floored at -60 dB (a band 60 dB under the frame counts as -60);
- frames where the reference's total is more than 50 dB under its loudest frame are left out
  (silence and tails);
- distance = mean over the kept frames and the 64 bands of |dB_a - dB_b|, in dB.
Because every frame is normalised, the mix balance over time does not count; what counts is how
each moment's energy is spread over the spectrum.

The hold's images: one FluidR3 preset (grand piano, key 60) is sampled through Page 8 at 30.2 kHz
into a voice, played an octave below its root (card clock 15.1 kHz, so the recording's band ends at
7.55 kHz) and the energy above 8.49 kHz (an eighth above that band) is given in dB relative to the
whole note, beside the same
octave-down note made by band-limited resampling (scipy.signal.resample_poly), which has none, and
beside the factory grand-piano voice (recorded at 24 kHz, its Page 7 filter on) played the same way.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import mido
import numpy as np
from scipy.io import wavfile
from scipy.signal import resample_poly

REPO_ROOT = Path(__file__).resolve().parent.parent
# ../shared/bench/bench.mid beside the repository (or beside the folder of worktrees it is checked out in)
DEFAULT_MIDI = next((p for p in (REPO_ROOT.parent / "shared" / "bench" / "bench.mid",
                                 REPO_ROOT.parent.parent / "shared" / "bench" / "bench.mid") if p.is_file()),
                    REPO_ROOT.parent / "shared" / "bench" / "bench.mid")
DEFAULT_SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
RATE_HZ = 44100

FRAME = 2048
HOP = 1024
N_MELS = 64
MEL_LOW_HZ = 40.0
MEL_HIGH_HZ = 16000.0
FLOOR_DB = -60.0
GATE_DB = -50.0

TICKS = 480  # per quarter note


# --- the pieces the script writes ------------------------------------------------------------------

def _note_name(name: str) -> int:
    steps = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
    n = steps[name[0]]
    i = 1
    while i < len(name) and name[i] in "#b":
        n += 1 if name[i] == "#" else -1
        i += 1
    return n + 12 * (int(name[i:]) + 1)


def _track(channel: int, program: int, notes: list[tuple[float, float, int, int]], volume: int = 100
           ) -> mido.MidiTrack:
    """A track of (start beat, length in beats, key, velocity) on a channel with a program."""
    events = []
    for start, length, key, velocity in notes:
        events.append((round(start * TICKS), 1, key, velocity))
        events.append((round((start + length) * TICKS) - 10, 0, key, 0))
    events.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack()
    if channel != 9:
        track.append(mido.Message("program_change", channel=channel, program=program, time=0))
    track.append(mido.Message("control_change", channel=channel, control=7, value=volume, time=0))
    now = 0
    for tick, on, key, velocity in events:
        kind = "note_on" if on else "note_off"
        track.append(mido.Message(kind, channel=channel, note=key, velocity=velocity, time=tick - now))
        now = tick
    return track


def _midi(tempo_bpm: float, tracks: list[mido.MidiTrack]) -> mido.MidiFile:
    f = mido.MidiFile(ticks_per_beat=TICKS)
    head = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo_bpm), time=0)])
    f.tracks.append(head)
    f.tracks.extend(tracks)
    return f


def chorale() -> mido.MidiFile:
    """Four-part chorale texture after Bach: strings (48) on the lower three parts, choir aahs (52) on top."""
    chords = ["C4 E4 G4 C5", "G3 D4 G4 B4", "A3 E4 A4 C5", "E3 E4 G4 B4", "F3 C4 A4 A4", "C3 E4 G4 C5",
              "D3 D4 F4 A4", "G2 D4 G4 B4", "C3 E4 G4 C5", "A2 E4 A4 C5", "D3 F4 A4 D5", "G2 D4 G4 B4",
              "E3 E4 G#4 B4", "A2 E4 A4 C5", "D3 F4 A4 D5", "G2 F4 G4 B4", "C3 E4 G4 C5"]
    parts: list[list] = [[], [], [], []]
    for i, chord in enumerate(chords):
        length = 2.0 if i in (3, 7, 12, 16) else 1.0
        start = sum(2.0 if j in (3, 7, 12, 16) else 1.0 for j in range(i))
        for p, name in enumerate(chord.split()):
            parts[p].append((start, length, _note_name(name), 80))
    return _midi(66, [_track(0, 48, parts[0]), _track(1, 48, parts[1]), _track(2, 48, parts[2]),
                      _track(3, 52, parts[3])])


def rag() -> mido.MidiFile:
    """A rag texture after Joplin on the acoustic grand (0): stride bass and a syncopated tune."""
    bass, tune = [], []
    harmony = [("C2", "E3 G3 C4"), ("G1", "D3 G3 B3"), ("C2", "E3 G3 C4"), ("F1", "F3 A3 C4"),
               ("C2", "E3 G3 C4"), ("G1", "D3 F3 B3"), ("C2", "E3 G3 C4"), ("C2", "E3 G3 C4")] * 2
    motif = [(0.0, 0.5, "E5"), (0.5, 0.25, "G5"), (0.75, 0.5, "C6"), (1.25, 0.25, "A5"), (1.5, 0.5, "G5")]
    for bar, (root, chord) in enumerate(harmony):
        t = bar * 2.0
        for beat, keys in ((0.0, root), (0.5, chord), (1.0, root[0] + str(int(root[1]) + 1)), (1.5, chord)):
            for name in keys.split():
                bass.append((t + beat, 0.45, _note_name(name), 78))
        shift = (0, -1, 0, 1, 0, -3, 0, 0)[bar % 8]
        for start, length, name in motif:
            tune.append((t + start, length, _note_name(name) + shift, 92))
    return _midi(96, [_track(0, 0, bass), _track(1, 0, tune)])


def march() -> mido.MidiFile:
    """A wind-band march: trumpet (56), horn (60), trombone (57), flute (73), clarinet (71), bassoon (70), drums."""
    tune = "C5 E5 G5 E5 F5 A5 G5 E5 D5 F5 E5 C5 D5 B4 C5 C5"
    inner = "E4 G4 E4 G4 F4 F4 E4 G4 F4 D4 G4 E4 F4 D4 E4 E4"
    low = "C3 C3 C3 C3 F2 F2 C3 C3 G2 G2 C3 C3 G2 G2 C3 C3"
    tracks = []
    for channel, program, line, octave, velocity in ((0, 56, tune, 0, 96), (1, 73, tune, 12, 80),
                                                     (2, 71, inner, 0, 84), (3, 60, inner, -12, 84),
                                                     (4, 57, low, 0, 90), (5, 70, low, 12, 80)):
        notes = [(i * 1.0, 0.9, _note_name(n) + octave, velocity) for i, n in enumerate(line.split())]
        tracks.append(_track(channel, program, notes))
    drums = []
    for beat in range(16):
        drums.append((beat, 0.2, 36 if beat % 2 == 0 else 38, 90))
        drums.append((beat, 0.2, 42, 70))
        drums.append((beat + 0.5, 0.2, 42, 60))
    drums.append((0.0, 1.0, 49, 90))
    tracks.append(_track(9, 0, drums))
    return _midi(112, tracks)


GENERATED = {"chorale (after Bach)": chorale, "rag (after Joplin)": rag, "march (winds, brass, drums)": march}


# --- the measure -----------------------------------------------------------------------------------

def _mel_weights(rate_hz: int) -> np.ndarray:
    def mel(f):
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    def hz(m):
        return 700.0 * (10.0 ** (np.asarray(m) / 2595.0) - 1.0)

    edges = hz(np.linspace(mel(MEL_LOW_HZ), mel(MEL_HIGH_HZ), N_MELS + 2))
    f = np.fft.rfftfreq(FRAME, 1.0 / rate_hz)
    w = np.zeros((N_MELS, len(f)))
    for b in range(N_MELS):
        lo, mid, hi = edges[b:b + 3]
        w[b] = np.clip(np.minimum((f - lo) / (mid - lo), (hi - f) / (hi - mid)), 0.0, None)
    return w


def mel_energies(mono: np.ndarray, rate_hz: int = RATE_HZ) -> np.ndarray:
    """(n_frames, N_MELS) band energies of a mono signal."""
    n = 1 + max(0, (len(mono) - FRAME) // HOP)
    idx = np.arange(FRAME)[None, :] + HOP * np.arange(n)[:, None]
    padded = np.pad(mono, (0, max(0, FRAME - len(mono))))
    frames = padded[np.minimum(idx, len(padded) - 1)] * np.hanning(FRAME)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    return power @ _mel_weights(rate_hz).T


def distance_db(test: np.ndarray, reference: np.ndarray, rate_hz: int = RATE_HZ) -> float:
    """Mean |difference| of frame-normalised log-mel spectra (dB), on the frames the reference sounds in."""
    n = min(len(test), len(reference))
    a, b = mel_energies(test[:n], rate_hz), mel_energies(reference[:n], rate_hz)
    tiny = 1e-20
    total_a, total_b = a.sum(axis=1) + tiny, b.sum(axis=1) + tiny
    level_b = 10 * np.log10(total_b)
    keep = level_b > level_b.max() + GATE_DB
    da = np.maximum(10 * np.log10(a / total_a[:, None] + tiny), FLOOR_DB)
    db = np.maximum(10 * np.log10(b / total_b[:, None] + tiny), FLOOR_DB)
    return float(np.mean(np.abs(da - db)[keep]))


# --- the renders -----------------------------------------------------------------------------------

def _mono(stereo: np.ndarray) -> np.ndarray:
    stereo = np.asarray(stereo, dtype=np.float64)
    return stereo.mean(axis=1) if stereo.ndim == 2 else stereo


def render_liquidsky(midi_path: Path, voices=None) -> np.ndarray:
    from synth.app.api import render
    return _mono(render(str(midi_path), rate_hz=RATE_HZ, voices=voices).audio)


def render_fluidsynth(midi_path: Path, soundfont: Path, effects: bool, tmp: Path) -> np.ndarray:
    out = tmp / f"{midi_path.stem}-fs{'-fx' if effects else ''}.wav"
    cmd = ["fluidsynth", "-ni", "-q", "-F", str(out), "-r", str(RATE_HZ)]
    if not effects:
        cmd += ["-R", "0", "-C", "0"]
    subprocess.run(cmd + [str(soundfont), str(midi_path)], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    rate, data = wavfile.read(out)
    assert rate == RATE_HZ
    scale = float(np.iinfo(data.dtype).max) if data.dtype.kind == "i" else 1.0
    return _mono(data / scale)


def saw_voice_set():
    from synth.gm import VoiceSet
    from synth.library.builtin import builtin_voices
    voices = builtin_voices()
    return VoiceSet(voices, {p: "saw" for p in range(128)}, {k: ("saw", k) for k in range(27, 88)})


def images_db(soundfont: Path) -> dict:
    """Energy above the recording's band of a sampled piano played an octave down, in dB of the note.

    Twice: the preset imported through Page 8 (filter open: the card alone), and the factory
    grand-piano voice as it ships (its Page 7 filter in front of the output)."""
    from synth.app.api import render
    from synth.gm import VoiceSet, default_voice_set
    from synth.library.page8 import import_soundfont
    recording_hz = 30200.0

    def above(x, cut_hz):
        p = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
        f = np.fft.rfftfreq(len(x), 1.0 / RATE_HZ)
        return float(10 * np.log10(p[f > cut_hz].sum() / p.sum() + 1e-30))

    def card_db(voice) -> float:
        cut_hz = 1.125 * voice.recording_rate_hz / 4  # an eighth above the band of the note played
        f = _midi(120, [_track(0, 0, [(0.0, 1.5, voice.root_key - 12, 100)])])
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "probe.mid"
            f.save(path)
            vs = VoiceSet({"probe": voice}, {0: "probe"}, {})
            card = _mono(render(str(path), rate_hz=RATE_HZ, voices=vs).audio)
        return above(card[: int(0.7 * RATE_HZ)], cut_hz)

    imported = import_soundfont(soundfont, "probe", program=0, key=60, rate_hz=recording_hz)
    levels = np.asarray(imported.wave, dtype=np.float64)[: int(0.35 * recording_hz)]
    ideal = resample_poly(levels - levels.mean(), 2 * RATE_HZ, int(recording_hz))  # an octave down, band-limited
    factory = default_voice_set().voice("grand-piano")
    return {"band_end_hz": recording_hz / 4, "cut_hz": 1.125 * recording_hz / 4, "card_db": card_db(imported),
            "factory_db": card_db(factory), "factory_band_end_hz": factory.recording_rate_hz / 4,
            "ideal_db": above(ideal, 1.125 * recording_hz / 4)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--midi", action="append", type=Path, help="a GM file to measure (repeatable); default "
                    "bench.mid and the three generated pieces")
    ap.add_argument("--soundfont", type=Path, default=DEFAULT_SOUNDFONT)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if shutil.which("fluidsynth") is None or not args.soundfont.is_file():
        print("timbre.py needs fluidsynth on the PATH and the SoundFont (Debian: fluidsynth, fluid-soundfont-gm)",
              file=sys.stderr)
        return 2
    rows = []
    saw = saw_voice_set()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        pieces: list[tuple[str, Path]] = []
        if args.midi:
            pieces = [(p.name, p) for p in args.midi]
        else:
            if DEFAULT_MIDI.is_file():
                pieces.append(("bench.mid", DEFAULT_MIDI))
            for name, make in GENERATED.items():
                path = tmp / f"{make.__name__}.mid"
                make().save(path)
                pieces.append((name, path))
        for name, path in pieces:
            print(f"rendering {name} ...", file=sys.stderr)
            ref = render_fluidsynth(path, args.soundfont, False, tmp)
            fx = render_fluidsynth(path, args.soundfont, True, tmp)
            ls = render_liquidsky(path)
            sw = render_liquidsky(path, saw)
            rows.append({"piece": name, "liquidsky_db": distance_db(ls, ref), "saw_db": distance_db(sw, ref),
                         "fluidsynth_fx_db": distance_db(fx, ref)})
    mean = {k: float(np.mean([r[k] for r in rows])) for k in ("liquidsky_db", "saw_db", "fluidsynth_fx_db")}
    images = images_db(args.soundfont)
    if args.json:
        print(json.dumps({"pieces": rows, "mean": mean, "images": images}, indent=2))
        return 0
    print(f"{'piece':32s} {'liquidsky':>10s} {'saw':>8s} {'FS fx on':>9s}   (dB from FluidSynth, fx off)")
    for r in rows + [dict(piece="mean", **mean)]:
        print(f"{r['piece']:32s} {r['liquidsky_db']:10.2f} {r['saw_db']:8.2f} {r['fluidsynth_fx_db']:9.2f}")
    print(f"\nhold's images: sampled piano an octave down (band ends {images['band_end_hz']:.0f} Hz), "
          f"energy above {images['cut_hz']:.0f} Hz: card {images['card_db']:.1f} dB, "
          f"band-limited resampling {images['ideal_db']:.1f} dB; factory grand-piano (band ends "
          f"{images['factory_band_end_hz']:.0f} Hz, its filter on; above an eighth more) "
          f"{images['factory_db']:.1f} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
