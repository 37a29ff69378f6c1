"""Files of a build context that look like secrets: private keys, ``.env`` files with values,
cloud credentials, registry tokens.

A file is judged by its name first (``id_rsa``, ``*.p12``, ``.aws/credentials``); a few kinds
need their content (a PEM private key, a ``.env`` that sets values, an ``.npmrc`` holding a
literal ``_authToken``, a service-account key in JSON). Only small files are read, and only
their first bytes; nothing read here is ever printed: a finding names the file and the kind
of secret, never its content. Rules are data (``data/context_files.toml``, ``[secrets]``).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from slimfile.shell.data import load
from slimfile.textformats import json_loads

_PRIVATE_KEY = re.compile(rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|PuTTY-User-Key-File-\d")
_ENV_VALUE = re.compile(r"^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*=\s*(?P<value>\S.*)$")
_NPM_TOKEN = re.compile(r"^\s*(?://[^\s=]*:)?_(?:authToken|auth|password)\s*=\s*(?P<value>\S.*)$", re.IGNORECASE)


@dataclass(frozen=True)
class SecretFile:
    path: str  # context path
    kind: str  # what it looks like: "a private key", "environment values", ...


@lru_cache(maxsize=1)
def _rules() -> dict:
    return load("context_files")["secrets"]


@lru_cache(maxsize=1)
def env_templates() -> frozenset[str]:
    return frozenset(load("context_files")["env_templates"])


def is_env_file(name: str) -> bool:
    """``.env`` and ``.env.production``; not the templates (``.env.example``)."""
    return (name == ".env" or name.startswith(".env.")) and name not in env_templates()


def secret_kind(root: Path, path: str) -> str | None:
    """What the context file ``path`` looks like, if a secret; None otherwise."""
    rules = _rules()
    name = posixpath.basename(path)
    suffix = posixpath.splitext(name)[1].lower()
    if name in rules["names"]:
        return "a private key" if name.startswith("id_") else "credentials"
    if suffix in rules["suffixes"]:
        return "a key store (PKCS #12)"
    if any(path == tail or path.endswith("/" + tail) for tail in rules["paths"]):
        return "cloud credentials"
    checks = _content_checks(name, suffix)
    if not checks:
        return None
    head = _head(root / path, rules["max_size"], rules["head"])
    if head is None:
        return None
    for check in checks:
        kind = check(head)
        if kind is not None:
            return kind
    return None


def _content_checks(name: str, suffix: str) -> list:
    rules = _rules()
    checks = []
    if is_env_file(name):
        checks.append(_env_values)
    if name == ".npmrc":
        checks.append(_npm_token)
    if suffix == ".json" and any(word in name.lower() for word in rules["json_name_words"]):
        checks.append(_service_account)
    if suffix in rules["private_key_suffixes"] and not name.startswith("."):
        checks.append(_private_key)
    return checks


def _head(path: Path, max_size: int, size: int) -> bytes | None:
    """The first ``size`` bytes of a regular file no bigger than ``max_size``, else None."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > max_size:
            return None
        with open(path, "rb") as handle:
            return handle.read(size)
    except OSError:
        return None


def _private_key(head: bytes) -> str | None:
    return "a private key" if _PRIVATE_KEY.search(head) else None


def _env_values(head: bytes) -> str | None:
    for line in head.decode("utf-8", "replace").splitlines():
        match = _ENV_VALUE.match(line)
        if match and match.group("value").strip("\"'"):
            return "environment values"
    return None


def _npm_token(head: bytes) -> str | None:
    """A literal token; ``_authToken=${NPM_TOKEN}`` (read from the environment) is the safe form."""
    for line in head.decode("utf-8", "replace").splitlines():
        match = _NPM_TOKEN.match(line)
        if match and not match.group("value").strip("\"'").startswith("${"):
            return "a registry token"
    return None


def _service_account(head: bytes) -> str | None:
    text = head.decode("utf-8", "replace")
    if '"private_key"' not in text:
        return None
    try:
        data = json_loads(text)
    except ValueError:  # cut at the head's end: judge by the fields seen
        return "a service-account key" if '"service_account"' in text else None
    if isinstance(data, dict) and data.get("type") == "service_account":
        return "a service-account key"
    return None
