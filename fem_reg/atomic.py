"""Safe writes: atomic files, outputs committed as one set, one writer per case.

* :func:`atomic_path` / :func:`write_text`: write to a temporary file beside the target, then
  rename. A crash or a bad input half-way through never leaves a half-written file, and never
  destroys the previous version. A failing write (read-only folder or file system, full
  disk) raises :class:`~fem_reg.errors.WriteError` naming the path.
* :func:`staged_outputs`: a run's outputs are written into a staging folder and moved into
  place together (signals held during the moves); a run killed while it writes leaves the
  previous set untouched, or, killed during the moves (SIGKILL), a staging folder marked
  complete that the next run on the same folder moves into place first.
* :func:`case_lock`: an exclusive lock per case name and output folder; a second run writing
  the same case into the same folder refuses with one line.
* :func:`check_writable`: refuse before any work when a folder cannot be written.

Ground floor: imports nothing from fem_reg but the errors.
"""

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
import signal
import tempfile
import threading
from pathlib import Path

from .errors import FemRegError, WriteError

HELD = (signal.SIGINT, signal.SIGTERM)
STAGING_PREFIX = ".staging-"
COMPLETE = ".complete"        # written into a staging folder once every output is in it
SETTLED = ".settled-"         # previous outputs moved aside during a commit


def _write_error(path, err):
    reason = err.strerror or str(err) or type(err).__name__
    return WriteError(f"{path}: cannot write ({reason})")


def make_dirs(folder):
    """``mkdir -p``; a failure is a :class:`WriteError` naming the folder."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise WriteError(f"{folder}: cannot create output directory "
                         f"({err.strerror or err})") from err
    return folder


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path with the same suffix beside ``path``; rename it over ``path``
    when the block succeeds, remove it when the block fails. An ``OSError`` while writing
    (EROFS, ENOSPC, EACCES, ...) becomes a :class:`WriteError` naming ``path``; so does a
    block that leaves the file empty (VTK's writers report a full disk only on stderr).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(folder / "note.txt") as tmp:
    ...     _ = tmp.write_text("done")
    >>> [p.name for p in folder.iterdir()], (folder / "note.txt").read_text()
    (['note.txt'], 'done')
    """
    path = Path(path)
    make_dirs(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}",
                                   dir=path.parent)
        os.close(fd)
    except OSError as err:
        raise _write_error(path, err) from err
    try:
        yield Path(tmp)
        if os.path.getsize(tmp) == 0:
            raise WriteError(f"{path}: cannot write (nothing was written: disk full?)")
        # mkstemp makes the file private (0600); give it the permissions an ordinary
        # open() would have had, so results can be shared like any other file.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise _write_error(path, err) from err
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def remove_stale_temporaries(folder):
    """Remove what :func:`atomic_path` leaves only when its process is killed outright
    (SIGKILL, power loss): ``.STEM.XXXX.tmpSUFFIX`` files, never renamed, so never a result.
    Call under the folder's lock (:func:`case_lock`), when no write of ours is under way.
    Returns the names removed."""
    folder = Path(folder)
    removed = []
    if not folder.is_dir():
        return removed
    for path in folder.glob(".*.tmp*"):
        if path.is_file() and re.fullmatch(r"\..+\.[A-Za-z0-9_]{8}\.tmp(\.\w+)?", path.name):
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path.name)
    return removed


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path, text):
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def check_writable(folder):
    """Create ``folder`` if needed and prove it takes a file (write, flush, remove one);
    raise :class:`WriteError` naming it otherwise. Called before a long computation whose
    results go there."""
    folder = make_dirs(folder)
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-") as handle:
            handle.write(b"fem_reg")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as err:
        raise WriteError(f"{folder}: not writable ({err.strerror or err})") from err
    return folder


