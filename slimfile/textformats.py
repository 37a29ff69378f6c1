"""JSON and TOML from files slimfile reads but does not write: a build context's package.json,
lockfiles, tsconfig.json and pyproject.toml, an image's package lists, a configuration file.

Python's parsers recurse once per level of nesting, so a document nested a few thousand levels
deep (``[[[[...]]]]``, 8 KB) raised RecursionError. That is not a bug of slimfile's: it must not
stop the whole Dockerfile ("input too deeply nested") or show a traceback. Here it is what it is
for the reader: a document it cannot read, reported as the parser's own error (ValueError), so
each caller's existing answer for invalid JSON or TOML applies.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from slimfile.files import MAX_BYTES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TOO_DEEP = "nested too deeply to read"

# Shell text slimfile models (a script of the build context, a package.json script) is read
# up to the size of a Dockerfile it reads: a 15 MiB build.sh took 20 s and 1.6 GB to model,
# only to be refused for running too many commands.
MAX_SCRIPT_BYTES = MAX_BYTES
TOO_LARGE = f"it is over {MAX_SCRIPT_BYTES // (1024 * 1024)} MiB, the most slimfile reads"


def json_loads(text: str | bytes) -> Any:
    """``json.loads``; ValueError for a document nested too deeply."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError(TOO_DEEP) from None


def toml_loads(text: str) -> dict[str, Any]:
    """``tomllib.loads``; TOMLDecodeError (a ValueError) for a document nested too deeply."""
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise tomllib.TOMLDecodeError(TOO_DEEP) from None


# control characters a file name may hold, shown escaped: written as they are, a line break in
# a name split a finding's line and, in a comment of a file slimfile writes, started a new line
_CONTROLS = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F)} | {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}


_CONTROL = re.compile("[\x00-\x1f\x7f]")


def visible(text: str) -> str:
    """``text`` on one line, its control characters escaped (``\\n``, ``\\x1b``), for messages
    and comments that quote a name of the build context. Most texts hold none: one C search
    tells, where the translation looks up every character (every finding's line goes here)."""
    return text.translate(_CONTROLS) if _CONTROL.search(text) else text
