"""Extension hooks: a function that edits the built model before it is solved.

An *extra* has the signature ``fn(m) -> None``: it receives the built Pyomo model (see README,
"From Python") after :func:`optimiser.build` and before the solve, and may add variables,
constraints and revenue or cost terms (:func:`optimiser.add_revenue`, :func:`optimiser.add_cost`)
or change bounds, the way PyPSA's ``extra_functionality`` does. Its return value is ignored.

It is given as a callable or as a string naming one (what ``dispatch run --extra`` takes):

- ``"package.module:function"``: a module importable from ``sys.path``;
- ``"path/to/file.py:function"``: a Python file, loaded by path (relative to the working
  directory).

A string also crosses to a worker process where a function defined in a notebook would not pickle.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Union

from .errors import InputError

#: An extra: a callable ``fn(m) -> None``, its ``"module:function"`` name, or several of them.
Extra = Union[Callable[[Any], None], str, Sequence[Union[Callable[[Any], None], str]]]

_FORM = "module:function (a dotted importable module) or path/to/file.py:function"


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _import_file(path: Path, spec_text: str) -> Any:
    if not path.is_file():
        raise InputError(f"--extra {spec_text}: the file {path} does not exist")
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    name = f"_dispatch_extra_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py path always has a loader
        raise InputError(f"--extra {spec_text}: {path} cannot be loaded as a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # so that dataclasses, pickling and tracebacks find it
    try:
        spec.loader.exec_module(module)
    except Exception as err:
        sys.modules.pop(name, None)
        raise InputError(f"--extra {spec_text}: loading {path} failed: {type(err).__name__}: {err}") from err
    return module


def load_extra(spec: str) -> Callable[[Any], None]:
    """The function a ``"module:function"`` or ``"path/to/file.py:function"`` string names.

    Parameters
    ----------
    spec
        ``module:function`` with ``module`` importable (dotted), or ``file.py:function`` with a path
        to a Python file; ``function`` may be dotted (``mod:Class.method``).

    Returns
    -------
    callable
        To be called as ``fn(m)``.

    Raises
    ------
    InputError
        If the string is not of that form, the module or file cannot be imported (naming it and
        why), it has no such attribute, or the attribute is not callable.
    """
    module_part, sep, attr = spec.rpartition(":")
    if not sep or not module_part or not attr:
        raise InputError(f"--extra {spec!r}: expected {_FORM}")
    if module_part.endswith(".py") or "/" in module_part or "\\" in module_part:
        module = _import_file(Path(module_part), spec)
        where = module_part
    else:
        try:
            module = importlib.import_module(module_part)
        except ModuleNotFoundError as err:
            if err.name is not None and (module_part == err.name or module_part.startswith(err.name + ".")):
                raise InputError(f"--extra {spec}: no module named '{module_part}' (expected {_FORM})") from None
            raise InputError(f"--extra {spec}: importing '{module_part}' failed: {err}") from err
        except Exception as err:
            raise InputError(f"--extra {spec}: importing '{module_part}' failed: {type(err).__name__}: {err}") from err
        where = f"module '{module_part}'"
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise InputError(f"--extra {spec}: {where} has no function '{attr}'")
        obj = getattr(obj, part)
    if not callable(obj):
        kind = type(obj).__name__
        raise InputError(f"--extra {spec}: '{attr}' in {where} is {_article(kind)} {kind}, not a function")
    return obj


def resolve_extras(extra: Extra | None) -> list[Callable[[Any], None]]:
    """The callables ``extra`` stands for, in order (strings loaded by :func:`load_extra`).

    Raises
    ------
    InputError
        As :func:`load_extra`, or if an item is neither callable nor a string.
    """
    if extra is None:
        return []
    items = [extra] if callable(extra) or isinstance(extra, str) else list(extra)
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(load_extra(item))
        elif callable(item):
            out.append(item)
        else:
            kind = type(item).__name__
            raise InputError(f"extra: {item!r} is {_article(kind)} {kind}, not a function or 'module:function'")
    return out


def apply_extras(m: Any, extra: Extra | None) -> None:
    """Call each extra on the built model ``m``, in order (see the module's description)."""
    for fn in resolve_extras(extra):
        fn(m)
