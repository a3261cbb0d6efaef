"""For every test: tests/synth holds the helpers that tests in any folder import by name (voice sets,
the JACK server, corpora, fuzzing, cluster tasks, Page R songs)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "synth"))
