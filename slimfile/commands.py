"""What each CLI command does, apart from option parsing (kept out of :mod:`slimfile.cli`)."""

from __future__ import annotations

import json
import os
import signal
import sys
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Iterator, Sequence

from slimfile.config import (
    ConfigError,
    FileConfig,
    check_exclude_pattern,
    config_in,
    load_config,
    split_codes,
    validate_codes,
)
from slimfile.engine import Settings
from slimfile.files import MAX_BYTES, STDIN, InputError, WalkWarning, create_atomic, discover, write_atomic
from slimfile.ignore import DEFAULT_EXCLUDE, ExcludeRules
from slimfile.isolation import InternalFailure, parse_timeout
from slimfile.runner import FileOutcome, Job, job_for, run_jobs, stdin_read, worker_count
from slimfile.signals import Interrupted
from slimfile.syntax.errors import DockerfileError
from slimfile.textformats import visible

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C


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
    build_context: str | None = None  # where COPY/ADD sources are (default: each Dockerfile's directory)
    base_variant: str | None = None  # SF801/SF802: "slim" (default), "alpine" or "none"; overrides the configuration
    timeout: str | None = None  # --timeout: seconds per file, or "0" / "none" (default: configuration, else 60 per MiB)
    verbose: bool = False  # tracebacks of internal errors


def err(message: str) -> None:
    """One line on stderr, its control characters escaped: a path or a name from the repository
    may hold a line break or an escape sequence."""
    sys.stderr.write(visible(message) + "\n")


def _known_codes() -> list[str]:
    from slimfile.pipeline import all_rules

    return [r.code for r in all_rules()]


