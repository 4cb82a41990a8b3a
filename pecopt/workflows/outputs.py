"""Output folders: marked as pecopt's, checked before any work, replaced atomically.

The rules (the README's "Output folders" says the same to users):

* **Marker.** Every folder pecopt writes holds ``manifest.json`` whose top level has
  ``"pecopt_output": {"kind", "version", "created_utc", "files", "folders"}``; ``files``
  maps each file pecopt wrote (POSIX path relative to the folder) to its size [bytes],
  ``folders`` lists the sub-folders. Workflows write their own keys to the same
  ``manifest.json`` inside :func:`atomic_dir`; the marker is added when they are done.
* **What may be replaced.** An existing ``--out`` is replaced only when it is empty, or
  when it carries the marker *and* holds nothing but the files and folders the marker
  lists, at the listed sizes. The marker alone is not enough: people put notes, plots and
  notebooks into result folders, and replacing the folder would delete them. Listing the
  files costs one ``stat`` per file and makes "nothing pecopt did not write is deleted"
  checkable. ``--out`` must not be, contain or lie inside an input (symlinks resolved,
  and same-inode aliases such as bind mounts caught).
* **Atomic swap.** The result is written to a hidden sibling
  ``.NAME.pecopt-tmp-PID-HOST-RANDOM`` and swapped with ``--out`` by Linux
  ``renameat2(RENAME_EXCHANGE)`` (kernel >= 3.15; ext4, xfs, btrfs, tmpfs, ...): a kill at
  any instant leaves the old or the new complete result at ``--out``; the old one, now at
  the temporary name, is then deleted. Where the exchange is unavailable (macOS, some
  network or FUSE file systems; Windows is untested) ``--out`` is renamed to
  ``.NAME.pecopt-old-PID-HOST-RANDOM`` and the new folder renamed into place: a kill
  between these two renames leaves no ``--out`` (the old result is at the hidden name),
  and the next run into ``--out`` renames it back before going on.
* **Lock.** The check of an existing ``--out`` and the swap run under an exclusive
  ``flock`` on ``.NAME.pecopt-lock`` beside ``--out``. It is held for milliseconds, so a
  second run waits for it (up to :data:`LOCK_TIMEOUT_S`, then a ``DataError``, exit 2,
  naming the holder); the run that swaps last leaves its result. The holder removes the
  lock file before releasing it (a waiter re-checks that it locked the file that is still
  there), so it is left behind only by a killed run and removed by the next one.
* **Leftovers.** Temporary and old folders whose process is gone (same host, same user,
  the exact naming pattern, a real folder) are removed by the next run into the same
  parent folder; an old folder is first renamed back to ``--out`` if ``--out`` is missing.
  Nothing else is ever touched.
* **Adding to a finished folder.** ``pecopt report`` writes ``report.html`` into a results
  folder after the fact (:func:`add_file`): the file and the manifest listing it are
  written through temporary files and renamed into place under the lock, and a
  ``report.html`` pecopt did not record is never replaced. A later ``solve`` into the
  folder then replaces it like any other listed file. A folder whose manifest lacks the
  marker (older or foreign) gets the file only if it has none of that name.
* **Permissions.** Folders are made with ``os.mkdir`` (``0o777 & ~umask``) and files with
  ``open`` (``0o666 & ~umask``), the user's usual permissions.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import json
import os
import platform
import re
import secrets
import shutil
import socket
import stat
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pecopt import __version__
from pecopt.errors import DataError

KINDS = (
    "solve",
    "ingest",
    "compare",
    "pareto",
    "sweep",
    "dispatch",
    "report",
    "replay",
    "alternatives",
)
MANIFEST = "manifest.json"
MARKER = "pecopt_output"
LOCK_TIMEOUT_S = 60.0
"""How long a run waits for another run's lock on the same ``--out`` [s]."""

_CHOOSE = "choose an empty or new folder"
_LEFTOVER = re.compile(
    r"^\.(?P<name>.+)\.pecopt-(?P<role>tmp|old)-(?P<pid>\d+)-(?P<host>[A-Za-z0-9_.]+)-[0-9a-f]{8}$"
)


# --------------------------------------------------------------------------- checks


