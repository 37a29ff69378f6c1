"""SF901's Node recipe: what it decides from package.json, tsconfig.json, the build tools'
configs and the start command, and the reason it gives when a fact is missing.

The before/after pairs live in fixtures/passes/SF901-multi-stage-split/node-*; these tests
check the messages of the refusals there and the decisions that the pairs do not show.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slimfile.analysis.manifests import parse_jsonc
from slimfile.analysis.recipes.node import slim_tag
from slimfile.analysis.recipes.node_commands import lockfile_bins
from slimfile.engine import Settings, check_source, fix_source
from tests.conftest import FIXTURES

CASES = FIXTURES / "passes" / "SF901-multi-stage-split"
SETTINGS = {"unsafe_fixes": True, "select": frozenset({"SF901"})}


def message(source: str, context: Path | None) -> str:
    settings = Settings(**SETTINGS, build_context=str(context) if context else "/nonexistent-context")
    findings = check_source(source.encode(), "Dockerfile", settings)
    assert len(findings) == 1, [f.message for f in findings]
    return findings[0].message


def fixed(source: str, context: Path) -> str:
    result = fix_source(source.encode(), "Dockerfile", Settings(**SETTINGS, build_context=str(context)))
    assert result.rejected == [], [r.reason for r in result.rejected]
    return result.output.decode()


def project(tmp_path: Path, files: dict[str, str | dict]) -> Path:
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return tmp_path


def package(build: str = "tsc", start: str | None = None, deps: dict | None = None, dev: dict | None = None, **more) -> dict:
    scripts = {"build": build, **({"start": start} if start else {})}
    return {"name": "app", "scripts": scripts, "dependencies": deps or {"ms": "2.1.3"}, "devDependencies": dev or {"typescript": "5.4.5"}, **more}


TSC_APP = """\
FROM node:18
WORKDIR /app
COPY . .
RUN npm ci && npm run build
CMD ["node", "dist/index.js"]
"""


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("node-dev-server-not-split", "the image starts a development server or runner (`vite`), which needs the sources and the devDependencies"),
        ("node-build-output-unknown-not-split", "`node scripts/build.mjs` runs a script of its own, whose output slimfile does not know"),
        ("node-start-needs-dev-dependency-not-split", "the start runs `next` from the devDependency `next`"),
        ("node-vite-config-not-read-not-split", "vite.config.ts sets `outDir`, which moves the output of vite (slimfile does not evaluate vite.config.ts)"),
        ("node-without-context-not-split", "the build context was not read: package.json's scripts say what the build writes"),
    ],
)
def test_the_refusals_of_the_fixture_cases_name_the_missing_fact(case: str, reason: str):
    directory = CASES / case
    context = directory / "context" if (directory / "context").is_dir() else None
    text = message((directory / "before.Dockerfile").read_text(), context)
    assert "not split: " in text and reason in text, text


def test_the_findings_of_the_splits_say_what_stays_behind():
    directory = CASES / "node-typescript-slim-release"
    text = message((directory / "before.Dockerfile").read_text(), directory / "context")
    assert "build and the production dependencies (`npm prune --omit=dev` in the build stage) on node:20-bookworm-slim" in text
    assert "the devDependencies (rimraf, typescript) stay in the build stage" in text


# -- tsconfig.json -------------------------------------------------------------------------------


def test_tsconfig_is_read_with_comments_and_trailing_commas():
    text = '{\n  // a comment "with quotes"\n  "a": "http://x/*not a comment*/", /* b */\n  "b": [1, 2,],\n}'
    assert parse_jsonc(text) == {"a": "http://x/*not a comment*/", "b": [1, 2]}


def test_tsc_out_dir_on_the_command_line_wins(tmp_path):
    context = project(tmp_path, {"package.json": package(build="tsc --outDir lib"), "tsconfig.json": '{"compilerOptions": {"outDir": "dist"}}'})
    output = fixed(TSC_APP.replace("dist/index.js", "lib/index.js"), context)
    assert "COPY --from=build /app/lib /app/lib" in output and "/app/dist" not in output


def test_tsc_without_out_dir_is_refused(tmp_path):
    context = project(tmp_path, {"package.json": package(), "tsconfig.json": '{"compilerOptions": {"strict": true}}'})
    assert "tsconfig.json sets no outDir: tsc writes the .js files next to the sources" in message(TSC_APP, context)


def test_tsc_extending_a_package_without_a_local_out_dir_is_refused(tmp_path):
    context = project(tmp_path, {"package.json": package(), "tsconfig.json": '{"extends": "@tsconfig/node18/tsconfig.json"}'})
    assert "extends `@tsconfig/node18/tsconfig.json` (not in the build context), so its outDir is not known" in message(TSC_APP, context)


def test_tsc_out_dir_of_an_extended_file_is_relative_to_that_file(tmp_path):
    context = project(
        tmp_path,
        {
            "package.json": package(),
            "tsconfig.json": '{"extends": "./config/base", "include": ["src"]}',
            "config/base.json": '{"compilerOptions": {"outDir": "../dist"}}',
        },
    )
    assert "COPY --from=build /app/dist /app/dist" in fixed(TSC_APP, context)


def test_a_type_check_alone_builds_nothing_to_copy(tmp_path):
    context = project(tmp_path, {"package.json": package(build="tsc --noEmit"), "tsconfig.json": '{"compilerOptions": {"outDir": "dist"}}'})
    assert check_source(TSC_APP.encode(), "Dockerfile", Settings(**SETTINGS, build_context=str(context))) == []


# -- scripts and commands ------------------------------------------------------------------------


def test_pre_and_post_scripts_and_nested_runs_are_followed(tmp_path):
    scripts = {"prebuild": "rimraf dist", "build": "npm run compile && cp -r assets dist/assets", "compile": "tsc"}
    context = project(
        tmp_path,
        {
            "package.json": {**package(dev={"typescript": "5.4.5", "rimraf": "5.0.5"}), "scripts": scripts},
            "tsconfig.json": '{"compilerOptions": {"outDir": "dist"}}',
            "assets/logo.svg": "<svg/>",
        },
    )
    output = fixed(TSC_APP, context)
    assert "COPY --from=build /app/dist /app/dist" in output
    assert "COPY --from=build /app/assets /app/assets" in output  # copied from the context too: kept


def test_scripts_that_run_scripts_many_times_are_followed_up_to_a_budget(tmp_path, monkeypatch):
    """Six levels of scripts, each running the next one eight times: 262,144 runs of the last
    one from a 400-byte package.json (25 s). The walk stops once the scripts ran the budget's
    commands and says so; the same tree three levels deep (512 runs) is followed to the end."""
    from slimfile.analysis import script_budget
    from slimfile.analysis.recipes import node_commands

    def fan_out(levels: int) -> dict:
        scripts = {f"b{i}": " && ".join([f"npm run b{i + 1}"] * 8) for i in range(levels)}
        return {**package(), "scripts": {**scripts, "build": "npm run b0", f"b{levels}": "tsc"}}

    expanded = []
    real = node_commands._expand_script
    monkeypatch.setattr(node_commands, "_expand_script", lambda walk, *a: expanded.append(1) or real(walk, *a))
    deep = project(tmp_path / "deep", {"package.json": fan_out(6), "tsconfig.json": '{"compilerOptions": {"outDir": "dist"}}'})
    text = message(TSC_APP, deep)
    assert "the scripts run other scripts more times than slimfile follows (10,000 commands" in text
    assert len(expanded) <= script_budget.SCRIPT_COMMANDS + 100  # each body spends a command or more; 299,594 bodies without it
    shallow = project(tmp_path / "shallow", {"package.json": fan_out(3), "tsconfig.json": '{"compilerOptions": {"outDir": "dist"}}'})
    assert "COPY --from=build /app/dist /app/dist" in fixed(TSC_APP, shallow)


def test_a_script_nested_too_deeply_is_refused_with_its_start_shown(tmp_path):
    """A package.json script of 1,500 nested "$(...)" stopped the whole Dockerfile ("input too
    deeply nested"): now the split is refused for it, quoting its first 40 characters."""
    body = '"$(' * 1500 + "tsc" + ')"' * 1500
    context = project(tmp_path, {"package.json": package(build=body), "tsconfig.json": '{"compilerOptions": {"outDir": "dist"}}'})
    text = message(TSC_APP, context)
    assert text.endswith('the `build` script (`' + '"$(' * 12 + '"...`) cannot be read: nested too deeply to read')


def test_a_start_script_that_runs_a_missing_file_is_refused(tmp_path):
    context = project(tmp_path, {"package.json": package(start="node server.js"), "tsconfig.json": '{"compilerOptions": {"outDir": "dist"}}'})
    text = message(TSC_APP.replace('["node", "dist/index.js"]', '["npm", "start"]'), context)
    assert "the image runs `node server.js`, which the build does not write and the stage did not copy" in text


def test_a_typescript_runner_is_refused(tmp_path):
    context = project(tmp_path, {"package.json": package(start="node -r ts-node/register src/index.ts"), "tsconfig.json": '{"compilerOptions": {"outDir": "dist"}}'})
    text = message(TSC_APP.replace('["node", "dist/index.js"]', '["npm", "start"]'), context)
    assert "`-r ts-node/register`, a TypeScript runner that needs the devDependencies" in text


def test_a_global_tool_the_release_lacks_is_refused(tmp_path):
    context = project(tmp_path, {"package.json": package(), "tsconfig.json": '{"compilerOptions": {"outDir": "dist"}}'})
    source = TSC_APP.replace("RUN npm ci", "RUN npm install -g pm2\nRUN npm ci").replace('["node", "dist/index.js"]', '["pm2-runtime", "dist/index.js"]')
    assert "the image starts `pm2-runtime`, which the release base may not have" in message(source, context)


def test_workspaces_and_yarn_berry_are_refused(tmp_path):
    context = project(tmp_path, {"package.json": package(workspaces=["packages/*"])})
    assert "declares workspaces" in message(TSC_APP, context)
    berry = project(tmp_path / "berry", {"package.json": package(packageManager="yarn@4.1.0")})
    text = message(TSC_APP.replace("npm ci && npm run build", "yarn install --immutable && yarn build"), berry)
    assert "Yarn 2+ keeps only production dependencies with a plugin" in text


def test_an_image_pinned_by_digest_is_refused(tmp_path):
    context = project(tmp_path, {"package.json": package(), "tsconfig.json": '{"compilerOptions": {"outDir": "dist"}}'})
    source = TSC_APP.replace("FROM node:18", "FROM node:18@sha256:" + "a" * 64)
    assert "pinned by digest" in message(source, context)


def test_an_install_already_without_dev_dependencies_needs_no_prune(tmp_path):
    context = project(tmp_path, {"package.json": package(), "tsconfig.json": '{"compilerOptions": {"outDir": "dist"}}'})
    output = fixed(TSC_APP.replace("npm ci &&", "npm ci --omit=dev &&"), context)
    assert "prune" not in output and "FROM node:18-slim AS release" in output


def test_npm_6_prunes_with_production(tmp_path):
    context = project(tmp_path, {"package.json": package(), "tsconfig.json": '{"compilerOptions": {"outDir": "dist"}}'})
    assert "RUN npm prune --production" in fixed(TSC_APP.replace("node:18", "node:14"), context)


def test_the_prune_runs_in_the_project_folder(tmp_path):
    context = project(tmp_path, {"package.json": package(), "tsconfig.json": '{"compilerOptions": {"outDir": "dist"}}'})
    source = TSC_APP.replace('CMD ["node", "dist/index.js"]', 'WORKDIR /\nCOPY start.txt /opt/\nCMD ["node", "/app/dist/index.js"]')
    (context / "start.txt").write_text("x")
    assert "RUN cd /app && npm prune --omit=dev" in fixed(source, context)


@pytest.mark.parametrize(
    ("tag", "slim"),
    [(None, "slim"), ("18", "18-slim"), ("20-bookworm", "20-bookworm-slim"), ("18-slim", "18-slim"), ("20-alpine3.19", "20-alpine3.19"), ("lts", "lts-slim")],
)
def test_the_release_runs_the_slim_variant_of_the_same_tag(tag, slim):
    assert slim_tag(tag) == slim


def test_bins_come_from_the_npm_lockfile():
    lock = {"packages": {"": {}, "node_modules/typescript": {"bin": {"tsc": "bin/tsc"}}, "node_modules/a/node_modules/b": {"bin": {"b": "x"}}}}
    assert lockfile_bins(json.dumps(lock)) == {"tsc": "typescript"}


# -- the static front end ------------------------------------------------------------------------

SITE = """\
FROM node:18
WORKDIR /app
COPY . .
RUN npm ci && npm run build
CMD ["npx", "serve", "-s", "dist", "-l", "3000"]
"""


def site(tmp_path: Path, **extra: str) -> Path:
    return project(tmp_path, {"package.json": package(build="vite build", deps={"serve": "14.2.4"}, dev={"vite": "5.4.9"}), **extra})


def test_nginx_listens_where_serve_is_told_to(tmp_path):
    context = site(tmp_path)
    assert "'    listen 3000;'" in fixed(SITE, context)
    assert "'    listen 127.0.0.1:4000;'" in fixed(SITE.replace('"3000"]', '"tcp://localhost:4000"]'), context)
    assert "'    listen 5000;'" in fixed(SITE.replace('"-l", "3000"]', '"--listen=5000"]'), context)


def test_serve_on_port_from_the_environment_stays_on_node(tmp_path):
    # `docker run -e PORT=8080` moves serve, not nginx: even an ENV PORT in the file is only a default
    from_env = SITE.replace(', "-l", "3000"', "")
    for source in (from_env, from_env.replace("WORKDIR /app", "WORKDIR /app\nENV PORT=5000")):
        text = message(source, site(tmp_path))
        assert "on node:18-slim" in text and "not on nginx: serve listens on $PORT as the container sets it when it starts (3000 when unset)" in text, text


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (('CMD ["npx"', 'USER node\nCMD ["npx"'), "not on nginx: the image runs as `node`, and nginx needs root to start"),
        (('"-s", "dist",', '"-s", "dist", "-C",'), "not on nginx: serve's `-C` has no nginx counterpart here"),
        (('"-s", "dist",', '"-s", ".",'), "not on nginx: serve serves ., which is not what the build writes"),
        (('CMD ["npx", ', 'ENTRYPOINT ["npx"]\nCMD ['), "not on nginx: the stage sets an ENTRYPOINT, which would replace nginx's"),
    ],
)
def test_a_site_nginx_would_serve_differently_stays_on_node(tmp_path, change, reason):
    source = SITE.replace(*change)
    text = message(source, site(tmp_path))
    assert reason in text, text