class SettingsResolver:
    """Settings for each file: its closest configuration file, overridden by the CLI."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.codes = _known_codes()
        self.loaded: dict[Path, FileConfig] = {}
        self.exclude_cache: dict[str | None, ExcludeRules] = {}
        self.settings_cache: dict[tuple, Settings] = {}
        self.closest: dict[str, Path | None] = {}
        self.fixed: FileConfig | None = None
        if options.isolated:
            self.fixed = FileConfig()
        elif options.config:
            self.fixed = load_config(Path(options.config), self.codes)
        self.cli_select = self._codes(options.select, "--select")
        self.cli_extend = self._codes(options.extend_select, "--extend-select") or ()
        self.cli_ignore = self._codes(options.ignore, "--ignore") or ()
        self.cli_timeout = self._timeout(options.timeout)
        for key, patterns in (("--exclude", options.exclude), ("--extend-exclude", options.extend_exclude)):
            for pattern in patterns or ():
                check_exclude_pattern(pattern, key)

    @staticmethod
    def _timeout(text: str | None) -> float | None:
        """``--timeout`` in seconds (0.0: no budget); None when not given."""
        if text is None:
            return None
        try:
            return parse_timeout(text, "--timeout") or 0.0
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    def _codes(self, text: str | None, key: str) -> tuple[str, ...] | None:
        values = split_codes(text)
        return None if values is None else validate_codes(values, self.codes, None, key)

    def _closest_config_path(self, directory: str) -> Path | None:
        """Memoised per directory, so a walk over thousands of directories stats each once."""
        if directory not in self.closest:
            found = config_in(directory)
            parent = os.path.dirname(directory)
            if found is None and parent != directory:
                found = self._closest_config_path(parent)
            self.closest[directory] = found
        return self.closest[directory]

    def config_for_directory(self, directory: str | os.PathLike) -> FileConfig:
        if self.fixed is not None:
            return self.fixed
        directory = os.fspath(directory)
        found = self._closest_config_path(directory if os.path.isabs(directory) else os.path.abspath(directory))
        if found is None:
            return FileConfig()
        if found not in self.loaded:
            self.loaded[found] = load_config(found, self.codes)
        return self.loaded[found]

    def config_for(self, path: str) -> FileConfig:
        if path == STDIN:
            return self.config_for_directory(os.getcwd())
        return self.config_for_directory(path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path)))

    def settings_for(self, path: str, directory: str | None = None) -> Settings:
        """``directory``, the file's absolute directory, spares a look-up when it is known."""
        config = self.config_for_directory(directory) if directory else self.config_for(path)
        extra_ignores = config.ignores_for(path) if path != STDIN else ()
        key = (config.path, extra_ignores)
        if key not in self.settings_cache:  # one Settings per configuration, not per file
            self.settings_cache[key] = self._settings(config, extra_ignores)
        return self.settings_cache[key]

    def _settings(self, config: FileConfig, extra_ignores: tuple[str, ...]) -> Settings:
        select = self.cli_select if self.cli_select is not None else config.select
        unsafe = self.options.unsafe_fixes if self.options.unsafe_fixes is not None else bool(config.unsafe_fixes)
        ignore = set(config.ignore) | set(self.cli_ignore) | set(extra_ignores)
        timeout = next((t for t in (self.cli_timeout, config.timeout) if t is not None), None)
        return Settings(
            unsafe_fixes=unsafe,
            select=frozenset(select) if select is not None else None,
            extend_select=frozenset(config.extend_select) | frozenset(self.cli_extend),
            ignore=frozenset(ignore),
            buildkit=self.options.buildkit,
            build_context=self.options.build_context,
            timeout=timeout or None,
            timeout_by_size=timeout is None,
            options=dict(config.preferences) | ({"base-variant": self.options.base_variant} if self.options.base_variant else {}),
        )

    def exclude_rules(self, directory: str) -> ExcludeRules:
        """The exclude patterns for entries of ``directory``.

        ``--exclude`` replaces, for every directory, what a configuration's ``exclude`` would
        say, which itself replaces the defaults; ``extend-exclude`` from the closest
        configuration and ``--extend-exclude`` add to that. Configuration patterns are relative
        to the configuration file's directory, command-line ones to the current directory.
        """
        config = self.config_for_directory(directory)
        if config.path not in self.exclude_cache:
            cwd = Path.cwd()
            layers: list[tuple[Path, tuple[str, ...]]] = []
            if self.options.exclude is not None:
                layers.append((cwd, tuple(self.options.exclude)))
            elif config.exclude is not None:
                layers.append((config.root or cwd, config.exclude))
            else:
                layers.append((cwd, DEFAULT_EXCLUDE))
            if config.extend_exclude:
                layers.append((config.root or cwd, config.extend_exclude))
            if self.options.extend_exclude:
                layers.append((cwd, tuple(self.options.extend_exclude)))
            self.exclude_cache[config.path] = ExcludeRules(layers)
        return self.exclude_cache[config.path]

    def respect_gitignore(self) -> bool:
        """``--no-respect-gitignore``, else ``respect-gitignore`` of the first path's configuration."""
        if not self.options.respect_gitignore:
            return False
        root_config = self.config_for(self.options.paths[0] if self.options.paths else ".")
        return root_config.respect_gitignore is not False


def _jobs(options: Options, mode: str, errors: list[DockerfileError], warnings: list[WalkWarning]) -> Iterator[Job]:
    """Jobs as discovery finds files (lazily, so workers start while the walk goes on); paths
    that cannot even be discovered go to ``errors``, entries a walk skipped to ``warnings``.
    A ConfigError stops everything."""
    resolver = SettingsResolver(options)
    found = discover(
        options.paths or ["."],
        respect_gitignore=resolver.respect_gitignore(),
        force_exclude=options.force_exclude,
        exclude_for=resolver.exclude_rules,
    )
    for item in found:
        if isinstance(item, InputError):
            errors.append(item)
            continue
        if isinstance(item, WalkWarning):
            warnings.append(item)
            continue
        settings = resolver.settings_for(item.path, item.directory)
        yield job_for(item.path, mode, settings, explicit=item.explicit, stdin_filename=options.stdin_filename)