def _locked_handle(path, folder, name):
    """Open ``path`` and take its lock; retry when the file was removed by the holder
    between our open and our lock (the lock would then guard nothing)."""
    while True:
        try:
            handle = open(path, "a+")
        except OSError as err:
            raise _write_error(path, err) from err
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            handle.seek(0)
            owner = handle.read().strip() or "?"
            handle.close()
            if err.errno not in (errno.EWOULDBLOCK, errno.EACCES, errno.EAGAIN):
                raise _write_error(path, err) from err
            raise FemRegError(f"{folder}: another fem-reg process (pid {owner}) is writing "
                              f"'{name}' there; wait for it or choose another --out") from None
        try:
            same = os.fstat(handle.fileno()).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return handle
        handle.close()


@contextlib.contextmanager
def case_lock(folder, name):
    """Hold ``FOLDER/.NAME.lock`` exclusively for the block (``flock``: released by the
    system when the process dies, SIGKILL included, so a stale lock never blocks); the
    file is removed when the block ends."""
    folder = make_dirs(folder)
    path = folder / f".{name}.lock"
    handle = _locked_handle(path, folder, name)
    try:
        with contextlib.suppress(OSError):
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        handle.close()


@contextlib.contextmanager
def signals_held():
    """Hold SIGINT and SIGTERM for the block and deliver them when it ends: a commit is not
    cut in two, and an interrupt inside VTK's module loader is not turned into an
    ImportError. In the main thread the Python handlers are swapped for one that records the
    signal (a signal mask alone is not enough: the kernel may hand the signal to another
    thread, and Python then runs its handler in the main thread all the same); elsewhere the
    thread's signal mask holds them."""
    if threading.current_thread() is not threading.main_thread():
        previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, HELD)
        try:
            yield
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)
        return
    pending = []
    previous = {number: signal.getsignal(number) for number in HELD}
    for number in HELD:
        signal.signal(number, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if pending:
            signal.raise_signal(pending[0])     # now, to the handler the program had


def _commit(stage, folder):
    """Move every entry of a complete staging folder into ``folder`` with the signals held,
    then remove it; a failing move is a :class:`WriteError` naming the folder."""
    try:
        with signals_held():
            for entry in sorted(stage.iterdir()):
                if entry.name == COMPLETE or entry.name.startswith(SETTLED):
                    continue
                target = folder / entry.name
                if target.is_dir() and not target.is_symlink():
                    # a folder (a PVD's steps) is replaced whole: the old one moves aside
                    os.replace(target, stage / f"{SETTLED}{entry.name}")
                os.replace(entry, target)
    except OSError as err:
        raise _write_error(folder, err) from err
    shutil.rmtree(stage, ignore_errors=True)


def recover_staging(folder, name):
    """Finish or discard what an earlier run on ``folder`` left of its staging for ``name``:
    a complete set is moved into place (the run was killed while moving it), an incomplete
    one is removed. Returns ``"committed"``, ``"discarded"`` or None."""
    stage = Path(folder) / f"{STAGING_PREFIX}{name}"
    if not stage.is_dir():
        return None
    if (stage / COMPLETE).is_file():
        _commit(stage, Path(folder))
        return "committed"
    shutil.rmtree(stage, ignore_errors=True)
    return "discarded"


@contextlib.contextmanager
def staged_outputs(folder, name):
    """Yield a staging folder for the outputs of case ``name``; when the block succeeds,
    move them into ``folder`` together. A failure or an interrupt removes the staging
    folder and leaves ``folder`` as it was. Call :func:`recover_staging` first (under
    :func:`case_lock`)."""
    folder = make_dirs(folder)
    stage = folder / f"{STAGING_PREFIX}{name}"
    shutil.rmtree(stage, ignore_errors=True)
    make_dirs(stage)
    try:
        yield stage
        entries = sorted(p.name for p in stage.iterdir())
        write_text(stage / COMPLETE, json.dumps(entries))
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    _commit(stage, folder)


def relocate(paths, stage, folder):
    """The final locations of files written under ``stage`` (as strings)."""
    stage, folder = Path(stage), Path(folder)
    return [str(folder / Path(p).relative_to(stage)) for p in paths]
