"""SF701/SF703's fix: what it writes above the copy (the whole edits are in the fixtures under
fixtures/passes/SF701-copy-manifests-first/ and SF703-*)."""

from __future__ import annotations

from slimfile.analysis.install_model import Install
from slimfile.analysis.steps import StepEffects
from slimfile.passes.cache_order import Move, _CopiedManifests

LOCK = b"COPY package.json package-lock.json ./\n"
MEMBER = b"COPY packages/api/package.json ./packages/api/\n"


def _install_move(writes: frozenset[str] = frozenset(), unknown: str | None = None) -> Move:
    install = Install("npm", None, ("/app/package.json", "/app/package-lock.json", "/app/packages/api/package.json"), ("/app/node_modules",))  # type: ignore[arg-type]
    return Move(None, StepEffects(writes=writes | {"/app/node_modules"}, unknown=unknown), [install])  # type: ignore[arg-type]


def test_a_second_install_of_the_same_project_copies_nothing_again():
    copied = _CopiedManifests()
    first = _install_move()
    assert copied.new_lines([LOCK, MEMBER]) == [LOCK, MEMBER]
    copied.after(first)
    assert copied.new_lines([LOCK, MEMBER]) == []
    copied.after(_install_move())
    assert copied.new_lines([LOCK, b"COPY packages/web/package.json ./packages/web/\n"]) == [b"COPY packages/web/package.json ./packages/web/\n"]


def test_the_manifests_are_copied_again_after_a_step_that_writes_into_them():
    """A moved step that rewrites a manifest (or whose writes are unknown) runs between the
    two installs: the second gets the files from the context again, as before the move."""
    for between in (_install_move(writes=frozenset({"/app/package-lock.json"})), _install_move(writes=frozenset({"/app"})), _install_move(unknown="a network install")):
        copied = _CopiedManifests()
        copied.new_lines([LOCK, MEMBER])
        copied.after(between)
        assert copied.new_lines([LOCK, MEMBER]) == [LOCK, MEMBER]