def test_a_serve_json_keeps_serve(tmp_path):
    text = message(SITE, site(tmp_path, **{"public/serve.json": "{}"}))
    assert "not on nginx: serve reads public/serve.json, a config nginx is not given" in text


def test_a_global_serve_is_fine_on_nginx_but_not_on_node(tmp_path):
    context = site(tmp_path)
    source = SITE.replace("RUN npm ci", "RUN npm install -g serve\nRUN npm ci").replace('["npx", "serve"', '["serve"')
    assert "FROM nginx:1 AS release" in fixed(source, context)
    text = message(source.replace('"-s", ', ""), context)
    assert "the image starts `serve`, which the release base may not have" in text and "not on nginx: without -s" in text


def test_the_replaced_cmd_keeps_the_comment_above_it(tmp_path):
    source = SITE.replace("CMD [", "# serve the bundle\nCMD [")
    assert '# serve the bundle\nCMD ["nginx", "-g", "daemon off;"]\n' in fixed(source, site(tmp_path))


def test_the_nginx_split_declares_what_verify_will_see(tmp_path):
    (finding,) = check_source(SITE.encode(), "Dockerfile", Settings(**SETTINGS, build_context=str(site(tmp_path))))
    declares = finding.fix.declares
    assert {"config:Cmd", "config:ExposedPorts", "drops:/app", "drops:/app/**"} <= declares
    assert {"adds:/usr/share/nginx/html", "adds:/usr/share/nginx/html/**"} <= declares
    assert finding.fix.runs_removed == -1  # the RUN that writes nginx's config


