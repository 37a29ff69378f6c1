"""What each CLI command does, apart from option parsing (kept out of :mod:`slimfile.cli`)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from slimfile.config import ConfigError, FileConfig, find_config, load_config, split_codes, validate_codes
from slimfile.engine import Settings
from slimfile.files import STDIN, Discovered, InputError, discover, write_atomic
from slimfile.ignore import DEFAULT_EXCLUDE
from slimfile.runner import FileOutcome, jobs_for, run_jobs
from slimfile.syntax.errors import DockerfileError

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


@dataclass
class Options:
    paths: list[str] = field(default_factory=list)
    unsafe_fixes: bool | None = None
    select: str | None = None
    extend_select: str | None = None
    ignore: str | None = None
    exclude: list[str] | None = None
    extend_exclude: list[str] | None = None
    config: str | None = None
    isolated: bool = False
    stdin_filename: str | None = None
    jobs: int | None = None
    respect_gitignore: bool = True
    force_exclude: bool = False
    quiet: bool = False
    buildkit: str = "current"


def err(message: str) -> None:
    sys.stderr.write(message + "\n")


def _known_codes() -> list[str]:
    from slimfile.pipeline import all_rules

    return [r.code for r in all_rules()]


class SettingsResolver:
    """Settings for each file: its closest configuration file, overridden by the CLI."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.codes = _known_codes()
        self.cache: dict[Path, FileConfig] = {}
        self.found: dict[Path, Path | None] = {}  # directory -> closest config file
        self.loaded: dict[Path, FileConfig] = {}  # config file -> its parsed settings
        self.fixed: FileConfig | None = None
        if options.isolated:
            self.fixed = FileConfig()
        elif options.config:
            self.fixed = load_config(Path(options.config), self.codes)
        self.cli_select = self._codes(options.select, "--select")
        self.cli_extend = self._codes(options.extend_select, "--extend-select") or ()
        self.cli_ignore = self._codes(options.ignore, "--ignore") or ()

    def _codes(self, text: str | None, key: str) -> tuple[str, ...] | None:
        values = split_codes(text)
        return None if values is None else validate_codes(values, self.codes, None, key)

    def config_for(self, path: str) -> FileConfig:
        if self.fixed is not None:
            return self.fixed
        start = Path.cwd() if path == STDIN else Path(path)
        directory = start if start.is_dir() else start.parent
        key = Path(directory).absolute()
        if key not in self.cache:
            found = find_config(key, self.found)
            if found is None:
                self.cache[key] = FileConfig()
            else:
                if found not in self.loaded:
                    self.loaded[found] = load_config(found, self.codes)
                self.cache[key] = self.loaded[found]
        return self.cache[key]

    def settings_for(self, path: str) -> Settings:
        config = self.config_for(path)
        select = self.cli_select if self.cli_select is not None else config.select
        unsafe = self.options.unsafe_fixes if self.options.unsafe_fixes is not None else bool(config.unsafe_fixes)
        ignore = set(config.ignore) | set(self.cli_ignore)
        if path != STDIN:
            ignore |= set(config.ignores_for(path))
        return Settings(
            unsafe_fixes=unsafe,
            select=frozenset(select) if select is not None else None,
            extend_select=frozenset(config.extend_select) | frozenset(self.cli_extend),
            ignore=frozenset(ignore),
            buildkit=self.options.buildkit,
            options=dict(config.preferences),
        )

    def excludes(self) -> tuple[list[str], bool]:
        """Exclude patterns and whether to honour .gitignore, from CLI and the root config."""
        root_config = self.config_for(self.options.paths[0] if self.options.paths else ".")
        base = self.options.exclude if self.options.exclude is not None else (
            list(root_config.exclude) if root_config.exclude is not None else list(DEFAULT_EXCLUDE)
        )
        extra = list(root_config.extend_exclude) + list(self.options.extend_exclude or [])
        respect = self.options.respect_gitignore
        if respect and root_config.respect_gitignore is False:
            respect = False
        return base + extra, respect


