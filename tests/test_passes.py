"""Small passes that exist only for tests of the engine and the CLI plumbing."""

from __future__ import annotations

from slimfile.diagnostics import Finding, Rule, Saving
from slimfile.syntax.edits import Edit, Fix, Safety

DOC = "## What it does\nTest rule.\n"
UPPER = Rule("ZZ001", "test-uppercase-keyword", "Keyword is not upper case", "Upper-case the keyword", DOC)
BREAK = Rule("ZZ002", "test-breaks-file", "File could end better", "Append an unterminated heredoc", DOC)
UNSAFE = Rule("ZZ003", "test-unsafe-echo", "RUN echo could say more", "Append a word", DOC, Safety.UNSAFE)
CMD = Rule("ZZ004", "test-changes-cmd", "CMD could be different", "Change CMD", DOC)


def uppercase_keywords(ctx):
    for node in ctx.dockerfile.instructions:
        if node.keyword != node.name:
            start, end = node.keyword_source_span()
            yield Finding(
                UPPER, f"`{node.keyword}` should be `{node.name}`", start, end,
                Fix((Edit(start, end, node.name.encode()),), Safety.SAFE, UPPER.fix_title),
                Saving("none", "cosmetic"),
            )


def break_the_file(ctx):
    src = ctx.source
    if b"<<EOF" not in src:
        yield Finding(BREAK, "append a heredoc", len(src), len(src), Fix((Edit.insert(len(src), b"\nRUN <<EOF\n"),)))


def unsafe_echo(ctx):
    for node in ctx.dockerfile.instructions:
        if node.name == "RUN" and node.args.startswith(b"echo") and not node.args.endswith(b"!"):
            _, end = node.args_source_span()
            yield Finding(UNSAFE, "say it louder", end, end, Fix((Edit.insert(end, b"!"),), Safety.UNSAFE))


def change_cmd(ctx):
    for node in ctx.dockerfile.instructions:
        if node.name == "CMD" and b"changed" not in node.args:
            start, end = node.args_source_span()
            yield Finding(CMD, "change CMD", start, end, Fix((Edit(start, end, b'["changed"]'),)))


