"""The long fuzz run: mutated MIDI files through the reader, describe and the renderer for N minutes.

    python benchmarks/fuzz_midi.py --minutes 30              # atheris (coverage-guided) if installed
    python benchmarks/fuzz_midi.py --minutes 30 --engine random
    python benchmarks/fuzz_midi.py --minutes 5 --seed 7 --save-failures crashes/

Each input is run by tests/synth/fuzz_tools.py's `exercise` (the same as the short run in the test
suite): only MidiFileError and RenderError may come out. Anything else is printed with the input's
bytes saved (--save-failures, default fuzz-failures/), and the exit status is 1.

Engines: `atheris` (pip install atheris) mutates with libFuzzer, guided by which lines of the reader
each input reaches, starting from the corpus files and the small fixtures; `random` applies 1-6 of
fuzz_tools.mutate's mutations to a seed chosen at random, reproducibly for a given --seed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import random
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, os.fspath(Path(__file__).resolve().parents[1] / "tests" / "synth"))


def _save(data: bytes, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"failure-{hashlib.sha1(data).hexdigest()[:12]}.mid"
    path.write_bytes(data)
    return path


def run_random(minutes: float, seed: int, failures: Path) -> int:
    import fuzz_tools as fz

    from synth.gm import default_voice_set

    voices = default_voice_set()
    seeds = list(fz.seeds().items())
    rng = random.Random(seed)
    deadline = time.monotonic() + 60 * minutes
    n_run = n_refused = n_failed = 0
    next_report = time.monotonic() + 30
    while time.monotonic() < deadline:
        _, base = rng.choice(seeds)
        mutations = [(rng.choice(fz.KINDS), rng.random(), rng.randrange(256), rng.randrange(256))
                     for _ in range(rng.randint(1, 6))]
        data = fz.mutate(base, mutations)
        n_run += 1
        try:
            fz.exercise(data, voices)
        except fz.ALLOWED:
            n_refused += 1
        except Exception:
            n_failed += 1
            path = _save(data, failures)
            print(f"FAILED on {path}:\n{traceback.format_exc()}", file=sys.stderr, flush=True)
        if time.monotonic() >= next_report:
            next_report += 30
            print(f"{n_run:,} inputs, {n_refused:,} refused with the documented errors, {n_failed} failures",
                  flush=True)
    print(f"done: {n_run:,} inputs in {minutes:g} min, {n_refused:,} refused with the documented errors, "
          f"{n_run - n_refused - n_failed:,} rendered, {n_failed} failures")
    return 1 if n_failed else 0


def run_atheris(minutes: float, seed: int, failures: Path) -> int:
    import atheris

    # The engine and the libraries first, as they are: numba cannot compile instrumented code. Then
    # the reader and the render loop, instrumented so that libFuzzer sees which lines an input reaches.
    import synth.engine
    from synth.gm import default_voice_set

    with atheris.instrument_imports(include=["synth.midifile", "synth.offline"]):
        import synth.midifile
        import synth.offline  # noqa: F401
    import fuzz_tools as fz

    voices = default_voice_set()

    def one_input(data: bytes) -> None:
        with contextlib.suppress(fz.ALLOWED):
            fz.exercise(data, voices)

    corpus = Path(tempfile.mkdtemp(prefix="liquidsky-fuzz-corpus-"))
    for name, data in fz.seeds().items():
        (corpus / f"{name}.mid").write_bytes(data)
    failures.mkdir(parents=True, exist_ok=True)
    args = [sys.argv[0], f"-max_total_time={int(60 * minutes)}", f"-seed={seed}", "-rss_limit_mb=4096",
            f"-artifact_prefix={os.fspath(failures)}/", "-print_final_stats=1", os.fspath(corpus)]
    atheris.Setup(args, one_input)
    atheris.Fuzz()  # exits the process when the time is up, or on the first failure
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="how long to run (default 30)")
    parser.add_argument("--engine", choices=("auto", "atheris", "random"), default="auto",
                        help="atheris when it is installed (auto), or random mutations")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--save-failures", metavar="DIR", default="fuzz-failures",
                        help="where inputs that fail are saved (default fuzz-failures/)")
    args = parser.parse_args()
    engine = args.engine
    if engine == "auto":
        try:
            import atheris  # noqa: F401
        except ImportError:
            engine = "random"
        else:
            engine = "atheris"
    print(f"fuzzing with {engine} for {args.minutes:g} min", flush=True)
    run = run_atheris if engine == "atheris" else run_random
    return run(args.minutes, args.seed, Path(args.save_failures))


if __name__ == "__main__":
    sys.exit(main())