def _discover(options: Options, resolver: SettingsResolver) -> tuple[list[str], list[InputError]]:
    paths = options.paths or ["."]
    exclude, respect = resolver.excludes()
    found: list[str] = []
    errors: list[InputError] = []
    for item in discover(paths, exclude=exclude, respect_gitignore=respect, force_exclude=options.force_exclude):
        if isinstance(item, InputError):
            errors.append(item)
        else:
            assert isinstance(item, Discovered)
            found.append(item.path)
    return found, errors


def _prepare(options: Options, mode: str):
    resolver = SettingsResolver(options)
    paths, errors = _discover(options, resolver)
    jobs = []
    for path in paths:
        jobs.extend(jobs_for([path], mode, resolver.settings_for(path), options.stdin_filename))
    return jobs, errors


def _report_errors(errors: Sequence[DockerfileError]) -> None:
    for error in errors:
        err(f"error: {error}")


def _progress(total: int) -> tuple[Callable[[FileOutcome], None] | None, Callable[[], None]]:
    """A rich progress bar on stderr for long runs, only when stderr is a terminal."""
    if total < 50 or not sys.stderr.isatty():
        return None, lambda: None
    from rich.progress import Progress

    progress = Progress(transient=True, console=_stderr_console())
    task = progress.add_task("slimfile", total=total)
    progress.start()
    return (lambda _outcome: progress.advance(task)), progress.stop


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)


def run_fix(options: Options, *, diff: bool, check: bool) -> int:
    from slimfile.report.diff import unified_diff
    from slimfile.report.text import finding_line, plural, savings_lines

    try:
        jobs, errors = _prepare(options, "fix")
    except ConfigError as exc:
        err(f"error: {exc}")
        return EXIT_ERROR
    on_done, stop = _progress(len(jobs))
    try:
        outcomes = run_jobs(jobs, workers=options.jobs, on_done=on_done)
    finally:
        stop()
    errors = list(errors)
    out = sys.stdout.buffer
    changed = fixed = remaining = hidden = 0
    applied_findings = []
    for outcome in outcomes:
        if outcome.error is not None:
            errors.append(outcome.error)
            continue
        result = outcome.fix
        assert result is not None
        for rejected in result.rejected:
            err(f"warning: {outcome.path}:{rejected.finding.line}: dropped fix {rejected.finding.rule.code} ({rejected.reason})")
        if not result.converged:
            err(f"warning: {outcome.path}: fixes did not converge after {result.rounds} rounds")
        remaining += len(result.remaining)
        hidden += result.hidden_unsafe()
        if not options.quiet:
            for finding in result.remaining:
                err(finding_line(finding, fixable_marker=finding.fix_allowed(True)))
        if not result.changed:
            if jobs_is_stdin(outcome, jobs) and not diff and not check:
                out.write(result.output)
            continue
        changed += 1
        fixed += len(result.applied)
        applied_findings.extend(result.applied)
        if diff:
            out.write(unified_diff(result.source, result.output, outcome.path))
        elif check:
            if not options.quiet:
                err(f"Would fix: {outcome.path}")
        elif jobs_is_stdin(outcome, jobs):
            out.write(result.output)
        else:
            try:
                write_atomic(outcome.path, result.output)
            except OSError as exc:
                errors.append(InputError(f"cannot write: {exc.strerror}", path=outcome.path))
    out.flush()
    _report_errors(errors)
    if not options.quiet:
        verb = "Would fix" if (diff or check) else "Fixed"
        summary = f"{verb} {plural(fixed, 'finding')} in {plural(changed, 'file')}"
        summary += f" ({remaining} remaining)." if remaining else "."
        err(summary)
        if applied_findings and any(f.saving for f in applied_findings):
            err("Estimated savings (measure with `slimfile verify`):")
            for line in savings_lines(applied_findings):
                err(line)
        if hidden:
            err(f"({plural(hidden, 'hidden fix', 'hidden fixes')} can be enabled with the `--unsafe-fixes` option.)")
    if errors:
        return EXIT_ERROR
    if (diff or check) and changed:
        return EXIT_FINDINGS
    return EXIT_OK


