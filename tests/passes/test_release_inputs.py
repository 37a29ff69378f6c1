"""SF901's release stage against odd or invalid inputs of the build context: paths its
``COPY --from`` lines cannot name, and Cargo.toml files that cargo itself refuses."""

from __future__ import annotations

import pytest

from tests.passes.test_node_recipe import TSC_APP, fixed, message, package, project


def test_a_build_output_copy_cannot_name_refuses_the_split(tmp_path):
    """The release stage copies each artefact with ``COPY --from``: a path BuildKit reads as a
    pattern (``*``, ``?``, ``[``, ``\\``) or holding a line break is not written."""
    context = project(tmp_path, {"package.json": package(build="tsc --outDir 'out[1]'"), "tsconfig.json": "{}"})
    assert message(TSC_APP.replace("dist/index.js", "out[1]/index.js"), context).endswith(
        "not split: /app/out[1]: slimfile writes no COPY of a path holding a line break, `*`, `?`, `[` or `\\` (BuildKit reads the last four as a pattern)"
    )
    odd = project(tmp_path / "odd", {"package.json": package(build="tsc --outDir 'it$s'"), "tsconfig.json": "{}"})
    assert """COPY --from=build ["/app/it\\\\$s", "/app/it\\\\$s"]""" in fixed(TSC_APP.replace("dist/index.js", "it$s/index.js"), odd)


@pytest.mark.parametrize(
    ("cargo", "reason"),
    [
        ("package = 5\n", "Cargo.toml is not valid: `bin` must be an array of tables, `package` a table"),
        ("bin = 5\n", "Cargo.toml is not valid: `bin` must be an array of tables, `package` a table"),
        ("[[bin]]\nname = 5\n", "Cargo.toml is not valid: a name must be a string"),
        ("[package]\nname = 5\n", "Cargo.toml is not valid: a name must be a string"),
    ],
)
def test_a_cargo_toml_cargo_refuses_is_a_reason_not_a_crash(tmp_path, cargo: str, reason: str):
    """``package = 5`` or ``bin = 5`` was an AttributeError or TypeError in SF901 (an internal
    error for the Dockerfile); ``name = 5`` named the binary "5"."""
    context = project(tmp_path, {"Cargo.toml": cargo, "src/main.rs": "fn main() {}\n"})
    source = 'FROM rust:1\nWORKDIR /src\nCOPY . .\nRUN cargo build --release\nCMD ["/src/target/release/app"]\n'
    assert message(source, context).endswith(f"not split: {reason}")


def test_paths_copy_cannot_carry_are_named_with_the_reason():
    """Checked on the zoo's engine: ``COPY ["p/\\u00e9/f.json", ...]`` copies ``p/é``, but a
    name that is not UTF-8 reaches BuildKit's JSON decoder as U+FFFD ("not found")."""
    from slimfile.restructure.moves import copy_cannot_name

    assert copy_cannot_name("p/é/f.json") == ""
    assert copy_cannot_name("p/n\udcffm/f.json") == "slimfile writes no COPY of a path that is not valid UTF-8"
    assert copy_cannot_name("p/a*b").startswith("slimfile writes no COPY of a path holding a line break")
