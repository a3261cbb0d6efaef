"""The ranges the application accepts for a render's settings, shared by the command line, jobs files
and the studio, so that each refuses the same values with the same words.

These are the toolkit's own choices, not the CMI's: the engine itself takes any rate from 1 to
384 kHz (synth.engine), and the hardware profiles say how many cards each model has.
"""

from __future__ import annotations

RATE_MIN_HZ, RATE_MAX_HZ = 8000, 192_000  # telephone quality to the fastest common audio interface
DEFAULT_RATE_HZ = 44_100
VOICES_MIN, VOICES_MAX = 1, 64  # cards; the Series III had 16, more only slow the render
SEED_MAX = 2**32 - 1  # an unsigned 32-bit number: written in jobs files and manifests as it is
TEMPO_SCALE_MIN, TEMPO_SCALE_MAX = 0.1, 10.0
NORMALIZE_DBFS = -1.0  # --normalize puts the loudest sample here, a little under full scale
MAX_DURATION_DEFAULT_S = 3600.0  # an hour: longer is almost always a broken file
JOBS_MAX = 64  # processes at once for a collection on one machine
