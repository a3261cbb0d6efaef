"""Build a Mode 1 voice from a harmonic profile, as Page 4 drew one, and play a phrase with it.

The timbre is sixteen harmonics whose amplitudes fall as 1/h and fade over the 32 segments of a
Mode 1 voice, the higher ones faster, like a struck string going dark. The phrase is played
through liquidsky's engine (eight 8-bit channel cards) into a WAV file.

    python examples/harmonic_voice.py -o phrase.wav
    python examples/harmonic_voice.py -o phrase.wav --save glass.cmv   # keep the voice too
    liquidsky voice show glass.cmv -o glass.png                          # and look at it
"""

from __future__ import annotations

import argparse

import mido
import numpy as np
import soundfile as sf

import synth
from synth import hardware as hw
from synth.gm import VoiceSet
from synth.library.page4 import decaying_profile, profile_voice
from synth.voicefile import save_voice

# (MIDI note, seconds): A4 C5 E5 D5, then down to A4 held.
PHRASE = [(69, 0.35), (72, 0.35), (76, 0.35), (74, 0.7), (72, 0.35), (71, 0.35), (69, 1.2)]
GAP_S = 0.05  # each note is released this long before the next one starts


def build_voice(name: str = "glass") -> synth.Voice:
    """The voice: 16 harmonics at 1/h, fading by 0.4 dB per segment per harmonic number."""
    h = np.arange(1, 17)
    profile = decaying_profile(spectrum=1.0 / h, decay_db_per_segment=0.4 * h)
    return profile_voice(
        name, profile,
        loop_start_segment=31, loop_end_segment=31,   # hold the last timbre while the key is down
        attack_timer=hw.envelope_timer_for(0.01),     # a 10 ms rise
        damping_timer=hw.envelope_timer_for(0.3),     # a 300 ms release
        filter=110,
    )


def play(voice: synth.Voice, phrase, rate_hz: int) -> np.ndarray:
    """The phrase played on `voice`, float32 (n_frames, 2), until its last release has died away."""
    engine = synth.Engine(rate_hz=rate_hz, voices=VoiceSet({voice.name: voice}, {0: voice.name}, {}))
    blocks = []
    for note, seconds in phrase:
        engine.handle(mido.Message("note_on", note=note, velocity=100))
        blocks.append(engine.render(round((seconds - GAP_S) * rate_hz)))
        engine.handle(mido.Message("note_off", note=note))
        blocks.append(engine.render(round(GAP_S * rate_hz)))
    while not engine.is_silent:
        blocks.append(engine.render(1024))
    # The engine's output lags its input by a few frames (band-limited steps); drop them so the
    # first note starts at frame 0.
    return np.concatenate(blocks)[engine.latency_frames :]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--output", default="phrase.wav", help="the WAV file to write (default phrase.wav)")
    parser.add_argument("--rate", type=int, default=44100, help="sample rate in Hz (default 44100)")
    parser.add_argument("--save", metavar="VOICE.cmv", help="also save the voice as a liquidsky voice file")
    args = parser.parse_args()

    voice = build_voice()
    audio = play(voice, PHRASE, args.rate)
    audio *= 0.9 / np.max(np.abs(audio))  # eight cards share the mix; one alone is quiet
    sf.write(args.output, audio, args.rate, subtype="PCM_16")
    print(f"wrote {args.output}: {len(audio) / args.rate:.2f} s, {len(PHRASE)} notes")
    if args.save:
        save_voice(voice, args.save)
        print(f"wrote {args.save}")


if __name__ == "__main__":
    main()
