"""docs/rules.md, generated from the rules themselves (ruff's approach: the rule's docstring is
its documentation). Regenerate with ``python -m slimfile.report.rule_docs > docs/rules.md``;
a test fails when the file is out of date."""

from __future__ import annotations

from slimfile.diagnostics import Rule


def _anchor(rule: Rule) -> str:
    return f"{rule.code.lower()}-{rule.name}"


def render(rules: list[Rule]) -> str:
    lines = [
        "# Rules",
        "",
        "Generated from the rules' own documentation (`python -m slimfile.report.rule_docs > docs/rules.md`);",
        "`slimfile explain CODE` prints the same text. Safe fixes run with `slimfile fix`; unsafe ones need",
        "`--unsafe-fixes`. The safety shown is the usual one: each finding decides its own (for example",
        "SF601 is unsafe when a source cannot be checked in the build context).",
        "",
        "| code | name | fix | safety | related |",
        "|---|---|---|---|---|",
    ]
    for rule in rules:
        related = ", ".join(rule.related)
        lines.append(f"| [{rule.code}](#{_anchor(rule)}) | {rule.name} | {rule.fix_title} | {rule.safety.value} | {related} |")
    for rule in rules:
        lines += ["", f"## {rule.code} {rule.name}", "", f"*{rule.summary}.* Fix: {rule.fix_title} ({rule.safety.value}).", ""]
        body = rule.doc.strip().replace("\n## ", "\n### ")
        if body.startswith("## "):
            body = "#" + body
        lines.append(body)
    return "\n".join(lines) + "\n"


def main() -> None:
    from slimfile.pipeline import all_rules

    print(render(all_rules()), end="")


if __name__ == "__main__":
    main()
