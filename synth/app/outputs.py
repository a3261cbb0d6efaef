"""Where a batch's files go: a local (or shared) folder, or any fsspec URL; written atomically either way.

A local output is written by synth.sinks.AudioFileWriter to a hidden temporary file beside it and
renamed when complete. An fsspec URL (s3://, gcs://, file://, ...) is rendered to a local temporary
file first, copied to a hidden temporary name beside the target with fsspec and moved onto it at the
end, so that a reader never sees half a file. A render that dies half-way (a worker killed) leaves
its temporary file behind; `remove_stale_temps` removes those of one output, which a batch does
before each render and at its end.

>>> is_url("s3://bucket/out"), is_url("out/songs"), is_url("C:\\\\renders")
(True, False, False)
>>> join("s3://bucket/out", "a.wav"), join("out", "a.wav") == os.path.join("out", "a.wav")
('s3://bucket/out/a.wav', True)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from synth.sinks import write_atomically

# The prefixes of the temporary files beside a target: AudioFileWriter's (".NAME.partial-",
# ".NAME.float-") and the upload's (".NAME.upload-").
TEMP_KINDS = ("partial", "float", "upload")
HASH_BLOCK_BYTES = 1 << 20


class OutputError(ValueError):
    """An output place that cannot be used as asked: one line saying why."""


def is_url(path: str) -> bool:
    """True for an fsspec URL (PROTOCOL://...), False for a local path."""
    head, sep, _ = str(path).partition("://")
    return bool(sep) and len(head) > 1 and head.replace("+", "").replace("-", "").isalnum()


def join(folder: str, name: str) -> str:
    """A file inside a folder or a URL's folder."""
    return f"{folder.rstrip('/')}/{name}" if is_url(folder) else os.path.join(folder, name)


def filesystem(url: str):
    """(fsspec filesystem, path inside it) for a URL; a one-line error when fsspec is missing."""
    try:
        import fsspec
    except ImportError:
        raise OutputError(f"{url}: writing to a URL needs fsspec: pip install 'liquidsky[dask]'") from None
    try:
        return fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as e:
        raise OutputError(f"{url}: {e}") from None


def make_folder(folder: str) -> None:
    """Create the output folder (local or URL) if it is not there."""
    if is_url(folder):
        fs, path = filesystem(folder)
        fs.makedirs(path, exist_ok=True)
    else:
        os.makedirs(folder, exist_ok=True)


def exists(path: str) -> bool:
    if is_url(path):
        fs, inner = filesystem(path)
        return fs.isfile(inner)
    return os.path.isfile(path)


def sha256(path: str) -> str:
    """The hex SHA-256 of a file's bytes, local or URL."""
    digest = hashlib.sha256()
    if is_url(path):
        fs, inner = filesystem(path)
        opened = fs.open(inner, "rb")
    else:
        opened = open(path, "rb")  # noqa: SIM115 (closed by the with below)
    with opened as f:
        while chunk := f.read(HASH_BLOCK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def remove_stale_temps(output: str) -> list[str]:
    """Remove the temporary files a render of `output` left when it died half-way; returns their names."""
    name = output.rstrip("/").rsplit("/", 1)[-1] if is_url(output) else os.path.basename(output)
    patterns = [f".{name}.{kind}-*" for kind in TEMP_KINDS]
    removed: list[str] = []
    if is_url(output):
        fs, inner = filesystem(output)
        folder = inner.rsplit("/", 1)[0]
        for pattern in patterns:
            for found in fs.glob(f"{folder}/{pattern}"):
                with contextlib.suppress(FileNotFoundError, OSError):
                    fs.rm(found)
                    removed.append(found)
        return removed
    folder = Path(output).parent
    for pattern in patterns:
        for found in folder.glob(pattern):
            with contextlib.suppress(FileNotFoundError):
                found.unlink()
                removed.append(os.fspath(found))
    return removed


@contextlib.contextmanager
def local_target(output: str) -> Iterator[str]:
    """A local path to render `output` to: the path itself, or for a URL a temporary local file that is
    uploaded atomically (temporary name beside the target, then moved) when the block ends without error."""
    if not is_url(output):
        yield output
        return
    fs, inner = filesystem(output)
    name = inner.rsplit("/", 1)[-1]
    with tempfile.TemporaryDirectory(prefix="liquidsky-") as folder:
        local = os.path.join(folder, name)
        yield local
        staged = f"{inner.rsplit('/', 1)[0]}/.{name}.upload-{uuid.uuid4().hex[:8]}"
        try:
            fs.put_file(local, staged)
            fs.mv(staged, inner)
        except BaseException:
            with contextlib.suppress(Exception):
                fs.rm(staged)
            raise


def write_text(path: str, text: str) -> None:
    """Replace a small text file (the manifest) in one step, local or URL."""
    if is_url(path):
        fs, inner = filesystem(path)
        name = inner.rsplit("/", 1)[-1]
        staged = f"{inner.rsplit('/', 1)[0]}/.{name}.upload-{uuid.uuid4().hex[:8]}"
        with fs.open(staged, "w", encoding="utf-8") as f:
            f.write(text)
        fs.mv(staged, inner)
        return

    write_atomically(path, text.encode("utf-8"))


def read_text(path: str) -> str | None:
    """A text file's contents, or None when it is not there."""
    try:
        if is_url(path):
            fs, inner = filesystem(path)
            with fs.open(inner, "r", encoding="utf-8") as f:
                return f.read()
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return None