def check_output(out: Path, inputs: Iterable[Path] = ()) -> Path:
    """Check, before any work, that ``out`` can become (or be replaced by) a result folder.

    Parameters
    ----------
    out
        The ``--out`` folder as the user gave it.
    inputs
        Every input file or folder of the run (scenario file, data files).

    Returns
    -------
    Path
        ``out`` with symlinks resolved: the folder that will be written.

    Raises
    ------
    DataError
        (exit 2) ``out`` is a file, lies under a file, cannot be resolved (symlink loop),
        cannot be created or replaced for lack of write permission, is a non-empty folder
        pecopt did not write, or is, contains or lies inside an input.
    """
    target = _resolve(out)
    inputs = list(inputs)
    problem = _location_problem(target)
    if problem is None and target.is_dir():
        with _lock(target, out):
            problem = _problem(target, inputs)
    elif problem is None:
        problem = _problem(target, inputs)
    if problem is not None:
        raise DataError(out, "--out", problem)
    return target


def _resolve(out: Path) -> Path:
    try:
        target = out.expanduser().resolve()
    except (RuntimeError, OSError) as exc:  # RuntimeError: symlink loop (Python < 3.13)
        raise DataError(out, "--out", f"cannot be resolved ({exc}); {_CHOOSE}") from None
    if target.parent == target:
        raise DataError(out, "--out", f"is the file-system root; {_CHOOSE}")
    return target


def _location_problem(target: Path) -> str | None:
    """File in the way, or no write permission where pecopt must create or rename."""
    try:
        if target.exists():
            if not target.is_dir():
                return f"exists and is a file, not a folder; {_CHOOSE}"
            if os.path.ismount(target):  # a mount point cannot be renamed (EBUSY)
                return "is a mount point and pecopt replaces the folder itself; use one inside it"
            for folder in (target.parent, target):
                if not os.access(folder, os.W_OK | os.X_OK):
                    return f"{folder} is not writable; {_CHOOSE}"
            return None
        ancestor = target.parent
        while not ancestor.exists():
            ancestor = ancestor.parent
        if not ancestor.is_dir():
            return f"{ancestor} is a file, so the folder cannot be made there; {_CHOOSE}"
        if not os.access(ancestor, os.W_OK | os.X_OK):
            return f"cannot be made: {ancestor} is not writable; {_CHOOSE}"
    except OSError as exc:
        return f"cannot be checked ({exc.strerror}); {_CHOOSE}"
    return None


def _problem(target: Path, inputs: list[Path]) -> str | None:
    """Input overlap or foreign content (call under the lock when ``target`` exists)."""
    try:
        return _input_problem(target, inputs) or (_foreign(target) if target.is_dir() else None)
    except OSError as exc:
        return f"cannot be checked ({exc.strerror}: {exc.filename or target}); {_CHOOSE}"