def jobs_is_stdin(outcome: FileOutcome, jobs) -> bool:
    return any(j.path == STDIN and (j.display_path or STDIN) == outcome.path for j in jobs)


def run_check(options: Options, *, output_format: str, exit_zero: bool = False) -> int:
    from slimfile.report import FORMATS

    if output_format not in FORMATS:
        err(f"error: unknown output format '{output_format}' (choose from {', '.join(FORMATS)})")
        return EXIT_ERROR
    try:
        jobs, errors = _prepare(options, "fix" if output_format == "diff" else "check")
    except ConfigError as exc:
        err(f"error: {exc}")
        return EXIT_ERROR
    on_done, stop = _progress(len(jobs))
    try:
        outcomes = run_jobs(jobs, workers=options.jobs, on_done=on_done)
    finally:
        stop()
    errors = list(errors) + [o.error for o in outcomes if o.error is not None]
    good = [o for o in outcomes if o.error is None]
    unsafe = bool(jobs and jobs[0].settings.unsafe_fixes)
    found = _render_check(good, output_format, unsafe, options)
    _report_errors(errors)
    if errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if found and not exit_zero else EXIT_OK


def _render_check(outcomes: list[FileOutcome], output_format: str, unsafe: bool, options: Options) -> bool:
    """Write the report; True when there was anything to report."""
    from slimfile.report import render_outcomes

    text, found = render_outcomes(outcomes, output_format, unsafe_fixes=unsafe, quiet=options.quiet)
    sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text)
    sys.stdout.flush()
    return found


def run_parse(file: str, *, json_output: bool, buildkit: str) -> int:
    from slimfile.files import check_not_binary, read_dockerfile
    from slimfile.shell.dump import add_run_facts
    from slimfile.syntax.dump import to_dict
    from slimfile.syntax.parser import parse

    try:
        if file == STDIN:
            source = sys.stdin.buffer.read()
            check_not_binary(source, file)
        else:
            source = read_dockerfile(file)
        tree = parse(source, path=file, buildkit=buildkit)
    except DockerfileError as exc:
        exc.path = exc.path or file
        err(f"error: {exc}")
        return EXIT_ERROR
    data = to_dict(tree)
    add_run_facts(tree, data)
    if json_output:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK
    for node in data["instructions"]:
        flags = (" " + " ".join(node["flags"])) if node["flags"] else ""
        lines = f"{node['start_line']}" if node["start_line"] == node["end_line"] else f"{node['start_line']}-{node['end_line']}"
        sys.stdout.write(f"{lines:>9}  {node['keyword']}{flags} {node['logical']}\n")
        for heredoc in node["heredocs"]:
            sys.stdout.write(f"{'':>9}  <<{heredoc['name']} ({len(heredoc['body'].splitlines())} lines)\n")
    return EXIT_OK


def run_rules(*, json_output: bool) -> int:
    from slimfile.pipeline import all_rules

    rules = all_rules()
    if json_output:
        data = [
            {
                "code": r.code,
                "name": r.name,
                "summary": r.summary,
                "fix": r.fix_title,
                "safety": r.safety.value,
                "related": list(r.related),
            }
            for r in rules
        ]
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return EXIT_OK
    if not rules:
        sys.stdout.write("No rules are registered.\n")
    for r in rules:
        sys.stdout.write(f"{r.code:<7} {r.name:<34} {r.safety.value:<7} {r.summary}\n")
    return EXIT_OK


def run_explain(code: str) -> int:
    from slimfile.pipeline import rule_by_code

    rule = rule_by_code(code)
    if rule is None:
        err(f"error: unknown rule '{code}' (see `slimfile rules`)")
        return EXIT_ERROR
    header = f"# {rule.name} ({rule.code})\n\nFix: {rule.fix_title} ({rule.safety.value} by default)\n"
    if rule.related:
        header += f"Related: {', '.join(rule.related)}\n"
    sys.stdout.write(header + "\n" + rule.doc.strip() + "\n")
    return EXIT_OK
