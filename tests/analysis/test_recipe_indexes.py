"""The recipes' look-ups over a stage's copies answer as the scans they replaced, which cost
n x n on a stage of n copies and n builds (a Rust stage of 2,000 `COPY` and 2,000 `cargo build`
lines: 4.9 s at 4,000 lines, x3.5 per doubling)."""

from __future__ import annotations

import posixpath

from hypothesis import given, settings
from hypothesis import strategies as st

from slimfile.analysis.context import Context
from slimfile.analysis.globs import clean_path
from slimfile.analysis.recipes.files import RuntimeCopy, _deduplicated
from slimfile.analysis.recipes.rust import _ContextCopies, plain_context_copy
from slimfile.analysis.steps import stage_steps
from slimfile.engine import Settings
from slimfile.syntax.parser import parse

FOLDERS = ["/", "/app", "/app/", "/app/src", "/srv", "/app/src/bin", "/srv/app"]
LINES = st.one_of(
    st.builds(lambda s, d: f"COPY {s} {d}", st.sampled_from([".", "src", "crates/a", "./b/"]), st.sampled_from(FOLDERS)),
    st.builds(lambda d: f"WORKDIR {d}", st.sampled_from(FOLDERS)),
    st.just("RUN cargo build --release"),
    st.just("COPY --from=x /a /app"),
)


def _scan(steps, before, cwd):
    """The scan ``_ContextCopies.source_of`` replaced (recipes/rust.py before this change), over
    the same copies (``plain_context_copy``): the index must find the same last one."""
    found = None
    for step in steps:
        if step is before:
            break
        copy = plain_context_copy(step)
        if copy is None:
            continue
        word, destination = copy
        if cwd == destination or cwd.startswith(destination.rstrip("/") + "/"):
            found = clean_path(posixpath.join(clean_path(word), posixpath.relpath(cwd, destination)))
    return found


@settings(max_examples=300, deadline=None)
@given(st.lists(LINES, min_size=1, max_size=12), st.lists(st.sampled_from(FOLDERS + ["/app/src/x", "/other"]), min_size=1, max_size=4))
def test_the_copy_a_build_folder_came_from_is_the_scans(lines, folders):
    dockerfile = parse(("FROM rust:1\n" + "\n".join(lines) + "\n").encode())
    ctx = Context(dockerfile, Settings())
    steps = stage_steps(ctx, dockerfile.stages.stages[0])
    copies = _ContextCopies(steps)
    for step in steps:
        for cwd in folders:
            cwd = cwd.rstrip("/") or "/"
            assert copies.source_of(step, cwd) == _scan(steps, step, cwd), (lines, cwd)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FOLDERS + ["/app/src/main.rs", "/srv/app/", "/etc/x.conf", "/app/src/bin/"]), max_size=10))
def test_copies_inside_a_copied_folder_go_as_the_scan_said(paths):
    copies = [RuntimeCopy(path, f"owner{i}") for i, path in enumerate(paths)]
    latest = {copy.path: copy for copy in copies}
    expected = [latest[p] for p in latest if not any(o != p and p.startswith(o.rstrip("/") + "/") for o in latest)]
    assert _deduplicated(copies) == expected


class _Files:
    """The context files the Node copies below may bring (``exists`` as BuildContext's)."""

    def __init__(self, paths: set[str]) -> None:
        self.paths = paths

    def exists(self, path: str) -> bool:
        return path in self.paths or any(p.startswith(path.rstrip("/") + "/") for p in self.paths) or path == ""


def _scanned_context_path(paths, image_path: str):
    """``ContextPaths.context_path`` before its index: every copy, latest first."""
    image_path = posixpath.normpath(image_path)
    for copy in reversed(paths.copies):
        if not copy.is_dir:
            if image_path == copy.dest:
                return copy.source
            continue
        if image_path == copy.dest:
            return copy.source
        prefix = copy.dest.rstrip("/") + "/"
        if image_path.startswith(prefix):
            candidate = clean_path(posixpath.join(copy.source, image_path[len(prefix):]))
            if paths.files.exists(candidate):
                return candidate
    return None


NODE_SOURCES = ["", "web", "package.json", "web/package.json", "src", "src/index.js"]
NODE_DESTS = ["/", "/app", "/app/web", "/app/package.json", "/srv", "/app/src", "/app/src/index.js"]
NODE_PATHS = ["/app/package.json", "/app/web/package.json", "/package.json", "/app/src/index.js",
              "/app/index.js", "/srv/package.json", "/app", "/", "/app/web", "/srv/web/package.json"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(NODE_SOURCES), st.sampled_from(NODE_DESTS), st.booleans()), max_size=12))
def test_node_context_paths_answer_as_the_scan_over_every_copy(copies):
    """The latest copy that put a file at an image path, from the copies indexed under the path
    and its folders (alike folder copies once): what reading every copy gave."""
    from slimfile.analysis.recipes.node_commands import ContextCopy, ContextPaths

    files = _Files({"package.json", "web/package.json", "src/index.js", "index.js"})
    paths = ContextPaths(files, tuple(ContextCopy(source, dest, is_dir) for source, dest, is_dir in copies))  # type: ignore[arg-type]
    for image_path in NODE_PATHS:
        assert paths.context_path(image_path) == _scanned_context_path(paths, image_path), (copies, image_path)
