"""``--output-format github``: GitHub Actions workflow commands, one annotation per finding.

``::warning file=F,line=L,col=C,endLine=EL,endColumn=EC,title=T::MESSAGE``. Per the Actions
toolkit, the message escapes ``%``, CR and LF; property values also escape ``:`` and ``,``
(which would otherwise end the value). Other control characters are shown escaped
(``\x1b``). Files that could not be processed become ``::error``.
"""

from __future__ import annotations

from slimfile.report.model import Report

# control characters but line breaks, shown escaped (``\x1b``): the log viewer reads escape
# sequences, and a name of the pull request could colour or hide the annotation's text
_CONTROLS = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F) if code not in (0x0A, 0x0D)} | {0x09: "\\t"}


def escape_data(text: str) -> str:
    return text.translate(_CONTROLS).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(kind: str, properties: dict[str, object], message: str) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{kind} {props}::{escape_data(message)}"


def render(report: Report) -> str:
    lines = []
    for file, finding in report.items():
        line, column = file.index.position(finding.start)
        end_line, end_column = file.index.position(finding.end)
        message = finding.message
        fix = report.offered_fix(file, finding)
        if fix is not None:
            creates = "".join(f"; it creates {report.relative_path(new.path)}" for new in fix.creates)
            message += f" (fixable with `slimfile fix`{' --unsafe-fixes' if report.unsafe_fixes else ''}{creates})"
        properties = {
            "file": report.relative_path(file.path),
            "line": line,
            "col": column,
            "endLine": end_line,
            "endColumn": end_column,
            "title": f"slimfile {finding.rule.code} ({finding.rule.name})",
        }
        lines.append(command(finding.rule.severity, properties, message))
    for error in report.errors:
        properties = {"file": report.relative_path(error.path) if error.path else ""}
        if error.line:
            properties["line"] = error.line
        properties["title"] = "slimfile could not process this file"
        lines.append(command("error", properties, error.message))
    return "".join(line + "\n" for line in lines)
