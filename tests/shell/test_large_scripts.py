"""RUNs far bigger than any real one: thousands of commands in one && chain, thousands of
copies of one RUN, backquoted comments in a long package list. The model stays exact and is
built without recursion that grows with the script."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from slimfile.analysis.context import Context
from slimfile.engine import Settings, fix_source
from slimfile.shell import lexer
from slimfile.shell.analyze import analyze_run
from slimfile.shell.model import Operator, ShellScript
from slimfile.shell.relocate import _Shifted, relocate
from slimfile.syntax import parse


def test_a_chain_of_five_thousand_commands():
    """tree-sitter nests ``a && b && c`` one level per operator; the walk does not recurse."""
    tree = parse(b"FROM debian:12\nRUN " + b" && ".join(b"echo %d" % i for i in range(5000)) + b"\n")
    script = analyze_run(tree, tree.instructions[1])
    assert isinstance(script, ShellScript)
    assert [c.argv[1] for c in script.commands] == [str(i) for i in range(5000)]
    assert all(c.after.operator is Operator.AND for c in script.commands[:-1])


_REDIRECTS = {  # written after `echo K` -> (command, its redirects as (operator, fd, target))
    "": ("echo", []),
    " > /f": ("echo", [(">", None, "/f")]),
    " 2>&1": ("echo", [(">&", 2, "1")]),
    " >> /g": ("echo", [(">>", None, "/g")]),
    " < /in": ("echo", [("<", None, "/in")]),
    " | tee /t > /u": ("tee", [(">", None, "/u")]),
}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(sorted(_REDIRECTS)), min_size=1, max_size=12), st.sampled_from(["&&", "||", ";"]))
def test_redirects_stay_with_their_own_command(redirects, operator):
    """tree-sitter nests ``a > f && b > g`` as a redirected list inside a redirected list,
    the redirect of the outer one after the inner list: each redirect belongs to the command
    it follows, whatever the nesting and the joining operator."""
    text = f" {operator} ".join(f"echo {k}{redirect}" for k, redirect in enumerate(redirects))
    tree = parse(f"FROM debian:12\nRUN {text}\n".encode())
    script = analyze_run(tree, tree.instructions[1])
    assert isinstance(script, ShellScript)
    found = [(c.argv[0], [(r.operator, r.fd, r.target.value if r.target else None) for r in c.redirects]) for c in script.commands]
    expected = []
    for redirect in redirects:
        if redirect.startswith(" |"):
            expected.append(("echo", []))
        expected.append(_REDIRECTS[redirect])
    assert found == expected


def test_a_chain_of_two_thousand_redirected_commands():
    """``cat x > /fK && ...`` 2,000 times (SF502 merges such RUNs): one level of tree-sitter
    nesting per command, walked without recursion (330 of them were "too deeply nested")."""
    tree = parse(b"FROM debian:12\nRUN " + b" && ".join(b"cat /app/x > /f%d" % i for i in range(2000)) + b"\n")
    script = analyze_run(tree, tree.instructions[1])
    assert isinstance(script, ShellScript)
    assert [c.redirects[0].target.value for c in script.commands] == [f"/f{i}" for i in range(2000)]
    assert all(len(c.redirects) == 1 for c in script.commands)


def test_a_run_of_many_heredocs_copies_its_arguments_a_bounded_number_of_times(monkeypatch):
    """``Instruction.args`` slices the logical line: asked once per heredoc of a RUN whose line
    holds thousands of ``<<WORD``s, it copied the whole line each time (4 MiB of heredoc words:
    quadratic in C, which the executed-lines count of tests/test_scaling.py cannot see)."""
    from slimfile.syntax.nodes import Instruction

    def run_of(count: int):
        words = b" ".join(b"<<W%d" % i for i in range(count))
        bodies = b"".join(b"x\nW%d\n" % i for i in range(count))
        tree = parse(b"FROM debian:12\nRUN cat " + words + b"\n" + bodies)
        return tree, tree.instructions[1]

    reads = 0
    original = Instruction.args

    def counted(self):
        nonlocal reads
        reads += 1
        return original.fget(self)

    counts = []
    for count in (10, 400):
        tree, run = run_of(count)
        reads = 0
        monkeypatch.setattr(Instruction, "args", property(counted))
        script = analyze_run(tree, run)
        monkeypatch.setattr(Instruction, "args", original)
        assert isinstance(script, ShellScript) and len(script.commands[0].redirects) == count
        counts.append(reads)
    assert counts[1] == counts[0], counts


def test_copies_of_one_run_share_a_model_without_nesting():
    """The model of a RUN moves from copy to copy; its span function is shifted once, not
    wrapped once per copy (3,000 copies reached the recursion limit)."""
    run = b"RUN rm -rf /var/lib/apt/lists/*\n"
    tree = parse(b"FROM debian:12\n" + run * 3000)
    context = Context(tree, Settings())
    models = [context.shell(node) for node in tree.instructions[1:]]
    last = models[-1]
    word = last.commands[0].words[-1]
    assert isinstance(word.to_source, _Shifted) and not isinstance(word.to_source.base, _Shifted)
    assert tree.source[word.start : word.end] == b"/var/lib/apt/lists/*"
    assert relocate(last, tree.instructions[1], -(tree.instructions[-1].start - tree.instructions[1].start)).commands[0].start == models[0].commands[0].start


def test_a_thousand_identical_runs_fix():
    """The models of the copies are moved from round to round (a RecursionError, reported as
    "too deeply nested", before)."""
    source = b"FROM debian:12\n" + b"RUN apt-get update && apt-get install -y curl\nRUN rm -rf /var/lib/apt/lists/*\n" * 1000
    result = fix_source(source, "Dockerfile")
    assert result.converged and result.changed and not result.rejected
    parse(result.output)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b" ", b"`# note`", b"'", b'"', b"$(", b")", b"`", b"\\", b"x", b"\n", b"${", b"}"]), max_size=30).map(b"".join))
def test_backquoted_comments_found_in_one_scan(text):
    """comment_substitutions checks each `# ...` against the quotes before it in one scan; the
    result is a scan from the start for each."""

    def inside_quotes(pos: int) -> bool:
        i = 0
        while i < pos:
            ch = text[i]
            if ch in (0x27, 0x22, 0x60, 0x5C) or (ch == 0x24 and i + 1 < len(text) and text[i + 1] in b"({'\""):
                end = lexer._token_end(text, i)
                if end > pos:
                    return True
                i = end
            else:
                i += 1
        return False

    expected = []
    for match in lexer._COMMENT_SUBSTITUTION.finditer(text):
        start, end = match.span()
        before_ok = start == 0 or text[start - 1] in b" \t\n"
        after_ok = end == len(text) or text[end] in b" \t\n;&|"
        if before_ok and after_ok and not inside_quotes(start):
            expected.append((start, end))
    assert lexer.comment_substitutions(text) == expected
