"""The ``slimfile`` command line (typer). Thin: it parses options and hands over to
:mod:`slimfile.commands`. Heavy modules are imported inside commands so start-up stays fast.

Exit codes: 0 nothing to change, 1 findings or changes under ``check`` / ``fix --check`` /
``fix --diff``, 2 errors (unreadable or unparsable input, bad options or configuration).
``verify`` keeps the same scheme: 0 verified, 1 the rewrite fails to build or differs in an
undeclared way, 2 verify could not run (arguments, engine, or an original that does not build).
``layers``: 0 report made, 1 efficiency below ``--fail-under``, 2 no report (arguments, engine,
image not found, build failed).
"""

from __future__ import annotations

import errno
import os
import sys
from typing import List, Optional

import typer

from slimfile import __version__

app = typer.Typer(
    name="slimfile",
    help="Rewrite Dockerfiles so that images get smaller and rebuild faster, without breaking the build.",
    no_args_is_help=True,
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
# the same names as slimfile.report.FORMATS (a test keeps them equal); not imported from there
# so that start-up stays light
OUTPUT_FORMATS = ("text", "json", "diff", "sarif", "rdjson", "github", "markdown")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"slimfile {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """slimfile: smaller images, faster rebuilds, never a broken build."""


PathsArg = typer.Argument(None, help="Files or directories ('-' reads standard input). Default: the current directory.")
UnsafeOpt = typer.Option(None, "--unsafe-fixes/--no-unsafe-fixes", help="Also apply (or offer) fixes that can change what the image contains.")
SelectOpt = typer.Option(None, "--select", help="Comma-separated rule codes or prefixes to enable (default: all).")
ExtendSelectOpt = typer.Option(None, "--extend-select", help="Rule codes or prefixes to enable on top of the selection.")
IgnoreOpt = typer.Option(None, "--ignore", help="Comma-separated rule codes or prefixes to disable.")
ExcludeOpt = typer.Option(None, "--exclude", help="Gitignore-style patterns to skip when walking directories (replaces the defaults).")
ExtendExcludeOpt = typer.Option(None, "--extend-exclude", help="Patterns to skip on top of the default excludes.")
ConfigOpt = typer.Option(None, "--config", help="Use this slimfile.toml / pyproject.toml instead of discovering one.")
IsolatedOpt = typer.Option(False, "--isolated", help="Ignore every configuration file.")
StdinNameOpt = typer.Option(None, "--stdin-filename", help="The name to report for input read from '-'.")
JobsOpt = typer.Option(None, "--jobs", "-j", help="Worker processes (default: one per CPU).")
NoGitignoreOpt = typer.Option(False, "--no-respect-gitignore", help="Also process files that .gitignore excludes.")
ForceExcludeOpt = typer.Option(False, "--force-exclude", help="Apply excludes to files named on the command line too.")
QuietOpt = typer.Option(False, "--quiet", "-q", help="Print only findings, diffs or errors (no summary).")
ContextOpt = typer.Option(
    None, "--context", help="The build context, for rules that look at COPY/ADD sources (default: each Dockerfile's directory)."
)
TimeoutOpt = typer.Option(
    None,
    "--timeout",
    metavar="SECONDS",
    help="Time budget per file: a file that takes longer is an error and the others go on "
    "(default: the `timeout` setting, else 60 per MiB of the file, at least 60; 0 or 'none': no budget).",
)
VerboseOpt = typer.Option(False, "--verbose", "-v", help="Show a traceback for internal errors.")
BaseVariantOpt = typer.Option(
    None, "--base-variant", help="The smaller base image variant SF801/SF802 propose: slim (default), alpine or none.",
    autocompletion=lambda: ["slim", "alpine", "none"],
)
BuildkitOpt = typer.Option("current", "--buildkit", help="Parser rules: 'current' (buildkit HEAD) or '0.12'.", hidden=True)


def _options(values: dict):
    """The file-processing options that ``fix`` and ``check`` share, from a command's arguments."""
    from slimfile.commands import Options

    return Options(
        paths=values["paths"] or [],
        unsafe_fixes=values["unsafe_fixes"],
        select=values["select"],
        extend_select=values["extend_select"],
        ignore=values["ignore"],
        exclude=values["exclude"],
        extend_exclude=values["extend_exclude"],
        config=values["config"],
        isolated=values["isolated"],
        stdin_filename=values["stdin_filename"],
        jobs=values["jobs"],
        respect_gitignore=not values["no_respect_gitignore"],
        force_exclude=values["force_exclude"],
        quiet=values["quiet"],
        buildkit=values["buildkit"],
        build_context=values["context"],
        timeout=values["timeout"],
        verbose=values["verbose"],
        base_variant=_base_variant(values.get("base_variant")),
    )


def _base_variant(value: str | None) -> str | None:
    if value is not None and value not in ("slim", "alpine", "none"):
        raise typer.BadParameter(f"must be slim, alpine or none, not {value!r}", param_hint="--base-variant")
    return value


@app.command()
def fix(
    paths: Optional[List[str]] = PathsArg,
    diff: bool = typer.Option(False, "--diff", help="Print a unified diff of the changes and write nothing."),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 when a change would be made."),
    unsafe_fixes: Optional[bool] = UnsafeOpt,
    select: Optional[str] = SelectOpt,
    extend_select: Optional[str] = ExtendSelectOpt,
    ignore: Optional[str] = IgnoreOpt,
    exclude: Optional[List[str]] = ExcludeOpt,
    extend_exclude: Optional[List[str]] = ExtendExcludeOpt,
    config: Optional[str] = ConfigOpt,
    isolated: bool = IsolatedOpt,
    stdin_filename: Optional[str] = StdinNameOpt,
    jobs: Optional[int] = JobsOpt,
    no_respect_gitignore: bool = NoGitignoreOpt,
    force_exclude: bool = ForceExcludeOpt,
    quiet: bool = QuietOpt,
    context: Optional[str] = ContextOpt,
    timeout: Optional[str] = TimeoutOpt,
    verbose: bool = VerboseOpt,
    base_variant: Optional[str] = BaseVariantOpt,
    buildkit: str = BuildkitOpt,
) -> None:
    """Apply fixes: in place, or as a diff (--diff), or just report (--check)."""
    from slimfile.commands import run_fix

    raise typer.Exit(run_fix(_options(locals()), diff=diff, check=check))


@app.command()
def check(
    paths: Optional[List[str]] = PathsArg,
    output_format: str = typer.Option(
        "text",
        "--output-format",
        "-o",
        help="text, json, diff, sarif, rdjson, github or markdown.",
        autocompletion=lambda: list(OUTPUT_FORMATS),
    ),
    unsafe_fixes: Optional[bool] = UnsafeOpt,
    select: Optional[str] = SelectOpt,
    extend_select: Optional[str] = ExtendSelectOpt,
    ignore: Optional[str] = IgnoreOpt,
    exclude: Optional[List[str]] = ExcludeOpt,
    extend_exclude: Optional[List[str]] = ExtendExcludeOpt,
    config: Optional[str] = ConfigOpt,
    isolated: bool = IsolatedOpt,
    stdin_filename: Optional[str] = StdinNameOpt,
    jobs: Optional[int] = JobsOpt,
    no_respect_gitignore: bool = NoGitignoreOpt,
    force_exclude: bool = ForceExcludeOpt,
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even when there are findings."),
    quiet: bool = QuietOpt,
    context: Optional[str] = ContextOpt,
    timeout: Optional[str] = TimeoutOpt,
    verbose: bool = VerboseOpt,
    base_variant: Optional[str] = BaseVariantOpt,
    buildkit: str = BuildkitOpt,
) -> None:
    """Report findings as `path:line:col: RULE message` ([*] marks fixable ones)."""
    from slimfile.commands import run_check

    raise typer.Exit(run_check(_options(locals()), output_format=output_format, exit_zero=exit_zero))


@app.command()
def parse(
    file: str = typer.Argument(..., help="A Dockerfile ('-' reads standard input)."),
    json_output: bool = typer.Option(False, "--json", help="Print the syntax tree as JSON."),
    buildkit: str = BuildkitOpt,
) -> None:
    """Print the syntax tree (instructions, flags, logical lines, heredocs, stages)."""
    from slimfile.commands import run_parse

    raise typer.Exit(run_parse(file, json_output=json_output, buildkit=buildkit))


@app.command()
def rules(json_output: bool = typer.Option(False, "--json", help="Print the rules as JSON.")) -> None:
    """List every rule: code, name, fix safety and summary."""
    from slimfile.commands import run_rules

    raise typer.Exit(run_rules(json_output=json_output))


@app.command()
def explain(rule: str = typer.Argument(..., help="A rule code (SF101) or name.")) -> None:
    """Print a rule's documentation."""
    from slimfile.commands import run_explain

    raise typer.Exit(run_explain(rule))


@app.command()
def verify(
    dockerfile: str = typer.Argument("Dockerfile", help="The Dockerfile to verify (default: ./Dockerfile)."),
    context: Optional[str] = typer.Option(None, "--context", help="The build context (default: the Dockerfile's directory)."),
    target: Optional[str] = typer.Option(None, "--target", help="Build this stage instead of the last one."),
    unsafe_fixes: Optional[bool] = UnsafeOpt,
    run: Optional[str] = typer.Option(
        None, "--run", help="Run this command in both images and compare output and exit code ('' runs their own CMD)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON (progress stays on stderr)."),
    per_fix: bool = typer.Option(False, "--per-fix", help="Also build with each rule's fixes alone and report the bytes each saved."),
    keep: bool = typer.Option(False, "--keep", help="Keep the images verify built (tagged slimfile-verify:...)."),
    run_timeout: float = typer.Option(120.0, "--run-timeout", help="Seconds each --run command may take."),
    config: Optional[str] = ConfigOpt,
    isolated: bool = IsolatedOpt,
    base_variant: Optional[str] = BaseVariantOpt,
) -> None:
    """Prove a rewrite with real builds: size, layers, cache reuse, config and files, before and after.

    verify builds the original and the fixed Dockerfile with the Docker engine at DOCKER_HOST
    (BuildKit, host network). Building RUNS CODE FROM THE DOCKERFILE, and --run runs the images:
    verify does this only when you ask for it, never pushes anything, and removes every image it
    built unless --keep. The only write to your tree: for the warm-rebuild measure, one comment
    line is appended to one application source file while that rebuild runs, and the file is
    restored byte for byte afterwards. Ctrl-C or SIGTERM at any point stops the build, removes
    every image and container verify made and restores that file (exit code 130).

    \b
    Exit codes:
      0  verified: the rewrite builds and every difference is declared by a fix
      1  the rewrite does not build, or differs in a way no applied fix declares
      2  verify could not run (bad arguments, no engine, or the original does not build)
      130  interrupted (Ctrl-C, SIGTERM); what verify built is removed
    """
    from slimfile.commands import VerifyOptions, run_verify

    options = VerifyOptions(
        dockerfile=dockerfile,
        context=context,
        target=target,
        unsafe_fixes=unsafe_fixes,
        run=run,
        json_output=json_output,
        per_fix=per_fix,
        keep=keep,
        run_timeout=run_timeout,
        config=config,
        isolated=isolated,
        base_variant=_base_variant(base_variant),
    )
    raise typer.Exit(run_verify(options))


LAYERS_FORMATS = ("text", "json", "markdown", "html")


@app.command()
def layers(
    subject: str = typer.Argument(
        "Dockerfile", help="An image (with --dockerfile), or a Dockerfile to build first (default: ./Dockerfile)."
    ),
    dockerfile: Optional[str] = typer.Option(None, "--dockerfile", help="The Dockerfile SUBJECT was built from: SUBJECT is then an image."),
    context: Optional[str] = typer.Option(None, "--context", help="The build context (default: the Dockerfile's directory)."),
    target: Optional[str] = typer.Option(None, "--target", help="The stage the image was (or is to be) built for (default: the last)."),
    output_format: str = typer.Option(
        "text", "--output-format", "-o", help="text, json, markdown (a PR comment) or html (one self-contained file).",
        autocompletion=lambda: list(LAYERS_FORMATS),
    ),
    output_file: Optional[str] = typer.Option(None, "--output-file", help="Write the report to this file instead of standard output."),
    fail_under: Optional[float] = typer.Option(
        None, "--fail-under", min=0, max=100, help="Exit 1 when the efficiency (percent of the image's bytes that are not waste) is below this."
    ),
    top: int = typer.Option(5, "--top", min=1, help="Largest files and folders shown per layer."),
    depth: int = typer.Option(3, "--depth", min=1, help="Folders are summed at this many path components (/usr/lib/go-1.19 is 3)."),
    keep: bool = typer.Option(False, "--keep", help="Keep the image built for the report (tagged slimfile-layers:...)."),
    config: Optional[str] = ConfigOpt,
    isolated: bool = IsolatedOpt,
) -> None:
    """Where an image's bytes go: each layer with its size, the Dockerfile line that made it and
    its largest folders; the waste measured in the layers (caches, lists, toolchains, docs, VCS
    folders, files a later layer deletes or overwrites, duplicates) with the rule whose fix
    removes it; an efficiency score.

    \b
      slimfile layers myimage:tag --dockerfile Dockerfile   an image you built
      slimfile layers Dockerfile --context .                build it first, then report
      slimfile layers -o html --output-file layers.html     one self-contained HTML page

    The image is read from the Docker engine at DOCKER_HOST (inspect, history, save); it is
    never pulled. Building RUNS CODE FROM THE DOCKERFILE (BuildKit, host network, the build
    cache used); the image built for the report is removed unless --keep.

    \b
    Exit codes:
      0  the report was made (and the efficiency is not below --fail-under)
      1  the efficiency is below --fail-under
      2  no report: bad arguments, no engine, image not found, or the build failed
    """
    from slimfile.commands import LayersOptions, run_layers

    options = LayersOptions(
        subject=subject,
        dockerfile=dockerfile,
        context=context,
        target=target,
        output_format=output_format,
        output_file=output_file,
        fail_under=fail_under,
        top=top,
        depth=depth,
        keep=keep,
        config=config,
        isolated=isolated,
    )
    raise typer.Exit(run_layers(options))


def entry() -> None:
    from slimfile.gc_tuning import tune_garbage_collector

    tune_garbage_collector()
    try:
        # a fixed program name: `python -m slimfile` would otherwise name the completion
        # variable after "python -m slimfile" (shell completion: `slimfile --install-completion`)
        app(prog_name="slimfile")
    except OSError as exc:
        if exc.errno not in _OUTPUT_FAILURES:
            raise
        _output_failed(exc)


# what writing the report can fail with (a broken pipe is click's: exit 1, quietly); fixed
# files and created files report their own write errors, per file
_OUTPUT_FAILURES = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO}


def _output_failed(exc: OSError) -> None:
    """A report that could not be written (``> /dev/full``, a full disk): one line and exit 2,
    not a traceback and exit 1, which reads as "findings"."""
    try:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stays open: nothing more to flush at exit (it would fail again)
    except OSError:
        pass
    sys.stderr.write(f"error: cannot write the output: {exc.strerror}\n")
    sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    entry()