def _identity(p: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(p)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _input_problem(target: Path, inputs: list[Path]) -> str | None:
    """``target`` is, contains, or lies inside an input."""
    tid = _identity(target)
    for p in inputs:
        real = Path(os.path.realpath(p.expanduser()))
        chain = [real, *real.parents]
        if target == real or (tid is not None and tid == _identity(real)):
            return f"is the input {p}; {_CHOOSE}"
        if target in chain or (tid is not None and tid in map(_identity, chain)):
            return f"contains the input {p}; pecopt would replace it: {_CHOOSE}"
        if real.is_dir() and real in target.parents:
            return f"lies inside the input folder {p}; choose a folder outside it"
    return None


def _empty(folder: Path) -> bool:
    with os.scandir(folder) as entries:
        return next(entries, None) is None


def _listed(target: Path) -> tuple[dict[str, int], set[str]] | None:
    """Files [bytes] and folders the marker of ``target/manifest.json`` lists, if any."""
    path = target / MANIFEST
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    marker = data.get(MARKER) if isinstance(data, dict) else None
    if not isinstance(marker, dict) or not isinstance(marker.get("files"), dict):
        return None
    files = {k: v for k, v in marker["files"].items() if isinstance(v, int)}
    folders = {f for f in marker.get("folders", []) if isinstance(f, str)}
    return files, folders


def _raise(exc: OSError) -> None:
    raise exc


def _foreign(target: Path) -> str | None:
    """Why the existing folder ``target`` may not be replaced (None: it may)."""
    if _empty(target):
        return None
    listed = _listed(target)
    if listed is None:
        return (
            f"is not empty and is not a pecopt output folder (no {MANIFEST} with "
            f'"{MARKER}"); pecopt never deletes what it did not write: {_CHOOSE}'
        )
    files, folders = listed
    extra: list[str] = []
    changed: list[str] = []
    for dirpath, dirnames, filenames in os.walk(target, onerror=_raise):
        rel = Path(dirpath).relative_to(target)
        keep = []
        for d in dirnames:
            name = (rel / d).as_posix()
            if Path(dirpath, d).is_symlink() or name not in folders:
                extra.append(name + "/")
            else:
                keep.append(d)
        dirnames[:] = keep
        for f in filenames:
            name = (rel / f).as_posix()
            if name == MANIFEST:
                continue
            st = os.lstat(Path(dirpath, f))
            if name not in files or not stat.S_ISREG(st.st_mode):
                extra.append(name)
            elif st.st_size != files[name]:
                changed.append(name)
    if extra:
        return (
            f"holds {len(extra)} file(s) pecopt did not write ({', '.join(sorted(extra)[:3])}"
            f"{', ...' if len(extra) > 3 else ''}); move them out or {_CHOOSE}"
        )
    if changed:
        return (
            f"holds file(s) changed since pecopt wrote them ({', '.join(sorted(changed)[:3])}"
            f"{', ...' if len(changed) > 3 else ''}); move them out or {_CHOOSE}"
        )
    return None


# --------------------------------------------------------------------------- writing


@contextlib.contextmanager
def atomic_dir(out: Path, kind: str, inputs: Iterable[Path] = ()) -> Iterator[Path]:
    """Yield an empty temporary folder; when the block ends without error, mark it as a
    pecopt output of ``kind`` and swap it into ``out`` atomically.

    The caller writes its files and, optionally, ``manifest.json`` (a JSON object) into
    the yielded folder; the ``pecopt_output`` marker is added to it afterwards. On any
    error (including a refusal found when ``out`` is checked again under the lock) the
    temporary folder is removed and ``out`` is left as it was.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown output kind {kind!r}; one of {KINDS}")
    inputs = list(inputs)
    target = check_output(out, inputs)
    tmp = _sibling(target, "tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_dead(target.parent)  # at the start too: a killed run's folder may be large
        os.mkdir(tmp)
    except OSError as exc:
        raise DataError(out, "--out", f"cannot be made ({exc.strerror}); {_CHOOSE}") from None
    old: Path | None = None
    try:
        yield tmp
        _stamp(tmp, kind)
        _fsync_tree(tmp)
        _remove_dead(target.parent)
        with _lock(target, out):
            _recover(target)
            if _resolve(out) != target:
                raise DataError(out, "--out", "was moved or re-linked during the run; run again")
            problem = _location_problem(target) or _problem(target, inputs)
            if problem is not None:
                raise DataError(out, "--out", problem)
            try:
                old = _replace(tmp, target)
            except OSError as exc:
                raise DataError(
                    out, "--out", f"could not be replaced ({exc.strerror}); it is unchanged"
                ) from None
        _fsync_dir(target.parent)
    finally:
        for p in (tmp, old):
            if p is not None and os.path.lexists(p):
                shutil.rmtree(p, ignore_errors=True)


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname()) or "host"


def _sibling(target: Path, role: str) -> Path:
    """``.NAME.pecopt-ROLE-PID-HOST-RANDOM`` beside ``target`` (matches ``_LEFTOVER``)."""
    name = f".{target.name}.pecopt-{role}-{os.getpid()}-{_host()}-{secrets.token_hex(4)}"
    return target.parent / name


def _stamp(folder: Path, kind: str) -> None:
    """Add the ``pecopt_output`` marker, listing every file and folder, to the manifest."""
    path = folder / MANIFEST
    extra: Any = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    if not isinstance(extra, dict):
        raise TypeError(f"{MANIFEST} must hold a JSON object, not {type(extra).__name__}")
    files: dict[str, int] = {}
    folders: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        rel = Path(dirpath).relative_to(folder)
        folders += [(rel / d).as_posix() for d in dirnames]
        files |= {(rel / f).as_posix(): os.lstat(Path(dirpath, f)).st_size for f in filenames}
    files.pop(MANIFEST, None)
    extra.pop(MARKER, None)
    marker = {
        "kind": kind,
        "version": __version__,
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "files": dict(sorted(files.items())),
        "folders": sorted(folders),
    }
    path.write_text(json.dumps({MARKER: marker, **extra}, indent=2, default=str) + "\n")


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # some systems cannot open or fsync a folder
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_tree(folder: Path) -> None:
    """Flush every file and folder, so that the swap never exposes unwritten data."""
    for dirpath, _, filenames in os.walk(folder):
        for f in filenames:
            fd = os.open(Path(dirpath, f), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))


def _replace(tmp: Path, target: Path) -> Path | None:
    """Put ``tmp`` at ``target``; return the path now holding the old result, if any."""
    if not target.exists() or _empty(target):
        os.rename(tmp, target)  # replaces an empty folder in one step (POSIX)
        return None
    if _exchange(tmp, target):
        return tmp
    old = _sibling(target, "old")  # the fallback: a window without `target`
    os.rename(target, old)
    try:
        os.rename(tmp, target)
    except BaseException:
        os.rename(old, target)
        raise
    return old


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_SYS_RENAMEAT2 = {"x86_64": 316, "aarch64": 276, "riscv64": 276, "ppc64le": 357, "s390x": 347}


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _libc_renameat2() -> Callable[[bytes, bytes, int], int] | None:
    """glibc >= 2.28 ``renameat2``."""
    fn = getattr(_libc(), "renameat2", None)
    if fn is None:
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return lambda a, b, flags: int(fn(_AT_FDCWD, a, _AT_FDCWD, b, flags))


def _syscall_renameat2() -> Callable[[bytes, bytes, int], int] | None:
    """``syscall(SYS_renameat2, ...)`` for older C libraries."""
    libc, nr = _libc(), _SYS_RENAMEAT2.get(platform.machine())
    if libc is None or nr is None:
        return None
    sc = libc.syscall
    sc.restype = ctypes.c_long
    c_int, c_str, c_uint = ctypes.c_int, ctypes.c_char_p, ctypes.c_uint
    return lambda a, b, flags: int(
        sc(ctypes.c_long(nr), c_int(_AT_FDCWD), c_str(a), c_int(_AT_FDCWD), c_str(b), c_uint(flags))
    )


@functools.cache
def _renameat2() -> Callable[[bytes, bytes, int], int] | None:
    return _libc_renameat2() or _syscall_renameat2()


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one step; False where the OS or file system cannot."""
    fn = _renameat2()
    if fn is None:
        return False
    if fn(os.fsencode(a), os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


# --------------------------------------------------------------------------- adding a file


def add_file(folder: Path, name: str, make: Callable[[], str]) -> Path:
    """Write ``folder/name`` with the text ``make()`` returns, keeping the pecopt output
    folder that holds ``folder`` a valid one: the file is listed in its manifest.

    The owner is the nearest of ``folder`` and its parents whose ``manifest.json`` has the
    marker; it must list ``folder`` (``variants/base`` of a comparison, ``points/3`` of a
    front). Then, under the owner's lock: the manifest must be the one read before
    ``make()`` ran (else the folder was replaced meanwhile), an existing ``folder/name``
    must be listed at its size (pecopt wrote it), and the new manifest and the new file,
    written to a temporary sibling folder of the owner, are renamed into place in that
    order (a kill between the two renames leaves the file missing or, when it was being
    replaced, at a size the manifest does not list: a later run refuses the folder, and
    nothing is lost).

    Without an owner (a folder pecopt cannot tell it wrote: no marker, or one that does
    not list ``folder``), the file is written only if there is none of that name: it is
    written to a temporary file and hard-linked to ``name``, which fails if ``name``
    exists. Nothing else is touched and no manifest is made.

    Raises
    ------
    DataError
        (exit 2) ``folder/name`` exists and pecopt did not write it, or was changed since;
        the folder was replaced while ``make()`` ran; or it cannot be written. Whatever
        ``make()`` raises propagates, with nothing written.
    """
    folder = Path(folder)
    path = folder / name
    owner = _owner(folder)
    if owner is None:
        if os.path.lexists(path):  # refused before the work (checked again when linking)
            raise DataError(path, "-", _NOT_REPLACED)
        return _create(path, make())
    root, rel = owner
    key = (rel / name).as_posix()
    target = root / rel / name  # symlinks resolved: the file the manifest lists
    changed = DataError(root, "-", "was replaced or changed meanwhile; run again")
    try:
        before = (root / MANIFEST).read_bytes()
        manifest = json.loads(before.decode("utf-8"))
        files: dict[str, int] = manifest[MARKER]["files"]
    except (OSError, ValueError, KeyError, TypeError):
        raise changed from None
    problem = _not_ours(target, files.get(key))  # before the work; again under the lock
    if problem is not None:
        raise DataError(path, "-", f"{problem}; move it out and run again")
    text = make()
    _remove_dead(root.parent)
    tmp = _sibling(root, "tmp")
    try:
        os.mkdir(tmp)
    except OSError as exc:
        raise DataError(path, "-", f"cannot write ({exc.strerror}: {root.parent})") from None
    try:
        with open(tmp / name, "x", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        size = (tmp / name).stat().st_size
        with _lock(root, root):
            if (root / MANIFEST).read_bytes() != before:
                raise changed
            problem = _not_ours(target, files.get(key))
            if problem is not None:
                raise DataError(path, "-", f"{problem}; move it out and run again")
            files[key] = size
            manifest[MARKER]["files"] = dict(sorted(files.items()))
            with open(tmp / MANIFEST, "x", encoding="utf-8") as f:
                f.write(json.dumps(manifest, indent=2, default=str) + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.rename(tmp / MANIFEST, root / MANIFEST)
            try:
                os.rename(tmp / name, target)
            except BaseException:
                (tmp / MANIFEST).write_bytes(before)
                os.rename(tmp / MANIFEST, root / MANIFEST)
                raise
            _fsync_dir(target.parent)
            _fsync_dir(root)
    except OSError as exc:
        raise DataError(path, "-", f"cannot write: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def _owner(folder: Path) -> tuple[Path, Path] | None:
    """The pecopt output folder that lists ``folder`` and the path of ``folder`` in it."""
    try:
        real = folder.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    for root in (real, *real.parents):
        listed = _listed(root)
        if listed is None:
            continue
        rel = real.relative_to(root)
        return (root, rel) if rel == Path(".") or rel.as_posix() in listed[1] else None
    return None


def _not_ours(path: Path, listed_size: int | None) -> str | None:
    """Why an existing ``path`` may not be replaced (None: it may, or it does not exist)."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return None
    if listed_size is None or not stat.S_ISREG(st.st_mode):
        return f"exists and pecopt did not write it (it is not in the folder's {MANIFEST})"
    if st.st_size != listed_size:
        return "was changed since pecopt wrote it"
    return None


_NOT_REPLACED = (
    f"exists in a folder pecopt cannot tell it wrote (no {MANIFEST} with "
    f'"{MARKER}" listing it), so it is not replaced: move it out and run again'
)


def _create(path: Path, text: str) -> Path:
    """Write ``path`` through a temporary file and a hard link, never replacing a file."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    refused = _NOT_REPLACED
    try:
        with open(tmp, "x", encoding="utf-8") as f:
            f.write(text)
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise DataError(path, "-", refused) from None
        except OSError as exc:  # no hard links here (some FUSE or FAT file systems)
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK):
                raise
            if os.path.lexists(path):
                raise DataError(path, "-", refused) from None
            os.rename(tmp, path)
    except OSError as exc:
        raise DataError(path, "-", f"cannot write: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return path


# --------------------------------------------------------------------------- lock, leftovers


@contextlib.contextmanager
def _lock(target: Path, out: Path) -> Iterator[None]:
    """Hold the exclusive lock on ``.NAME.pecopt-lock`` beside ``target``."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows): no lock
        yield
        return
    path = target.parent / f".{target.name}.pecopt-lock"
    timeout_s = LOCK_TIMEOUT_S
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise DataError(out, "--out", f"cannot lock {path} ({exc.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            if time.monotonic() > deadline:
                raise DataError(
                    out,
                    "--out",
                    f"another pecopt run ({holder}) has held {path} for over {timeout_s:g} s; "
                    "nothing was written: wait for it to finish or choose another folder",
                ) from None
            time.sleep(0.05)
            continue
        if _identity(path) == (os.fstat(fd).st_dev, os.fstat(fd).st_ino):
            break
        os.close(fd)  # the previous holder removed the file: lock the one now there
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode())
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _leftovers(parent: Path) -> list[tuple[Path, re.Match[str]]]:
    """Folders of pecopt runs on this host, by this user, whose process is gone."""
    host = _host()
    found = []
    with contextlib.suppress(OSError), os.scandir(parent) as entries:
        for e in entries:
            m = _LEFTOVER.match(e.name)
            if m is None or m["host"] != host or not e.is_dir(follow_symlinks=False):
                continue
            if hasattr(os, "getuid") and e.stat(follow_symlinks=False).st_uid != os.getuid():
                continue
            if not _alive(int(m["pid"])):
                found.append((Path(e.path), m))
    return found


def _remove_dead(parent: Path) -> None:
    """Delete the temporary folders that killed runs left in ``parent``."""
    for path, m in _leftovers(parent):
        if m["role"] == "tmp":
            shutil.rmtree(path, ignore_errors=True)


def _recover(target: Path) -> None:
    """(Under the lock.) Put back an old result a killed fallback swap left hidden, then
    delete the other old results of ``target``."""
    olds = [
        p for p, m in _leftovers(target.parent) if m["role"] == "old" and m["name"] == target.name
    ]
    olds.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    if olds and (not target.exists() or (target.is_dir() and _empty(target))):
        os.rename(olds.pop(0), target)
    for p in olds:
        shutil.rmtree(p, ignore_errors=True)
