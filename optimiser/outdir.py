"""Results folders are the tool's own: which folder ``--out`` may replace, and the marker.

A results folder holds what a run wrote and nothing else: ``dispatch.csv``, ``summary.json``
and the marker file :data:`MARKER` (``.dispatch-results``), a small JSON file naming the tool,
its version and the files it wrote. Writing replaces the whole folder (see
:func:`optimiser.results.write_results`), so before anything is read or solved
:func:`check_results_folder` makes sure that replacing it deletes nothing the tool did not
write. It refuses, naming the folder and the reason:

* a path that is a file, a symbolic link, the working or home folder or one that holds them;
* an existing folder that is not empty and holds no marker (a folder of the user's: documents,
  a scenario, input CSVs), unless it is a results folder written before markers existed
  (exactly ``dispatch.csv`` and a ``summary.json`` of this tool);
* a marked folder that also holds a file or folder the marker does not list (the user put it
  there; the tool never deletes it, so it refuses instead of replacing the folder around it);
* a folder whose parent cannot be written (or created): found out before the solve, not after.

Folders and files are created with the permissions the umask allows (``0777 & ~umask`` and
``0666 & ~umask``), like any other program's.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from .errors import DispatchError
from .safety import escape

#: The marker file of a results folder.
MARKER = ".dispatch-results"

#: What the marker names as the tool that wrote the folder.
TOOL = "dispatch-optimiser"

#: The files a legacy results folder (one written before markers existed) may hold.
LEGACY_FILES = frozenset({"dispatch.csv", "summary.json"})

_MARKER_MAX_BYTES = 64 * 1024
_SUMMARY_MAX_BYTES = 64 * 1024 * 1024


class ResultsFolderError(DispatchError):
    """The results folder may not be written: it is not the tool's, or cannot be written."""


def tool_version() -> str:
    """The version of the installed package (``optimiser.__version__`` if not installed)."""
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version(TOOL)
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        from . import __version__

        return __version__


def marker_text(files: Iterable[str], folders: dict[str, Iterable[str]] | None = None) -> str:
    """The content of :data:`MARKER` for a folder holding ``files`` (names, the marker excluded)
    and, if given, the sub-folders the tool wrote with the files each holds (``{"figures":
    ["dispatch-week.png", ...]}``: a report's figures)."""
    data: dict = {"tool": TOOL, "version": tool_version(), "files": sorted(files)}
    if folders:
        data["folders"] = {k: sorted(v) for k, v in sorted(folders.items())}
    data["about"] = ("written by 'dispatch run' (or Results.write); the next run writing here replaces "
                     "the listed files, and refuses to if the folder holds anything else")
    return json.dumps(data, indent=2) + "\n"


def _plain_names(names: object) -> set[str] | None:
    if not isinstance(names, list) or not all(isinstance(f, str) for f in names):
        return None
    return {f for f in names if f and "/" not in f and f not in (".", "..")}


def read_marker_folders(folder: Path) -> dict[str, set[str]]:
    """The sub-folders a results folder's marker lists, with the files each holds (``{}`` if none).

    Raises
    ------
    ResultsFolderError
        If the marker is not one this tool wrote (see :func:`read_marker`).
    """
    if read_marker(folder) is None:
        return {}
    data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    out: dict[str, set[str]] = {}
    for name, files in (data.get("folders") or {}).items():
        names = _plain_names(files)
        if names is not None and _plain_names([name]):
            out[name] = names
    return out


def read_marker(folder: Path) -> set[str] | None:
    """The files a results folder's marker lists, or None if the marker is missing.

    Raises
    ------
    ResultsFolderError
        If the marker is there but is not one this tool wrote (not a small regular file holding
        a JSON object naming :data:`TOOL` and a list of file names, and optionally ``folders``,
        an object of lists of file names).
    """
    path = folder / MARKER
    if not path.exists() and not path.is_symlink():
        return None
    bad = ResultsFolderError(
        f"{escape(folder)} holds a {MARKER} file that dispatch did not write: refusing to replace the folder; "
        "choose a new or empty folder"
    )
    if path.is_symlink() or not path.is_file() or path.stat().st_size > _MARKER_MAX_BYTES:
        raise bad
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        raise bad from None
    files = _plain_names(data.get("files")) if isinstance(data, dict) else None
    if files is None or data.get("tool") != TOOL:
        raise bad
    folders = data.get("folders", {})
    if not isinstance(folders, dict) or any(_plain_names(v) is None for v in folders.values()):
        raise bad
    return files