def _execute(options: Options, mode: str) -> tuple[list[FileOutcome], list[DockerfileError]]:
    """Discover and run every file. Configuration errors raise ConfigError before any output."""
    errors: list[DockerfileError] = []
    warnings: list[WalkWarning] = []
    try:
        workers, too_many = worker_count(options.jobs)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if options.build_context is not None and not os.path.isdir(options.build_context):
        # a mistyped --context must not quietly turn every finding about COPY sources into
        # "the build context is not known"; docker build refuses it too
        raise ConfigError(f"--context {options.build_context}: the build context is not a directory")
    if too_many and not options.quiet:
        err(f"warning: {too_many}")
    jobs = _jobs(options, mode, errors, warnings)
    first = next(jobs, None)  # reads the configuration: a ConfigError surfaces before any work
    progress = ProgressDisplay()
    try:
        pending = jobs if first is None else chain([first], jobs)
        outcomes = run_jobs(pending, workers=workers, on_done=progress.done, on_queued=progress.queued)
    finally:
        progress.stop()
    if not options.quiet:
        _warn(outcomes, warnings, _known_codes())
    return outcomes, errors


def _warn(outcomes: Sequence[FileOutcome], walk_warnings: Sequence[WalkWarning], known: list[str]) -> None:
    from slimfile.suppressions import unknown_codes

    for warning in walk_warnings:
        err(f"warning: {warning}")
    for outcome in outcomes:
        if outcome.skipped is not None:
            err(f"warning: skipped {outcome.skipped}")
        for line, code in unknown_codes(outcome.source, known):
            err(f"warning: {outcome.path}:{line}: unknown rule code '{code}' in a suppression comment")


def _report_errors(errors: Sequence[DockerfileError], verbose: bool = False) -> None:
    for error in errors:
        err(f"error: {error}")
        if verbose and isinstance(error, InternalFailure) and error.details:
            for line in error.details.splitlines():
                err("  " + line)


PROGRESS_MIN_FILES = 50


def show_progress(total: int, stream=None) -> bool:
    """A progress bar is worth it for long runs, and only readable on a terminal."""
    stream = sys.stderr if stream is None else stream
    return total >= PROGRESS_MIN_FILES and stream.isatty()