def test_the_prune_declares_exactly_the_dev_packages_of_the_lockfile():
    directory = CASES / "node-typescript-slim-release"
    source = (directory / "before.Dockerfile").read_bytes()
    (finding,) = check_source(source, "Dockerfile", Settings(**SETTINGS, build_context=str(directory / "context")))
    drops = {d for d in finding.fix.declares if d.startswith("drops:/srv/app/node_modules")}
    assert drops == {
        "drops:/srv/app/node_modules/rimraf", "drops:/srv/app/node_modules/rimraf/**", "drops:/srv/app/node_modules/.bin/rimraf",
        "drops:/srv/app/node_modules/typescript", "drops:/srv/app/node_modules/typescript/**",
        "drops:/srv/app/node_modules/.bin/tsc", "drops:/srv/app/node_modules/.bin/tsserver",
    }
    assert "rebuilds:/srv/app/node_modules/.package-lock.json" in finding.fix.declares
    assert finding.fix.runs_removed == -1  # the prune


def test_copy_patterns_are_followed_to_package_json(tmp_path):
    context = project(tmp_path, {"package.json": package(), "package-lock.json": "{}", "tsconfig.json": '{"compilerOptions": {"outDir": "dist"}}'})
    source = TSC_APP.replace("COPY . .\nRUN npm ci && npm run build", 'COPY ["package.json", "package-lock.json*", "./"]\nRUN npm ci\nCOPY . .\nRUN npm run build')
    assert "FROM node:18-slim AS release" in fixed(source, context)