def _is_legacy(folder: Path, names: set[str]) -> bool:
    """A results folder of a version without markers: exactly its files, a summary of ours."""
    if not names or not names <= LEGACY_FILES or "summary.json" not in names:
        return False
    if not all((folder / n).is_file() and not (folder / n).is_symlink() for n in names):
        return False
    path = folder / "summary.json"
    try:
        if path.stat().st_size > _SUMMARY_MAX_BYTES:
            return False
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(data, dict) and {"objective_usd", "solver"} <= set(data)


def _list(names: Iterable[str], most: int = 5) -> str:
    names = sorted(names)
    shown = ", ".join(escape(n) for n in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def check_results_folder(out_dir: str | Path) -> Path:
    """Check that ``out_dir`` may be (re)placed by a results folder; nothing is written.

    Parameters
    ----------
    out_dir
        The results folder asked for (``--out``).

    Returns
    -------
    pathlib.Path
        The folder, absolute (links in its parents resolved).

    Raises
    ------
    ResultsFolderError
        Naming the folder and why (see the module): not a folder, a guarded folder, a folder
        with files the tool did not write, or a parent that cannot be written or created.
    """
    given = Path(out_dir)
    out = given.parent.resolve() / given.name if given.name not in ("", ".", "..") else given.resolve()
    name = escape(out)
    if out.is_symlink():
        raise ResultsFolderError(f"{name} is a symbolic link: refusing to replace it; give the folder itself")
    if out.exists() and not out.is_dir():
        raise ResultsFolderError(f"{name} exists and is not a folder: refusing to replace it; choose a new or empty folder")
    try:
        here = Path.cwd().resolve()
    except OSError:
        here = None
    for guarded in (here, Path.home().resolve()):
        if guarded is not None and (out == guarded or out in guarded.parents):
            raise ResultsFolderError(
                f"{name} is the working or home folder, or holds it: refusing to replace it; choose a new folder"
            )
    if out.is_dir():
        try:
            names = {p.name for p in out.iterdir()}
        except OSError as err:
            raise ResultsFolderError(f"cannot read the results folder {name}: {escape(err.strerror)}") from None
        if names:
            listed = read_marker(out)
            if listed is None:
                if not _is_legacy(out, names):
                    raise ResultsFolderError(
                        f"{name} is not empty and is not a results folder (it has no {MARKER} marker; it holds "
                        f"{_list(names)}): refusing to replace it, which would delete what it holds; choose a new or "
                        "empty folder"
                    )
            else:
                folders = read_marker_folders(out)
                foreign = (names - listed - {MARKER} - set(folders)) | {
                    n for n in names & listed if (out / n).is_dir() and not (out / n).is_symlink()
                } | {n if f == "." else f"{n}/{f}" for n in names & set(folders) for f in _foreign_in(out / n, folders[n])}
                if foreign:
                    raise ResultsFolderError(
                        f"{name} is a results folder but also holds {_list(foreign)}, which dispatch did not "
                        "write: refusing to replace it, which would delete them; move them out or choose "
                        "another folder"
                    )
    _check_parent(out)
    return out


def _foreign_in(sub: Path, listed: set[str]) -> set[str]:
    """What a sub-folder the marker lists holds that the marker does not (itself, if not a plain folder)."""
    if sub.is_symlink() or not sub.is_dir():
        return {"."}
    try:
        return {p.name for p in sub.iterdir() if p.name not in listed or p.is_symlink() or not p.is_file()}
    except OSError:
        return {"."}


def _check_parent(out: Path) -> None:
    """Raise unless the folder beside which ``out``'s temporary folder goes can be written."""
    ancestor = out.parent
    while not ancestor.exists() and not ancestor.is_symlink() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ResultsFolderError(
            f"cannot create {escape(out)}: {escape(ancestor)} is not a folder"
        )
    try:  # the real test: make (and remove) a folder where the temporary results will go
        probe = tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-probe", dir=ancestor)
        os.rmdir(probe)
    except OSError as err:
        why = escape(err.strerror or err)
        if ancestor == out.parent:
            msg = f"cannot create folders in {escape(ancestor)}: {why}"
        else:
            msg = f"cannot create {escape(out.parent)}: its nearest existing parent {escape(ancestor)} cannot be written: {why}"
        raise ResultsFolderError(
            f"cannot write {escape(out)}: {msg}"
        ) from None


def umask() -> int:
    """The process's umask, read without changing it where the platform allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    old = os.umask(0o022)  # elsewhere: read it by setting it (and put it back at once)
    os.umask(old)
    return old


def follow_umask(folder: Path) -> None:
    """Give a folder made by ``tempfile.mkdtemp`` (mode 0700) the mode the umask allows."""
    os.chmod(folder, 0o777 & ~umask())
