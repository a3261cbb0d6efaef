"""A batch's manifest, OUT/manifest.jsonl: one JSON line a row (what was rendered, how, and its checksum).

Each line: `input` (the source), `options` (the variation: model, rate_hz, style, seed, ...),
`output` (the file), `duration_s`, `peak_dbfs` (null for silence), `sha256` of the output's
bytes, and `error` (null, or the one-line message of a row that failed). Lines are appended as
rows finish, so an interrupted batch keeps what it did; at the end the file is rewritten with one
line a row, the batch's rows in their order, then any rows of earlier batches into the same folder.

>>> entry = Entry("demo", {"rate_hz": 8000}, "out/demo.wav", 9.1, -3.2, "ab" * 32, None)
>>> Entry.from_json(entry.to_json()) == entry
True
>>> entry.ok
True
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from synth.app import outputs

MANIFEST_NAME = "manifest.jsonl"
# A manifest at a URL cannot be appended to: it is rewritten whole, at most this often (a choice).
URL_REWRITE_INTERVAL_S = 2.0


@dataclass(frozen=True)
class Entry:
    """One row of the manifest."""

    input: str
    options: dict[str, Any]
    output: str
    duration_s: float | None
    peak_dbfs: float | None
    sha256: str | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None and self.sha256 is not None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=False, allow_nan=False)

    @classmethod
    def from_json(cls, line: str) -> Entry:
        data = json.loads(line)
        return cls(**{name: data.get(name) for name in cls.__dataclass_fields__})


def entry_for(source: str, options: dict[str, Any], output: str, report=None, sha256: str | None = None,
              error: str | None = None) -> Entry:
    """The manifest line of a finished row: its RenderReport and checksum, or its error."""
    if report is None:
        return Entry(source, options, output, None, None, None, error)
    peak = report.peak_dbfs if math.isfinite(report.peak_dbfs) else None
    return Entry(source, options, output, round(report.duration_s, 6), None if peak is None else round(peak, 3),
                 sha256, error)


def read_manifest(path: str) -> dict[str, Entry]:
    """The last entry of each output in a manifest (none when it is missing); a line cut short by an
    interruption, or one that is not an entry, is skipped."""
    text = outputs.read_text(path)
    found: dict[str, Entry] = {}
    for line in (text or "").splitlines():
        try:
            entry = Entry.from_json(line)
        except (ValueError, TypeError):
            continue
        if isinstance(entry.output, str):
            found[entry.output] = entry
    return found


def is_done(entry: Entry | None, source: str, options: dict[str, Any], output: str) -> bool:
    """True when a row need not be rendered again: the manifest says it was written, with the same
    input and options, and the file there now has the recorded checksum."""
    if entry is None or not entry.ok or entry.input != source or entry.options != options:
        return False
    try:
        return outputs.exists(output) and outputs.sha256(output) == entry.sha256
    except OSError:
        return False


class ManifestWriter:
    """Records the rows of a batch as they finish; `close` writes the complete manifest."""

    def __init__(self, path: str, earlier: dict[str, Entry] | None = None) -> None:
        self.path = path
        self.earlier = dict(earlier or {})
        self.entries: dict[str, Entry] = {}
        self._url = outputs.is_url(path)
        self._last_rewrite = 0.0
        self._log = None  # opened at the first row: a batch stopped before any row leaves no manifest

    def carry(self, entry: Entry) -> None:
        """Keep a row an earlier run wrote (a row --resume skips) in this batch's manifest."""
        self.entries[entry.output] = entry

    def record(self, entry: Entry) -> None:
        self.entries[entry.output] = entry
        if not self._url:
            if self._log is None:
                self._log = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (closed in close)
            self._log.write(entry.to_json() + "\n")
            self._log.flush()
        elif time.monotonic() - self._last_rewrite >= URL_REWRITE_INTERVAL_S:
            self._rewrite(self.entries.values())
            self._last_rewrite = time.monotonic()

    def close(self, order: Sequence[str]) -> None:
        """Write the manifest whole: the rows of `order` (outputs) that have an entry, in that order,
        then those of earlier batches that this one did not touch."""
        if self._log is not None:
            self._log.close()
            self._log = None
        rows = [self.entries[o] for o in order if o in self.entries]
        rows += [e for o, e in self.entries.items() if o not in set(order)]
        rows += [e for o, e in self.earlier.items() if o not in self.entries]
        if rows:
            self._rewrite(rows)

    def _rewrite(self, rows: Iterable[Entry]) -> None:
        outputs.write_text(self.path, "".join(e.to_json() + "\n" for e in rows))