def test_a_start_through_sh_c_is_read(tmp_path):
    context = project(tmp_path, {"package.json": package(), "tsconfig.json": '{"compilerOptions": {"outDir": "dist"}}'})
    assert "FROM node:18-slim AS release" in fixed(TSC_APP.replace('["node", "dist/index.js"]', '["sh", "-c", "exec node dist/index.js"]'), context)
    text = message(TSC_APP.replace('["node", "dist/index.js"]', '["sh", "-c", "nodemon dist/index.js"]'), context)
    assert "development server or runner (`nodemon`)" in text


def test_nginx_is_given_the_content_types_serve_sends(tmp_path):
    output = fixed(SITE, site(tmp_path, **{"public/site.webmanifest": "{}", "src/logo.svg": "<svg/>"}))
    # in http context, before the server: it overrides those extensions of nginx's mime.types
    assert output.index("'types {'") < output.index("'server {'")
    for line in ("application/javascript mjs;", "application/json map;", "application/manifest+json webmanifest;"):
        assert f"'    {line}'" in output
    assert "application/manifest+json" in output.split("charset_types", 1)[1].split("\n", 1)[0]


@pytest.mark.parametrize("path", ["public/data.cjs", "src/assets/photo.avif", "public/nested/archive.br"])
def test_a_file_serve_and_nginx_would_type_differently_keeps_serve(tmp_path, path):
    text = message(SITE, site(tmp_path, **{path: "x"}))
    extension = path.rsplit(".", 1)[1]
    assert f"not on nginx: {path}: serve and nginx may send different Content-Types for .{extension} files" in text, text


def test_project_files_and_compiled_sources_do_not_count_as_served(tmp_path):
    files = {"postcss.config.cjs": "", "src/App.vue": "", "src/styles.scss": "", "node_modules/x/y.cjs": ""}
    assert "FROM nginx:1 AS release" in fixed(SITE, site(tmp_path, **files))

