"""Indented JSON text, exactly as ``json.dumps(value, indent=2, ensure_ascii=False)`` writes it.

The standard library writes indented JSON with its pure-Python generator encoder (its C
encoder only writes compact JSON before Python 3.13): for ``slimfile parse --json`` on a 4 MiB
file of one-line RUNs, about 300 MB of text, that was a quarter of the command. This writer
builds the same text from joined lists, with the C string escaper, in a third of the time.
Values are what the JSON reports hold: dicts with string keys, lists and tuples, strings, ints,
floats, booleans and None; anything else is handed to ``json.dumps``, which raises as before.

A :class:`LazyList` is written as a list whose items are made one at a time and written as one
chunk each (:func:`indented_chunks`): ``parse --json`` never holds every instruction's data at
once, only its text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from json.encoder import encode_basestring  # the C escaper json.dumps uses with ensure_ascii=False
from typing import Any

INDENT = "  "


class LazyList:
    """A JSON list whose items an iterable makes while the text is written."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = items


def dumps_indented(value: Any) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False)``, byte for byte."""
    return "".join(indented_chunks(value))


def indented_chunks(value: Any) -> Iterator[str]:
    """The text of :func:`dumps_indented` in pieces: one per item of each :class:`LazyList`
    (whose items are made only when their turn comes), one for the text between them."""
    parts: list[str] = []
    yield from _chunks(value, "\n", parts)
    yield "".join(parts)


def _chunks(value: Any, newline: str, parts: list[str]) -> Iterator[str]:
    """Write ``value`` into ``parts``; at each :class:`LazyList` item, hand out what is written."""
    if isinstance(value, LazyList):
        inner = newline + INDENT
        separator = "[" + inner
        for item in value.items:
            parts.append(separator)
            _write(item, inner, parts)
            yield "".join(parts)
            parts.clear()
            separator = "," + inner
        parts.append("[]" if separator[0] == "[" else newline + "]")
    elif isinstance(value, dict) and value and _holds_lazy(value.values()):
        inner = newline + INDENT
        separator = "{" + inner
        for key, item in value.items():
            parts.append(separator)
            parts.append(encode_basestring(key))
            parts.append(": ")
            yield from _chunks(item, inner, parts)
            separator = "," + inner
        parts.append(newline + "}")
    else:
        _write(value, newline, parts)


def _holds_lazy(values: Iterable[Any]) -> bool:
    return any(isinstance(v, LazyList) for v in values)


# A dict's text before each of its values, ``{`` or ``,`` then the newline, indentation, key and
# ``": "``, and its closing text, for each tuple of string keys at each indentation: the dicts
# of a report have a few shapes, written hundreds of thousands of times. Bounded: a report
# with endlessly varied keys only clears it now and then.
_DICT_TEXTS: dict[tuple[tuple[Any, ...], str], tuple[tuple[str, ...], str] | None] = {}
_DICT_TEXTS_LIMIT = 4096


def _dict_texts(keys: tuple[Any, ...], newline: str) -> tuple[tuple[str, ...], str] | None:
    """The texts around a dict's values (see ``_DICT_TEXTS``); None when a key is not a string
    (json.dumps converts or rejects those: written as it writes them)."""
    if not all(type(key) is str for key in keys):
        return None
    inner = newline + INDENT
    heads = ["{" + inner + encode_basestring(keys[0]) + ": "]
    heads += ["," + inner + encode_basestring(key) + ": " for key in keys[1:]]
    return tuple(heads), newline + "}"


def _write(value: Any, newline: str, parts: list[str]) -> None:
    """Append ``value``'s text; ``newline`` is a newline and the indentation ``value`` is at.
    Strings, None, booleans and ints inside a dict or list are written in the loop itself
    (no call per scalar: most values of the reports are scalars), and a list of strings in one
    join."""
    kind = type(value)
    if kind is dict:
        if not value:
            parts.append("{}")
            return
        shape = (tuple(value), newline)
        texts = _DICT_TEXTS.get(shape)
        if texts is None and shape not in _DICT_TEXTS:
            if len(_DICT_TEXTS) >= _DICT_TEXTS_LIMIT:
                _DICT_TEXTS.clear()
            texts = _DICT_TEXTS[shape] = _dict_texts(shape[0], newline)
        if texts is None:
            _write_other(value, newline, parts)
            return
        heads, closing = texts
        inner = newline + INDENT
        append = parts.append
        for head, item in zip(heads, value.values()):
            append(head)
            item_kind = type(item)
            if item_kind is str:
                append(encode_basestring(item))
            elif item_kind is int:
                append(int.__repr__(item))
            elif item is None:
                append("null")
            elif item is True:
                append("true")
            elif item is False:
                append("false")
            else:
                _write(item, inner, parts)
        append(closing)
    elif kind is list or kind is tuple:
        if not value:
            parts.append("[]")
            return
        inner = newline + INDENT
        separator = "," + inner
        if type(value[0]) is str:
            try:  # a list of strings (argv, packages): one join; the escaper rejects anything else
                body = separator.join(map(encode_basestring, value))
            except TypeError:
                pass
            else:
                parts.append("[" + inner + body + newline + "]")
                return
        append = parts.append
        append("[" + inner)
        first = True
        for item in value:
            if first:
                first = False
            else:
                append(separator)
            item_kind = type(item)
            if item_kind is str:
                append(encode_basestring(item))
            elif item_kind is int:
                append(int.__repr__(item))
            else:
                _write(item, inner, parts)
        append(newline + "]")
    else:
        _write_other(value, newline, parts)


def _write_other(value: Any, newline: str, parts: list[str]) -> None:
    """Scalars at the top, and what is not a plain dict, list or tuple."""
    if isinstance(value, str):
        parts.append(encode_basestring(value))
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif type(value) is int:
        parts.append(int.__repr__(value))
    elif isinstance(value, dict) and all(type(k) is str for k in value):
        _write(dict(value), newline, parts)  # a dict subclass: written as its items
    elif isinstance(value, (list, tuple)):
        _write(list(value), newline, parts)
    else:  # floats, int subclasses, non-string keys, unknown types: as json.dumps writes them
        parts.append(json.dumps(value, indent=2, ensure_ascii=False).replace("\n", newline))


__all__ = ["LazyList", "dumps_indented", "indented_chunks"]
