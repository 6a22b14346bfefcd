"""Every file pimdsl's tools write goes through here: nothing the user gave is ever lost.

    with output.session("pim-opt") as out:
        out.protect(input_path, "input file")
        ...                                    # the command's work
        output.write_text(path, "-o", text)    # staged: a scratch file next to `path`
        out.commit()                           # only now are the scratch files renamed

Rules, for every writer (IR `-o`, `--report`, `pim-run --output` and `--stats`, the GA's
`trace=` and `plot=`, emitted asm/json):

- an output never names an input: the input file, `--input`, a chip file or the weight file a
  module names (`pim.weights`) are *protected*, compared by resolved path and by inode (a hard
  link or a symlink to an input is refused too), when the output is staged and again just
  before the rename, so a protection learnt late (the weight file is known only after parsing)
  still holds;
- a regular file is written to a scratch file in the same folder and renamed over the target
  only by `commit()`, i.e. after the whole command succeeded; a failing or interrupted command
  (an exception, Ctrl-C, SIGTERM) removes its scratch files and leaves every existing file as
  it was;
- a character device or a pipe (`/dev/null`, `/dev/stdout`) is written through at commit time;
  a failed write there (`/dev/full`) is a `PimError` naming the option and the path.

Without a session (library use, tests) each write is committed at once, still atomically.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from pimdsl.errors import PimError

SCRATCH_PREFIX = ".pimdsl-"
SCRATCH_SUFFIX = ".tmp"


@dataclass
class _Staged:
    path: str  # as the user gave it
    option: str  # "-o", "--report", "trace=", ...
    scratch: str | None  # the scratch file of a regular file; None: write through at commit
    data: bytes | None  # the bytes of a write-through target


class Outputs:
    """The protected inputs and the staged outputs of one command."""

    def __init__(self, tool: str):
        self.tool = tool
        self._protected: list[tuple[str, tuple[int, int] | None, str, str]] = []
        self._staged: list[_Staged] = []
        self._pid = os.getpid()

    # --- protection -------------------------------------------------------------------------

    def protect(self, path: str | os.PathLike[str] | None, role: str) -> None:
        """Never write over `path` (an input, `role` says which, e.g. "weight file")."""
        if path is None or os.fspath(path) in ("", "-"):
            return
        text = os.fspath(path)
        self._protected.append((os.path.realpath(text), _file_id(text), role, text))

    def _protector(self, path: str) -> tuple[str, str] | None:
        """(role, path as given) of the protected file `path` would overwrite, if any."""
        real, ident = os.path.realpath(path), _file_id(path)
        for p_real, p_id, role, given in self._protected:
            if real == p_real or (ident is not None and ident == p_id):
                return role, given
        return None

    # --- checks -------------------------------------------------------------------------------

    def check(self, path: str | os.PathLike[str], option: str) -> None:
        """PimError unless `option`'s file `path` can be written: called early (before long
        work) and again when the file is staged and committed."""
        text = os.fspath(path)
        if text == "":
            raise PimError(
                f"{option} was given an empty file name.",
                hint=f"Give a file name, e.g. {option} out{_suffix_hint(option)}.",
            )
        hit = self._protector(text)
        if hit is not None:
            role, given = hit
            raise PimError(
                f"refusing to overwrite the {role} '{given}' with {option} '{text}': this "
                "command reads it; nothing was written.",
                hint="Choose another output file.",
            )
        if os.path.isdir(text):
            raise PimError(
                f"{option} '{text}' is a folder; give a file name, e.g. "
                f"{os.path.join(text, 'out' + _suffix_hint(option))}."
            )
        if _is_regular_target(text):
            folder = os.path.dirname(os.path.abspath(text))
            if not os.path.isdir(folder):
                raise PimError(
                    f"cannot write {option} '{text}': the folder '{folder}' does not exist.",
                    hint="Create it first, or choose another folder.",
                )
        for other in self._staged:
            if other.option != option and os.path.realpath(other.path) == os.path.realpath(text):
                raise PimError(
                    f"{option} '{text}' and {other.option} '{other.path}' name the same "
                    "file; give each output its own file."
                )

    # --- staging and committing ----------------------------------------------------------------

    def stage(self, path: str | os.PathLike[str], option: str, data: bytes) -> None:
        """Write `data` for `path` into a scratch file next to it (renamed at commit)."""
        text = os.fspath(path)
        self.check(text, option)
        for other in list(self._staged):  # the same output written twice: the last one wins
            if other.option == option and other.path == text:
                self._drop(other)
        if not _is_regular_target(text):  # /dev/null, /dev/stdout, a pipe: write through later
            self._staged.append(_Staged(text, option, None, data))
            return
        folder = os.path.dirname(os.path.abspath(text))
        try:
            fd, scratch = tempfile.mkstemp(prefix=SCRATCH_PREFIX, suffix=SCRATCH_SUFFIX, dir=folder)
        except OSError as exc:
            raise _write_error(option, text, exc) from None
        entry = _Staged(text, option, scratch, None)
        self._staged.append(entry)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        except OSError as exc:
            self._drop(entry)
            raise _write_error(option, text, exc) from None

    def commit(self) -> None:
        """The command succeeded: move every staged output into place (checked once more)."""
        for entry in self._staged:
            self.check(entry.path, entry.option)
        # write-through targets (/dev/full can fail) before any rename replaces a file
        self._staged.sort(key=lambda e: e.scratch is not None)
        while self._staged:
            entry = self._staged[0]
            try:
                if entry.scratch is None:
                    with open(entry.path, "wb") as f:
                        f.write(entry.data or b"")
                else:
                    os.chmod(entry.scratch, 0o666 & ~_umask())  # mkstemp makes it private
                    os.replace(entry.scratch, entry.path)
            except OSError as exc:
                self.discard()
                raise _write_error(entry.option, entry.path, exc) from None
            self._staged.pop(0)

    def discard(self) -> None:
        """Remove every scratch file; nothing existing is touched."""
        if os.getpid() != self._pid:  # a forked worker never cleans up its parent's files
            return
        for entry in list(self._staged):
            self._drop(entry)

    def _drop(self, entry: _Staged) -> None:
        if entry.scratch is not None:
            with contextlib.suppress(OSError):
                os.unlink(entry.scratch)
        self._staged.remove(entry)

    @property
    def pending(self) -> list[str]:
        return [e.path for e in self._staged]


_current: Outputs | None = None


def current() -> Outputs | None:
    return _current


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through `session`, which removes scratch files


@contextlib.contextmanager
def session(tool: str) -> Iterator[Outputs]:
    """The outputs of one command. Whatever is not committed when the block ends (an error, an
    interrupt, SIGTERM) is discarded."""
    global _current
    previous_outputs = _current
    outputs = Outputs(tool)
    _current = outputs
    previous_handler = None
    with contextlib.suppress(ValueError):  # only the main thread may set signal handlers
        previous_handler = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield outputs
    finally:
        outputs.discard()
        _current = previous_outputs
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)


BROKEN_PIPE_NOTE = (
    "standard output was closed before the command finished (broken pipe), so it stopped early "
    "and wrote none of its output files; run it again without cutting its output short "
    "(e.g. without `| head`)."
)


def check(path: str | os.PathLike[str], option: str) -> None:
    """Early check of an output path against the current session (or just the file system)."""
    (_current or Outputs("pimdsl")).check(path, option)


def protect(path: str | os.PathLike[str] | None, role: str) -> None:
    """Protect an input in the current session (no-op without one)."""
    if _current is not None:
        _current.protect(path, role)


def write_bytes(path: str | os.PathLike[str], option: str, data: bytes) -> None:
    """Stage `data` for `path` in the current session, or write it atomically at once."""
    if _current is not None:
        _current.stage(path, option, data)
        return
    once = Outputs("pimdsl")
    try:
        once.stage(path, option, data)
        once.commit()
    finally:
        once.discard()


def write_text(path: str | os.PathLike[str], option: str, text: str) -> None:
    write_bytes(path, option, text.encode("utf-8"))


# --- helpers ----------------------------------------------------------------------------------


def _file_id(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return (st.st_dev, st.st_ino)


def _is_regular_target(path: str) -> bool:
    """True unless `path` exists and is a device, pipe or socket (written through)."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return True
    return stat.S_ISREG(mode) or stat.S_ISDIR(mode)


def _write_error(option: str, path: str, exc: OSError) -> PimError:
    reason = (exc.strerror or str(exc)).rstrip(".")
    return PimError(
        f"cannot write {option} '{path}': {reason}; nothing was written.",
        hint="Choose a file in a folder you can write to, on a device with free space.",
    )


def _suffix_hint(option: str) -> str:
    return {
        "--report": ".json",
        "--stats": ".json",
        "--output": ".npy",
        "trace=": ".json",
        "plot=": ".png",
    }.get(option, ".mlir")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def scratch_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Scratch files left in `folder` (for tests: there must be none)."""
    return sorted(Path(folder).glob(f"{SCRATCH_PREFIX}*{SCRATCH_SUFFIX}"))
