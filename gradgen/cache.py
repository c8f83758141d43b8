"""The compile cache: generated files kept on disk, keyed so that an entry is never stale.

``key(parts)`` takes what a compile's output depends on (the model's bytes, the options,
...) and returns a hex digest that also covers the environment (``environment()``:
gradgen's version and a digest of its own code and templates, the Python version, and the
versions of SymPy, black, Jinja and NumPy). ``lookup(key)`` returns the stored entry (a
dict) or None; an entry that lists ``depends`` (files the model imported, each with the
SHA-256 of its bytes) is a hit only while every one of them still has those bytes.
``store(key, entry)`` writes an entry through a temporary file renamed over it, so that
concurrent compiles of one model never see half an entry. ``info()`` and ``clear()`` are
``gradgen cache info`` and ``gradgen cache clear``; ``stats`` counts hits, misses and
stores in this process.

The folder is ``GRADGEN_CACHE_DIR`` if set, else the platform's user cache folder
(platformdirs: ``~/.cache/gradgen`` on Linux, ``~/Library/Caches/gradgen`` on macOS,
``%LOCALAPPDATA%\\gradgen\\Cache`` on Windows). Nothing here imports SymPy, black, Jinja
or NumPy: a hit costs a few file reads.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
from pathlib import Path

from gradgen import __version__

ENV = "GRADGEN_CACHE_DIR"
FORMAT = 1  # the layout of an entry; a new layout makes every old entry a miss
MAX_ENTRIES = 2000  # past this, the least recently used entries are removed
KEEP = 1500
SUFFIX = ".json"
# the output depends on these: their versions are part of every key
PACKAGES = ("sympy", "black", "jinja2", "numpy")

stats = {"hits": 0, "misses": 0, "stores": 0}
_environment: dict = {}


def folder() -> Path:
    """Where the entries are: ``GRADGEN_CACHE_DIR``, or the user cache folder."""
    given = os.environ.get(ENV)
    if given:
        return Path(given)
    import platformdirs  # a dependency of black's too; imported only when needed

    return Path(platformdirs.user_cache_dir("gradgen", appauthor=False))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_digest(path: str | os.PathLike) -> str | None:
    """The SHA-256 of a file's bytes, or None if it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return sha256(handle.read())
    except OSError:
        return None


def _code_digest() -> str:
    """A digest of gradgen's own modules and templates: an edited checkout (or a new
    install of the same version) never reads an entry written by other code."""
    from gradgen.codegen.template import TEMPLATE_FOLDERS  # no Jinja: the folders only

    here = Path(__file__).resolve().parent
    files = sorted(here.rglob("*.py"))  # sub-packages too (gradgen/ops)
    for where in TEMPLATE_FOLDERS:
        files += sorted(Path(where).glob("*.j2"))
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(here.parent).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _dist_version(name: str) -> str:
    """A package's installed version, read from the name of its ``.dist-info`` folder
    on ``sys.path`` (``importlib.metadata`` costs more to import than a whole cache hit
    takes); from ``importlib.metadata`` when no such folder is found."""
    wanted = re.compile(rf"^{re.escape(name)}-([^-]+)\.dist-info$", re.IGNORECASE)
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for found in names:
            match = wanted.match(found)
            if match:
                return match.group(1)
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment() -> dict:
    """What every output depends on besides the model and the options."""
    if not _environment:
        _environment.update(
            format=FORMAT,
            gradgen=__version__,
            code=_code_digest(),
            python=sys.version,
            packages={name: _dist_version(name) for name in PACKAGES},
        )
    return _environment


def key(parts: dict) -> str:
    """The digest of ``parts`` (JSON-serialisable) and of the environment."""
    text = json.dumps([environment(), parts], sort_keys=True, default=str)
    return sha256(text.encode("utf-8"))


def _path(key: str) -> Path:
    return folder() / key[:2] / (key + SUFFIX)


def _current(entry: dict, base: str | None) -> bool:
    """Whether every file the entry depends on still has the bytes it had."""
    for name, digest in entry.get("depends", {}).items():
        path = os.path.join(base, name) if base else name
        if file_digest(path) != digest:
            return False
    return True


def lookup(key: str, base: str | None = None) -> dict | None:
    """The entry stored under ``key``, if every file it depends on (names relative to
    ``base``) is unchanged; else None."""
    path = _path(key)
    try:
        with open(path, encoding="utf-8") as handle:
            entry = json.load(handle)
    except (OSError, ValueError):
        stats["misses"] += 1
        return None
    if not isinstance(entry, dict) or not _current(entry, base):
        stats["misses"] += 1
        return None
    try:
        os.utime(path)  # recently used: kept when the folder is pruned
    except OSError:
        pass
    stats["hits"] += 1
    return entry


def depends(files, base: str) -> dict:
    """{name relative to ``base``: SHA-256} for the files an entry depends on."""
    found = {}
    for path in files:
        digest = file_digest(path)
        if digest is not None:
            found[os.path.relpath(os.path.abspath(path), base)] = digest
    return found


def store(key: str, entry: dict) -> None:
    """Write ``entry`` under ``key``; a cache that cannot be written is skipped."""
    path = _path(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".entry-", suffix=".tmp", dir=path.parent)
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(entry, handle)
        os.replace(temp, path)  # atomic: a reader sees the old entry or the new one
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        if not isinstance(sys.exc_info()[1], OSError):
            raise
        return
    stats["stores"] += 1
    _prune()


def _entries() -> list[Path]:
    try:
        return [p for p in folder().glob("??/*" + SUFFIX) if p.is_file()]
    except OSError:
        return []


def _prune() -> None:
    entries = _entries()
    if len(entries) <= MAX_ENTRIES:
        return
    by_age = sorted(entries, key=lambda p: p.stat().st_mtime)
    for path in by_age[: len(entries) - KEEP]:
        try:
            path.unlink()
        except OSError:
            pass


def info() -> dict:
    """The folder, the number of entries and their size in bytes."""
    entries = _entries()
    size = 0
    for path in entries:
        try:
            size += path.stat().st_size
        except OSError:
            pass
    return {"folder": str(folder()), "entries": len(entries), "bytes": size}


def clear() -> int:
    """Remove every entry (and temporary file) of the cache; returns how many entries."""
    removed = 0
    where = folder()
    for sub in where.glob("??") if where.is_dir() else []:
        for path in sub.iterdir():
            if path.suffix in (SUFFIX, ".tmp") and path.is_file():
                try:
                    path.unlink()
                    removed += path.suffix == SUFFIX
                except OSError:
                    pass
        try:
            sub.rmdir()
        except OSError:
            pass
    return removed
