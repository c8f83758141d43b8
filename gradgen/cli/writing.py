"""Writing outputs without losing a file: what ``compile``, ``latex``, ``graph`` and
``--emit-test`` write goes through here.

``check_outputs(outputs, inputs)`` refuses, before anything runs, an output that is an
input of the run (the same file by device and inode, however it is spelled), exists and is
not a regular file (a folder, device, FIFO, socket, or a symbolic link: name the file it
points to instead), is read-only, lies under a file where a folder should be, or is
written twice by one run. ``write(path, data, inputs)`` checks again and writes to a
temporary file in the same folder, then renames it over the output: a replaced file keeps
its permission bits, and a failed or interrupted write leaves the old file as it was.
Temporary files are named ``.gradgen-<pid>-<random>.tmp``; they are removed on the way
out of any exception (SIGTERM becomes one, see ``process``), and a later run writing to
the same folder removes those whose process is gone (SIGKILL).

Test-only: with GRADGEN_TEST_HOLD_WRITE=1 in the environment, ``write`` prints
``gradgen: holding <temporary file>`` on stderr once the temporary file is written, and
waits 60 s before renaming it, so a test can signal the process at that moment.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
import sys
import tempfile
import time

from gradgen.errors import GradgenError

HOLD_ENV = "GRADGEN_TEST_HOLD_WRITE"
_TEMP = re.compile(r"^\.gradgen-(\d+)-[^.]+\.tmp$")
_KINDS = [
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
]


def _identity(path: str) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _inputs(paths) -> dict:
    found = {}
    for path in paths:
        key = _identity(path)
        if key is not None:
            found.setdefault(key, path)
    return found


def _refuse(shown: str, message: str, hint: str) -> GradgenError:
    return GradgenError(message, shown, hint=hint)


def _check_folder(shown: str) -> None:
    """What exists of the folders above ``shown`` must be folders."""
    parent = os.path.dirname(shown)
    while parent and not os.path.lexists(parent) and parent != os.path.dirname(parent):
        parent = os.path.dirname(parent)
    if parent and not os.path.isdir(parent):
        raise _refuse(
            shown,
            f"cannot write {shown}: {parent} is not a folder",
            "choose a file in a folder with -o",
        )


def check_output(path: str, inputs: dict, what: str = "output", shown=None) -> None:
    """Refuse to write ``path`` (see the module docstring), named ``shown`` in the
    message; ``inputs`` maps the identity of each input file to its name."""
    shown = path if shown is None else shown
    path = os.path.abspath(path)
    _check_folder(path if os.path.isabs(shown) else shown)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise _refuse(shown, f"cannot write: {exc.strerror}", "choose another -o")
    if stat.S_ISLNK(st.st_mode):
        target = os.path.realpath(path)
        hint = f"to write the file it points to, name it: -o {shlex.quote(target)}"
        if os.path.exists(target) and not os.path.isfile(target):
            hint = "it points to what is not a regular file; choose a file name with -o"
        raise _refuse(
            shown,
            f"the {what} is a symbolic link (to {target}); gradgen does not write "
            "through links",
            hint,
        )
    for test, kind in _KINDS:
        if test(st.st_mode):
            raise _refuse(
                shown,
                f"the {what} is {kind}, not a regular file",
                "gradgen writes only regular files; choose a file name with -o",
            )
    source = inputs.get((st.st_dev, st.st_ino))
    if source is not None:
        raise _refuse(
            shown,
            f"the {what} would overwrite {source}, an input of this run",
            "choose another output with -o",
        )
    if not st.st_mode & 0o222 or not os.access(path, os.W_OK):
        raise _refuse(
            shown,
            f"the {what} exists and is read-only",
            "make it writable (chmod u+w) or choose another output with -o",
        )


def check_outputs(outputs: list[tuple[str, str, str]], inputs) -> None:
    """``outputs``: (output as shown, what it is, the input it comes from); refuse them
    all before anything is written if one cannot be written, or two are one file."""
    known = _inputs(inputs)
    seen: dict[str, str] = {}
    for shown, what, source in outputs:
        if shown == "":
            raise GradgenError(
                "the output name is empty",
                hint="name a file with -o, or leave -o out for the default",
            )
        check_output(shown, known, what)
        key = os.path.normcase(os.path.realpath(shown))
        if key in seen and seen[key] != source:
            raise _refuse(
                shown,
                f"{seen[key]} and {source} would both be written to this file",
                "compile them one at a time, each with its own -o",
            )
        if key in seen:
            raise _refuse(
                shown, "this file would be written twice", "choose another -o"
            )
        seen[key] = source


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: someone else's process
        return True
    return True


def remove_stale(folder: str) -> None:
    """Remove the temporary files left in ``folder`` by gradgen processes now gone."""
    if os.name != "posix":  # os.kill(pid, 0) is not a probe on Windows
        return
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        found = _TEMP.match(name)
        if found and int(found.group(1)) != os.getpid() and not _alive(int(found[1])):
            try:
                os.unlink(os.path.join(folder, name))
            except OSError:
                pass


def _mode(path: str) -> int:
    """The permission bits to give the new file: the replaced file's, or what ``open``
    would give a new one."""
    try:
        st = os.stat(path)
        if stat.S_ISREG(st.st_mode):
            return stat.S_IMODE(st.st_mode) & 0o777
    except OSError:
        pass
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _unwritable(shown: str, exc: OSError) -> GradgenError:
    return GradgenError(
        f"cannot write {shown}: {exc.strerror}",
        shown,
        hint="choose a writable file with -o",
    )


def write(path: str, data: str | bytes, inputs=(), shown: str | None = None) -> None:
    """Write ``data`` to ``path`` through a temporary file (see the module docstring);
    ``shown``: the name to use in messages (default ``path``)."""
    shown = path if shown is None else shown
    path = os.path.abspath(path)
    check_output(path, _inputs(inputs), shown=shown)
    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, exist_ok=True)
        remove_stale(folder)
        prefix = f".gradgen-{os.getpid()}-"
        fd, temp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=folder)
    except OSError as exc:
        raise _unwritable(shown, exc) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data if isinstance(data, bytes) else data.encode("utf-8"))
        os.chmod(temp, _mode(path))
        if os.environ.get(HOLD_ENV) == "1":
            print(f"gradgen: holding {temp}", file=sys.stderr, flush=True)
            time.sleep(60)
        os.replace(temp, path)
    except OSError as exc:
        _remove(temp)
        raise _unwritable(shown, exc) from None
    except BaseException:
        _remove(temp)
        raise


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