class ProgressDisplay:
    """A rich progress bar on stderr, started once enough files are known (discovery is still
    walking while the first files are checked), transient: it disappears when the run ends."""

    def __init__(self, stream=None) -> None:
        self.stream = stream
        self.total = 0
        self.completed = 0
        self.bar = None
        self.task = None

    def queued(self, count: int) -> None:
        self.total += count
        if self.bar is None and show_progress(self.total, self.stream):
            self._start()
        if self.bar is not None:
            self.bar.update(self.task, total=self.total)

    def done(self, _outcome: FileOutcome) -> None:
        self.completed += 1
        if self.bar is not None:
            self.bar.update(self.task, completed=self.completed)

    def _start(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (TextColumn("slimfile"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        self.bar = Progress(*columns, transient=True, console=_stderr_console(self.stream))
        self.task = self.bar.add_task("files", total=self.total, completed=self.completed)
        self.bar.start()

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _stderr_console(stream=None):
    from rich.console import Console

    return Console(stderr=True) if stream is None else Console(file=stream, force_terminal=True)


def run_fix(options: Options, *, diff: bool, check: bool) -> int:
    from slimfile.report.diff import outcome_diff
    from slimfile.report.summary import FixSummary
    from slimfile.report.text import finding_line

    try:
        outcomes, errors = _execute(options, "diff" if diff else "fix")
    except (KeyboardInterrupt, Interrupted) as exc:
        return _interrupted(exc, "; no file was changed" if not (diff or check) else "")
    except ConfigError as exc:
        err(f"error: {exc}")
        if STDIN in options.paths and not diff and not check:
            _pass_through(stdin_read(), sys.stdout.buffer, everything=True)
        return EXIT_ERROR
    out = sys.stdout.buffer
    summary = FixSummary(files_seen=len(outcomes) + len(errors))
    for outcome in outcomes:
        is_stdin = outcome.path == (options.stdin_filename or STDIN) and STDIN in options.paths
        if outcome.error is not None:
            errors.append(outcome.error)
            if is_stdin and not diff and not check:
                _pass_through(outcome.source, out)
            continue
        if outcome.fix is None:  # skipped
            continue
        result = outcome.fix
        _warn_about_fixes(outcome.path, result)
        summary.remaining += len(result.remaining)
        summary.hidden_unsafe += result.hidden_unsafe()
        if not options.quiet:
            for finding in result.remaining:
                err(finding_line(finding, fixable_marker=False))  # what is left was not fixable here
        if not result.changed:
            if is_stdin and not diff and not check:
                out.write(result.output)
            continue
        summary.files_changed += 1
        summary.applied.extend(result.applied)
        if diff:
            out.write(outcome_diff(outcome))
            summary.created.extend(new.path for new in result.created)
        elif check:
            if not options.quiet:
                err(f"Would fix: {outcome.path}")
            summary.created.extend(new.path for new in result.created)
        elif is_stdin:
            out.write(result.output)
        else:
            _write_fix(outcome.path, result, summary, errors)
    out.flush()
    _report_errors(errors, options.verbose)
    summary.files_failed = len(errors)
    if not options.quiet:
        for line in summary.lines(dry_run=diff or check):
            err(line)
    if errors:
        return EXIT_ERROR
    if (diff or check) and summary.files_changed:
        return EXIT_FINDINGS
    return EXIT_OK


def _interrupted(exc: BaseException, what_is_left: str) -> int:
    """Ctrl-C (exit 130) or SIGTERM/SIGHUP (128 + its number), as a shell reports them; the
    workers are already stopped."""
    if isinstance(exc, KeyboardInterrupt):
        err(f"error: interrupted{what_is_left}")
        return EXIT_INTERRUPTED
    err(f"error: stopped by {exc}{what_is_left}")
    return 128 + signal.Signals[str(exc)].value


def _pass_through(read: bytes, out, *, everything: bool = False) -> None:
    """``fix -`` on input it could not fix: the input, unchanged, on stdout (as ruff does), so a
    filter in an editor or a pipeline loses nothing; the exit code says it failed. Input past
    the size limit was read only up to it, and maybe none when the configuration was bad
    (``everything``): the rest is copied from stdin as it comes."""
    import shutil

    out.write(read)
    if everything or len(read) > MAX_BYTES:
        shutil.copyfileobj(sys.stdin.buffer, out)
    out.flush()


def _write_fix(path: str, result, summary, errors: list) -> None:
    """New files first (never over an existing file), then the Dockerfile: a rewrite that
    relies on a new .dockerignore is not written without it."""
    for new in result.created:
        try:
            create_atomic(new.path, new.content)
        except FileExistsError:
            message = f"not created: the file exists now (another fix in this run, or another program, made it); {path} left unchanged, run slimfile fix again"
            errors.append(InputError(message, path=new.path))
            return
        except OSError as exc:
            errors.append(InputError(f"cannot create: {exc.strerror}; {path} left unchanged", path=new.path))
            return
        summary.created.append(new.path)
    if result.output == result.source:
        return
    try:
        write_atomic(path, result.output)
    except OSError as exc:
        errors.append(InputError(f"cannot write: {exc.strerror}", path=path))


def _warn_about_fixes(path: str, result) -> None:
    for rejected in result.rejected:
        err(f"warning: {path}:{rejected.finding.line}: dropped fix {rejected.finding.rule.code} ({rejected.reason})")
    if not result.converged:
        err(f"warning: {path}: fixes did not converge after {result.rounds} rounds")


def run_check(options: Options, *, output_format: str, exit_zero: bool = False) -> int:
    from slimfile.report import FORMATS

    if output_format not in FORMATS:
        err(f"error: unknown output format '{output_format}' (choose from {', '.join(FORMATS)})")
        return EXIT_ERROR
    try:
        outcomes, errors = _execute(options, "diff" if output_format == "diff" else "check")
    except (KeyboardInterrupt, Interrupted) as exc:
        return _interrupted(exc, "")
    except ConfigError as exc:
        err(f"error: {exc}")
        return EXIT_ERROR
    errors = list(errors) + [o.error for o in outcomes if o.error is not None]
    good = [o for o in outcomes if o.error is None and o.skipped is None]
    unsafe = _unsafe_fixes(options, good)
    found = _render_check(good, output_format, unsafe, options, errors)
    _report_errors(errors, options.verbose)
    if errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if found and not exit_zero else EXIT_OK


def _unsafe_fixes(options: Options, outcomes: Sequence[FileOutcome]) -> bool:
    """Whether reports offer unsafe fixes: --unsafe-fixes, else what the configuration says."""
    if options.unsafe_fixes is not None:
        return options.unsafe_fixes
    return False  # each file's own setting still applies (FileOutcome.unsafe_fixes)


def _render_check(
    outcomes: list[FileOutcome], output_format: str, unsafe: bool, options: Options, errors: Sequence[DockerfileError]
) -> bool:
    """Write the report; True when there was anything to report."""
    from slimfile.report import render_outcomes

    text, found = render_outcomes(outcomes, output_format, unsafe_fixes=unsafe, quiet=options.quiet, errors=errors)
    sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text)
    sys.stdout.flush()
    return found


def run_parse(file: str, *, json_output: bool, buildkit: str) -> int:
    from slimfile.files import check_input, read_dockerfile, read_limited
    from slimfile.shell.dump import parse_json_chunks
    from slimfile.syntax.dump import to_dict
    from slimfile.syntax.parser import parse

    try:
        if file == STDIN:
            source = read_limited(sys.stdin.buffer)
            check_input(source, file)
        else:
            source = read_dockerfile(file)
        tree = parse(source, path=file, buildkit=buildkit)
    except DockerfileError as exc:
        exc.path = exc.path or file
        err(f"error: {exc}")
        return EXIT_ERROR
    if json_output:
        # json.dumps(indent=2)'s text, faster; one instruction's facts at a time, the whole
        # text kept until the end so that a failure writes nothing
        try:
            chunks = list(parse_json_chunks(tree))
        except RecursionError:  # as run_job reports it for check and fix
            err(f"error: {file}: input too deeply nested to analyse")
            return EXIT_ERROR
        sys.stdout.writelines(chunks)
        sys.stdout.write("\n")
        return EXIT_OK
    data = to_dict(tree)  # the listing needs no shell facts
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


@dataclass
class VerifyOptions:
    dockerfile: str = "Dockerfile"
    context: str | None = None
    target: str | None = None
    unsafe_fixes: bool | None = None
    run: str | None = None
    json_output: bool = False
    per_fix: bool = False
    keep: bool = False
    run_timeout: float = 120.0
    config: str | None = None
    isolated: bool = False
    base_variant: str | None = None


def run_verify(options: VerifyOptions, passes=None) -> int:
    """Build, compare, report. ``passes`` replaces the pipeline (tests inject fixes with it)."""
    from rich.console import Console

    from slimfile.verify import VerifyRequest, verify
    from slimfile.verify.progress import ConsoleProgress
    from slimfile.verify.render import render

    try:
        resolver = SettingsResolver(
            Options(
                paths=[options.dockerfile], unsafe_fixes=options.unsafe_fixes, config=options.config, isolated=options.isolated,
                base_variant=options.base_variant,
            )
        )
        settings = resolver.settings_for(options.dockerfile)
    except ConfigError as exc:
        err(f"error: {exc}")
        return EXIT_ERROR
    request = VerifyRequest(
        dockerfile=Path(options.dockerfile),
        context=Path(options.context) if options.context else None,
        target=options.target,
        settings=settings,
        run=options.run,
        per_fix=options.per_fix,
        keep=options.keep,
        run_timeout=options.run_timeout,
    )
    progress = ConsoleProgress(_stderr_console(), plain_lines=not options.json_output)
    try:
        report = verify(request, passes=passes, progress=progress)
    except KeyboardInterrupt:  # before anything was built (reading, fixing, connecting)
        err("error: interrupted")
        return EXIT_INTERRUPTED
    finally:
        progress.close()
    if report.error is not None and not report.engine and not options.json_output:
        err(f"error: {report.error}")  # verify could not start (arguments, input, engine): one line
        return report.exit_code
    if options.json_output:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
    else:
        render(report, Console())
    return report.exit_code


@dataclass
class LayersOptions:
    subject: str = "Dockerfile"  # an image with --dockerfile, else a Dockerfile to build
    dockerfile: str | None = None
    context: str | None = None
    target: str | None = None
    output_format: str = "text"
    output_file: str | None = None
    fail_under: float | None = None
    top: int = 5
    depth: int = 3
    keep: bool = False
    config: str | None = None
    isolated: bool = False


def layers_request(options: LayersOptions):
    """What ``slimfile layers`` is asked: an image (``--dockerfile`` names its Dockerfile) or a
    Dockerfile to build (a file or a directory with one; anything else is an image reference)."""
    from slimfile.layers import LayersRequest

    subject = Path(options.subject)
    if options.dockerfile is not None:
        image, dockerfile = options.subject, Path(options.dockerfile)
    elif options.context is not None or subject.is_file():
        image, dockerfile = None, subject
    elif subject.is_dir():
        image, dockerfile = None, subject / "Dockerfile"
    else:
        image, dockerfile = options.subject, None
    if dockerfile is not None and not dockerfile.is_file():
        raise InputError(f"{dockerfile}: no such Dockerfile")
    settings_path = str(dockerfile) if dockerfile is not None else os.getcwd()
    resolver = SettingsResolver(Options(paths=[settings_path], config=options.config, isolated=options.isolated))
    return LayersRequest(
        image=image,
        dockerfile=dockerfile,
        context=Path(options.context) if options.context else None,
        target=options.target,
        settings=resolver.settings_for(settings_path),
        keep=options.keep,
        top=options.top,
        depth=options.depth,
        fail_under=options.fail_under,
    )


def run_layers(options: LayersOptions) -> int:
    """Report, render in the chosen format, exit 0 / 1 (below --fail-under) / 2 (no report)."""
    from rich.console import Console

    from slimfile.layers import analyze
    from slimfile.layers.render import RENDERERS
    from slimfile.verify.progress import ConsoleProgress

    if options.output_format not in RENDERERS:
        err(f"error: unknown output format {options.output_format!r} (choose from {', '.join(RENDERERS)})")
        return EXIT_ERROR
    try:
        request = layers_request(options)
    except (InputError, ConfigError) as exc:
        err(f"error: {exc}")
        return EXIT_ERROR
    progress = ConsoleProgress(_stderr_console(), plain_lines=options.output_format == "text", command="slimfile layers")
    try:
        report = analyze(request, progress=progress)
    finally:
        progress.close()
    if report.error is not None and options.output_format != "json":
        for line in report.error_log:
            err(line)
        err(f"error: {report.error}")
        return report.exit_code
    if options.output_format == "text" and not options.output_file:
        from slimfile.layers.render_text import render as render_text

        render_text(report, Console())
        return report.exit_code
    text = RENDERERS[options.output_format](report)
    if options.output_file:
        write_atomic(options.output_file, text.encode("utf-8"))
        err(f"slimfile layers: report written to {options.output_file}")
    else:
        sys.stdout.write(text)
    return report.exit_code
