"""ICU's implementation of UTS #39 (confusables data and identifier profile, from Unicode), the
two checks usernames need: a string's confusable skeleton, and whether every character of a
string is in the General Security Profile's set recommended in identifiers.

Through ICU's C API where PyICU's wheel (pyicu-wheels) ships ICU's shared libraries, as it does
on Linux: loading PyICU's extension, which binds all of ICU's C++ API, maps and relocates some
11 MiB of a worker's memory, while ICU's libraries alone and these three functions take 5 MiB
(bench/memory.py; the same library and data, so the same answers: test_uts39 compares them over
every code point). Where those libraries are not found, PyICU itself.
"""

from __future__ import annotations

import ctypes
import importlib.util
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

# ICU's UErrorCode: above zero a failure; this one says the output buffer was too small.
_U_BUFFER_OVERFLOW_ERROR = 15
# auditwheel's copies: lib<name>-<hash>.so.<major>[.<minor>]; ICU suffixes its C symbols with
# _<major> (uspoof_open_77).
_LIBRARY = re.compile(r"lib(icudata|icuuc|icui18n)-[0-9a-f]+\.so\.(\d+)(\.\d+)*")
# Dependencies first: auditwheel leaves the copies no run path to find each other by.
_LOAD_ORDER = ("icudata", "icuuc", "icui18n")


class Uts39(Protocol):
    def skeleton(self, text: str) -> str:
        """The UTS #39 confusable skeleton of `text` (ICU's getSkeleton, type 0)."""
        ...

    def all_recommended(self, text: str) -> bool:
        """Whether every character of `text` is in UTS #39's identifier profile."""
        ...


class _CApi:
    """ICU's USpoofChecker and recommended USet through its C functions. The checker is never
    changed after it is opened, and ICU allows such a checker's checks from many threads."""

    def __init__(self, libraries: dict[str, Path], major: str) -> None:
        loaded = {name: ctypes.CDLL(str(libraries[name])) for name in _LOAD_ORDER}
        status = ctypes.POINTER(ctypes.c_int)
        utf16 = ctypes.c_char_p  # UTF-16 code units, native (little-endian) order

        def function(library: str, name: str, result: Any, *args: Any) -> Callable[..., Any]:
            found = loaded[library][f"{name}_{major}"]
            found.restype = result
            found.argtypes = args
            return found

        i32, pointer = ctypes.c_int32, ctypes.c_void_p
        self._skeleton = function(
            "icui18n", "uspoof_getSkeleton", i32, pointer, i32, utf16, i32, utf16, i32, status
        )
        self._contains_all = function(
            "icuuc", "uset_containsAllCodePoints", ctypes.c_int8, pointer, utf16, i32
        )
        error = ctypes.c_int(0)
        self._checker = function("icui18n", "uspoof_open", pointer, status)(ctypes.byref(error))
        _raise_on_failure(error, "uspoof_open")
        recommended = function("icui18n", "uspoof_getRecommendedSet", pointer, status)
        self._recommended = recommended(ctypes.byref(error))  # ICU's own frozen set
        _raise_on_failure(error, "uspoof_getRecommendedSet")

    def skeleton(self, text: str) -> str:
        units = text.encode("utf-16-le", "surrogatepass")
        length = len(units) // 2
        capacity = 4 * length + 16  # most skeletons fit; the rare longer one is asked again
        while True:
            error = ctypes.c_int(0)
            out = ctypes.create_string_buffer(2 * capacity)
            needed = self._skeleton(
                self._checker, 0, units, length, out, capacity, ctypes.byref(error)
            )
            if error.value != _U_BUFFER_OVERFLOW_ERROR:
                break
            capacity = needed + 1
        _raise_on_failure(error, "uspoof_getSkeleton")
        return out.raw[: 2 * needed].decode("utf-16-le", "surrogatepass")

    def all_recommended(self, text: str) -> bool:
        units = text.encode("utf-16-le", "surrogatepass")
        return bool(self._contains_all(self._recommended, units, len(units) // 2))


class _PyIcu:
    def __init__(self) -> None:
        import icu

        self._checker = icu.SpoofChecker()
        self._recommended = icu.UnicodeSet(self._checker.getRecommendedUnicodeSet())
        self._recommended.freeze()  # read-only from here: safe to share between threads

    def skeleton(self, text: str) -> str:
        return str(self._checker.getSkeleton(0, text))

    def all_recommended(self, text: str) -> bool:
        return bool(self._recommended.containsAll(text))


def _raise_on_failure(error: ctypes.c_int, call: str) -> None:
    if error.value > 0:
        raise RuntimeError(f"ICU's {call} failed with UErrorCode {error.value}")


def _wheel_libraries() -> tuple[dict[str, Path], str] | None:
    """ICU's libraries as pyicu-wheels installs them beside the `icu` package (auditwheel's
    `pyicu_wheels.libs`), and their major version; None when they are not there."""
    spec = importlib.util.find_spec("icu")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent.parent / "pyicu_wheels.libs"
    found: dict[str, Path] = {}
    majors = set()
    for path in folder.glob("libicu*") if folder.is_dir() else ():
        match = _LIBRARY.fullmatch(path.name)
        if match is not None:
            found[match.group(1)] = path
            majors.add(match.group(2))
    if set(found) != set(_LOAD_ORDER) or len(majors) != 1:
        return None
    return found, majors.pop()


def load(*, c_api: bool = True) -> Uts39:
    """ICU's UTS #39 checks: through its C API where PyICU's wheel's libraries are found (and
    `c_api`), else through PyICU."""
    wheel = _wheel_libraries() if c_api else None
    if wheel is not None:
        try:
            return _CApi(*wheel)
        except (OSError, AttributeError):  # not loadable here, or a symbol missing
            pass
    return _PyIcu()
