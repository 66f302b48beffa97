"""The sweep folder is the tool's own, as a results folder is (:mod:`optimiser.outdir`).

``dispatch sweep SPEC --out DIR`` writes into ``DIR``: ``rows/`` (a JSON file a case),
``cases/`` (results folders, with ``--keep-cases``), ``cases.parquet``, ``cases.csv``,
``plots/``, a copy of the spec (``spec.toml``) and the marker :data:`MARKER`. ``DIR`` must be
new, empty, or a sweep folder (it holds the marker): then the sweep resumes there. Anything else
(a folder of the user's, a results folder of ``dispatch run``, a file, a symbolic link, the
working or home folder or one that holds them) is refused before anything is read or solved.
Nothing in ``DIR`` is ever deleted: rows of cases no longer in the spec stay, unused.

Two sweeps cannot write one folder at once: the second is refused (an advisory lock on the
marker, released when the first process ends, however it ends).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO

from ..outdir import TOOL, ResultsFolderError, check_results_folder, tool_version
from ..safety import escape

#: The marker file of a sweep folder.
MARKER = ".dispatch-sweep"


class SweepFolderError(ResultsFolderError):
    """The sweep folder may not be used: it is not the tool's, cannot be written, or is in use."""


def check_sweep_folder(out_dir: str | Path) -> Path:
    """Check that ``out_dir`` may hold a sweep (see the module); nothing is written.

    A new or empty folder is checked as a results folder is
    (:func:`optimiser.outdir.check_results_folder`: not a file, a link, the working or home
    folder; a parent that can be written); a folder that holds anything must hold the marker.

    Returns
    -------
    pathlib.Path
        The folder, absolute.

    Raises
    ------
    SweepFolderError
        Naming the folder and why.
    """
    given = Path(out_dir)
    out = given.parent.resolve() / given.name if given.name not in ("", ".", "..") else given.resolve()
    name = escape(out)
    if out.is_dir() and not out.is_symlink():
        try:
            names = {p.name for p in out.iterdir()}
        except OSError as err:
            raise SweepFolderError(f"cannot read the sweep folder {name}: {escape(err.strerror)}") from None
        if names:
            if MARKER not in names:
                shown = ", ".join(escape(n) for n in sorted(names)[:5]) + (" ..." if len(names) > 5 else "")
                raise SweepFolderError(
                    f"{name} is not empty and is not a sweep folder (it has no {MARKER} marker; it holds {shown}): "
                    "choose a new or empty folder; a sweep writes only where it can resume"
                )
            _read_marker(out)
            return out
    try:
        return check_results_folder(out)
    except ResultsFolderError as err:
        raise SweepFolderError(str(err).replace("results folder", "sweep folder")) from None


def _read_marker(out: Path) -> dict:
    path = out / MARKER
    bad = SweepFolderError(f"{escape(out)} holds a {MARKER} file that dispatch did not write: choose another "
                             "folder")
    if path.is_symlink() or not path.is_file() or path.stat().st_size > 64 * 1024:
        raise bad
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, UnicodeDecodeError, ValueError):
        raise bad from None
    if not isinstance(data, dict) or data.get("tool") != TOOL:
        raise bad
    return data


def open_sweep_folder(out_dir: str | Path) -> tuple[Path, IO[str]]:
    """Check (:func:`check_sweep_folder`), create and lock the sweep folder.

    Returns
    -------
    (folder, lock)
        Keep ``lock`` open while the sweep writes; closing it (or the process ending) releases it.

    Raises
    ------
    SweepFolderError
        If the folder may not be used, or another sweep is writing it.
    """
    out = check_sweep_folder(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)  # with the permissions the umask allows
        marker = out / MARKER
        fh = open(marker, "a+", encoding="utf-8")
    except OSError as err:
        raise SweepFolderError(f"cannot write the sweep folder {escape(out)}: {escape(err.strerror or err)}") from None
    try:
        import fcntl

        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except ImportError:  # pragma: no cover - not POSIX
        pass
    except OSError:
        fh.close()
        raise SweepFolderError(f"another sweep is writing {escape(out)}: wait for it to finish, or choose another "
                                 "folder") from None
    fh.seek(0)
    if not fh.read().strip():
        fh.write(json.dumps({"tool": TOOL, "version": tool_version(),
                             "about": "a sweep folder written by 'dispatch sweep'; running the same sweep again "
                                      "here finishes it"}, indent=2) + "\n")
        fh.flush()
    return out, fh
