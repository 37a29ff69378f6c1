"""Package-manager, cleanup and shell-state facts."""

from __future__ import annotations

import pytest

from slimfile.shell.analyze import analyze_run
from slimfile.shell.model import ShellScript

from .conftest import model, runs


def facts(run: str):
    return model(f"RUN {run}\n").packages


def one(run: str):
    found = facts(run)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    "run, manager, action, packages, traits",
    [
        ("apt-get update", "apt", "update", (), set()),
        ("apt-get -qq -y install curl=7.* git", "apt", "install", ("curl=7.*", "git"), {"quiet", "assume-yes"}),
        ("apt-get -qq install curl", "apt", "install", ("curl",), {"quiet", "assume-yes"}),
        ("apt-get -q=2 install curl", "apt", "install", ("curl",), {"quiet", "assume-yes"}),
        ("apt-get -q install curl", "apt", "install", ("curl",), {"quiet"}),
        ("apt-get install -qy --no-install-recommends curl", "apt", "install", ("curl",), {"quiet", "assume-yes", "no-install-recommends"}),
        ("apt-get -o APT::Install-Recommends=false install -y x", "apt", "install", ("x",), {"no-install-recommends", "assume-yes"}),
        ("apt-get install --assume-yes -oAPT::Install-Suggests=0 x", "apt", "install", ("x",), {"assume-yes", "no-install-suggests"}),
        ("DEBIAN_FRONTEND=noninteractive apt-get dist-upgrade -y", "apt", "upgrade", (), {"noninteractive", "assume-yes"}),
        ("apt-get purge -y --auto-remove gcc", "apt", "remove", ("gcc",), {"assume-yes"}),
        ("apt autoremove -y", "apt", "autoremove", (), {"assume-yes"}),
        ("apk add --no-cache --virtual .build-deps gcc musl-dev", "apk", "install", ("gcc", "musl-dev"), {"no-cache", "virtual"}),
        ("apk add -t .deps -U gcc", "apk", "install", ("gcc",), {"virtual", "update-index"}),
        ("apk del .build-deps", "apk", "remove", (".build-deps",), set()),
        ("yum -y install httpd && yum clean all", "dnf", "install", ("httpd",), {"assume-yes"}),
        ("dnf install -y --setopt=install_weak_deps=False --nodocs gcc", "dnf", "install", ("gcc",), {"assume-yes", "no-weak-deps", "no-docs"}),
        ("microdnf install -y shadow-utils", "dnf", "install", ("shadow-utils",), {"assume-yes"}),
        ("zypper --non-interactive in --no-recommends curl", "zypper", "install", ("curl",), {"assume-yes", "no-install-recommends"}),
        ("pip install --no-cache-dir -r requirements.txt", "pip", "install", (), {"no-cache", "requirements"}),
        ("PIP_NO_CACHE_DIR=1 pip3 install --user flask==3.0", "pip", "install", ("flask==3.0",), {"no-cache", "user"}),
        ("python3 -m pip install --upgrade pip setuptools", "pip", "install", ("pip", "setuptools"), {"upgrade"}),
        ("pip3.11 install --prefix=/install --target /t x", "pip", "install", ("x",), {"prefix", "target"}),
        ("uv pip install --system --no-cache -r req.txt", "pip", "install", (), {"system", "requirements", "no-cache"}),
        ("uv sync --frozen --no-dev", "uv", "sync", (), {"frozen-lockfile", "no-dev"}),
        ("npm ci --omit=dev", "npm", "ci", (), {"omit-dev"}),
        ("npm install --production", "npm", "install", (), {"production"}),
        ("npm i -g pnpm@8", "npm", "install", ("pnpm@8",), {"global"}),
        ("npm cache clean --force", "npm", "clean", (), {"force"}),
        ("npm run build", "npm", "run", (), set()),
        ("yarn install --frozen-lockfile --production", "yarn", "install", (), {"frozen-lockfile", "production"}),
        ("yarn", "yarn", "install", (), set()),
        ("yarn build", "yarn", "run", (), set()),
        ("yarn cache clean", "yarn", "clean", (), set()),
        ("pnpm install --frozen-lockfile --prod", "pnpm", "install", (), {"frozen-lockfile", "production"}),
        ("gem install bundler -v 2.4.0 --no-document", "gem", "install", ("bundler",), {"no-document"}),
        ("gem install --no-ri --no-rdoc rails", "gem", "install", ("rails",), {"no-ri", "no-rdoc", "no-document"}),
        ("bundle install --jobs 4 --without development", "bundler", "install", (), {"without"}),
        ("bundle", "bundler", "install", (), set()),
        ("composer install --no-dev --no-cache --optimize-autoloader", "composer", "install", (), {"no-dev", "no-cache", "optimize-autoloader"}),
        ("go build -ldflags '-s -w' -o /app ./cmd/app", "go", "build", (), {"ldflags"}),
        ("go mod download", "go", "download", (), set()),
        ("CGO_ENABLED=0 go install github.com/x/y@latest", "go", "install", ("github.com/x/y@latest",), {"no-cgo"}),
        ("cargo build --release --locked", "cargo", "build", (), {"release", "frozen-lockfile"}),
        ("cargo install ripgrep", "cargo", "install", ("ripgrep",), set()),
        ("mvn -B clean package -DskipTests", "maven", "build", (), {"batch", "skip-tests"}),
        ("./mvnw dependency:go-offline", "maven", "download", (), set()),
        ("./gradlew bootJar --no-daemon -x test", "gradle", "build", (), {"no-daemon", "skip-tests"}),
        ("conda install -y -c conda-forge numpy", "conda", "install", ("numpy",), {"assume-yes"}),
        ("conda clean -afy", "conda", "clean", (), {"all", "force-pkgs-dirs", "assume-yes"}),
        ("mamba env create -f environment.yml", "conda", "install", (), set()),
        ("micromamba create -y -n base python=3.11", "conda", "install", ("python=3.11",), {"assume-yes"}),
        ("dotnet restore", "dotnet", "download", (), set()),
        ("dotnet publish -c Release -o /app --no-restore", "dotnet", "build", (), {"no-restore"}),
        ("poetry install --no-root --no-interaction", "poetry", "install", (), {"no-root", "non-interactive"}),
    ],
)
def test_package_fact(run: str, manager: str, action: str, packages: tuple, traits: set) -> None:
    fact = facts(run)[0]
    assert (fact.manager, fact.action, fact.package_names) == (manager, action, packages)
    assert fact.traits == traits


def test_option_values_and_subcommand_anchor() -> None:
    source_text = "RUN apt-get -o Dpkg::Options::=--force-confold install -y curl\n"
    fact = one(source_text[4:-1])
    assert fact.option_values("-o") == ("Dpkg::Options::=--force-confold",)
    assert fact.anchor.value == "install"
    assert fact.tool == "apt-get"
    virtual = one("apk add --virtual=.deps gcc")
    assert virtual.option_values("--virtual") == (".deps",)


def test_exports_reach_later_package_commands() -> None:
    found = facts("export DEBIAN_FRONTEND=noninteractive && apt-get install -y x")
    assert "noninteractive" in found[0].traits
    assert found[0].env["DEBIAN_FRONTEND"] == "noninteractive"


def test_each_fact_sees_the_exports_before_it_and_its_own_assignments() -> None:
    """A fact's environment is a view of the script's exports at its place (no copy per
    fact: a RUN of n exports and n installs took 29 s at n = 8,000, x5.5 for x2)."""
    found = facts("export A=1 && pip install x && export A=2 B=3 && A=4 pip install y && pip install z && (export C=5) && pip install w")
    assert [dict(fact.env) for fact in found] == [{"A": "1"}, {"A": "4", "B": "3"}, {"A": "2", "B": "3"}, {"A": "2", "B": "3"}]
    assert found[0].env != found[2].env and found[2].env == found[3].env == {"A": "2", "B": "3"}
    assert hash(found[2].env) == hash(found[3].env)


def test_environment_traits_match_names_without_case() -> None:
    """npm reads `NPM_CONFIG_PRODUCTION` and `npm_config_production` alike; the traits look
    up the names the data lists (data/package_managers.toml env_traits) without case."""
    assert "production" in facts("export npm_config_production=true && npm ci")[0].traits
    assert "production" in facts("NPM_CONFIG_PRODUCTION=true npm ci")[0].traits
    assert "no-cache" in facts("PIP_NO_CACHE_DIR=1 pip install x")[0].traits
    assert "no-cache" not in facts("PIP_NO_CACHE_DIR= pip install x")[0].traits
    assert facts("export Npm_Config_Cache=/c && npm ci")[0].env.named("npm_config_cache") == ["Npm_Config_Cache"]


def test_exports_in_a_subshell_do_not_reach_later_commands() -> None:
    found = facts("(export DEBIAN_FRONTEND=noninteractive) && apt-get install -y x")
    assert "noninteractive" not in found[0].traits


def test_yarn_production_false_is_not_production() -> None:
    assert "production" not in one("yarn install --production=false").traits


def test_non_package_commands_have_no_facts() -> None:
    assert facts("python3 -m venv /opt/venv && python3 setup.py install && xargs apt-get install < l") == ()


def test_cleanup_facts() -> None:
    script = model(
        "RUN apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb ~/.cache/pip "
        "${HOME}/.npm /tmp/* /root/.cache && yum clean all && apk del .deps && conda clean -afy\n"
    )
    got = [(c.manager, c.kind, c.coverage, c.word.value if c.word else None) for c in script.cleanups]
    assert ("apt", "clean-command", "whole", None) in got
    assert ("apt", "remove-path", "whole", "/var/lib/apt/lists/*") in got
    assert ("apt", "remove-path", "part", "/var/cache/apt/archives/*.deb") in got
    assert ("pip", "remove-path", "whole", "~/.cache/pip") in got
    assert ("npm", "remove-path", "whole", "${HOME}/.npm") in got
    assert ("tmp", "remove-path", "whole", "/tmp/*") in got
    # /root/.cache holds several managers' caches
    assert {"pip", "uv", "yarn", "go"} <= {m for m, _, _, w in got if w == "/root/.cache"}
    assert ("dnf", "clean-command", "whole", None) in got
    assert ("apk", "uninstall", "whole", None) in got
    assert ("conda", "clean-command", "whole", None) in got
    apt_clean = [c for c in script.cleanups if c.kind == "clean-command" and c.manager == "apt"][0]
    assert apt_clean.paths == ("/var/cache/apt",)


def test_rm_of_unrelated_paths_is_not_cleanup() -> None:
    assert model("RUN rm -rf /app/node_modules/.bin /etc/nginx/conf.d/default.conf -- -weird\n").cleanups == ()


def test_state_changes() -> None:
    script = model(
        "RUN cd /app && export PATH=/x:$PATH && A=1 && umask 022 && set -o pipefail && . /etc/profile"
        " && alias ll='ls -l' && ulimit -n 1024 && trap 'rm x' EXIT && shopt -s globstar"
        " && pushd /tmp && popd && f() { :; } && (cd /sub) && B=2 make\n"
    )
    kinds = [(s.kind, s.names, s.persists) for s in script.state_changes]
    assert kinds == [
        ("cd", ("/app",), True),
        ("export", ("PATH",), True),
        ("assignment", ("A",), True),
        ("umask", (), True),
        ("set", ("pipefail",), True),
        ("source", ("/etc/profile",), True),
        ("alias", ("ll=ls -l",), True),
        ("ulimit", (), True),
        ("trap", (), True),
        ("shopt", ("globstar",), True),
        ("pushd", ("/tmp",), True),
        ("popd", (), True),
        ("function", ("f",), True),
        ("cd", ("/sub",), False),
    ]


def test_early_exits() -> None:
    script = model("RUN test -f x || exit 1; (exit 0); f() { return 1; }; exec nginx -g 'daemon off;'\n")
    assert [(e.kind, e.ends_script) for e in script.exits] == [("exit", True), ("exit", False), ("exec", True)]


def test_exec_with_only_redirects_changes_state_but_does_not_exit() -> None:
    script = model("RUN exec > /log 2>&1 && make\n")
    assert [s.kind for s in script.state_changes] == ["exec-redirect"]
    assert script.exits == ()


# -- cleanup keys and profiles -------------------------------------------------------------------


def profile_keys(run: str) -> dict[str, list[str]]:
    from slimfile.shell.cleanup import cleanup_profile

    profile = cleanup_profile(model(f"RUN {run}\n"))
    return {name: sorted(k.key for k in getattr(profile, name)) for name in ("leading", "done", "certain")}


@pytest.mark.parametrize(
    "run, leading, done, certain",
    [
        # the update is a refresh: done again only after the lists were removed
        ("apt-get update && apt-get install -y x && rm -rf /var/lib/apt/lists/*", ["apt update"], ["/var/lib/apt/lists"],
         ["/var/lib/apt/lists"]),
        # a removal before the update: the update writes the lists again
        ("rm -rf /var/lib/apt/lists/* && apt-get update && apt-get install -y x", ["/var/lib/apt/lists"], ["apt update"],
         ["apt update"]),
        ("apt-get install -y x && apt-get update", [], ["apt update"], ["apt update"]),
        # `apt-get clean` and `rm -rf /var/cache/apt/*` undo the same thing
        ("apt-get install -y x && apt-get clean", [], ["/var/cache/apt"], ["/var/cache/apt"]),
        ("apt-get install -y x && rm -rf /var/cache/apt/*", [], ["/var/cache/apt"], ["/var/cache/apt"]),
        # only a cleanup that runs whenever the script succeeds is certain
        ("if true; then npm ci && npm cache clean --force; fi", [], ["$HOME/.npm/_cacache", "/root/.npm/_cacache"], []),
        ("npm ci && npm cache clean --force | cat", [], ["$HOME/.npm/_cacache", "/root/.npm/_cacache"], []),
        # a brace group or subshell that must succeed is read inside as the script is
        ("(npm ci && npm cache clean --force)", [], ["$HOME/.npm/_cacache", "/root/.npm/_cacache"],
         ["$HOME/.npm/_cacache", "/root/.npm/_cacache"]),
        ("{ npm ci && npm cache clean --force; } && echo done", [], ["$HOME/.npm/_cacache", "/root/.npm/_cacache"],
         ["$HOME/.npm/_cacache", "/root/.npm/_cacache"]),
        ("x && { { npm ci; npm cache clean --force; }; }", [], ["$HOME/.npm/_cacache", "/root/.npm/_cacache"],
         ["$HOME/.npm/_cacache", "/root/.npm/_cacache"]),
        # ... and one that may fail inside, only for what starts a list there
        ("{ npm ci && npm cache clean --force; }; echo done", [], ["$HOME/.npm/_cacache", "/root/.npm/_cacache"], []),
        ("{ npm ci; npm cache clean --force; }; echo done", [], ["$HOME/.npm/_cacache", "/root/.npm/_cacache"],
         ["$HOME/.npm/_cacache", "/root/.npm/_cacache"]),
        ("x || { npm ci; npm cache clean --force; }", [], ["$HOME/.npm/_cacache", "/root/.npm/_cacache"], []),
        ("{ npm ci; npm cache clean --force & }", [], ["$HOME/.npm/_cacache", "/root/.npm/_cacache"], []),
        ("apt-get install -y x && rm -rf /var/lib/apt/lists/*; echo done", [], ["/var/lib/apt/lists"], []),
        ("apt-get install -y x; rm -rf /var/lib/apt/lists/*; echo done", [], ["/var/lib/apt/lists"], ["/var/lib/apt/lists"]),
        ("apt-get install -y x || rm -rf /var/lib/apt/lists/*", [], ["/var/lib/apt/lists"], []),
        ("apk add --virtual .b gcc && make && apk del .b", [], ["apk remove .b"], ["apk remove .b"]),
        # a script that ends with a background job: nothing is certain
        ("apt-get install -y x; rm -rf /var/lib/apt/lists/*; sleep 1 &", [], ["/var/lib/apt/lists"], []),
        # a path no package manager writes is written again by a command that names it
        ("mkdir /opt/b && make -C /opt/b && rm -rf /opt/b/", [], ["/opt/b"], ["/opt/b"]),
        ("rm -rf /opt/b && mkdir /opt/b && make -C /opt/b", ["/opt/b"], [], []),
        ("rm -rf $BUILD_DIR", ["$BUILD_DIR (in command 0)"], ["$BUILD_DIR (in command 0)"], ["$BUILD_DIR (in command 0)"]),
    ],
)
def test_cleanup_profile(run, leading, done, certain):
    assert profile_keys(run) == {"leading": leading, "done": done, "certain": certain}


def test_nested_groups_are_each_read_once(monkeypatch):
    """A group that both starts its list and ends its chain is entered once (as one that must
    succeed): entered once per way, 16 nested braces were 2^16 reads of their lists."""
    from slimfile.shell import cleanup

    depth = 16
    run = "{ " * depth + "apt-get update && apt-get install -y x && rm -rf /var/lib/apt/lists/*" + "; }" * depth
    read = []
    original = cleanup._final_chain_items
    monkeypatch.setattr(cleanup, "_final_chain_items", lambda items: read.append(1) or original(items))
    assert profile_keys(run)["certain"] == ["/var/lib/apt/lists"]
    assert len(read) <= depth + 1


@pytest.mark.parametrize(
    "run",
    [
        "apt-get install -y x", "pip install a && npm ci", "apk add gcc && gcc -o /x x.c", "echo hi",
        "apt-get remove -y x && pip install a", "apt-get update && apt-get install -y x", "rm -rf /tmp/x",
        "if true; then apt-get install -y x; fi", "apt-get install -y a; apt-get purge -y a",
    ],
)
def test_short_cleanup_profiles_are_the_walked_ones(run: str) -> None:
    """The profile of a script that cleans and refreshes nothing is made without the walk
    over its commands: the same profile."""
    from slimfile.shell.cleanup import _cleanup_profile, _walked_profile, command_cleanup_keys

    script = model(f"RUN {run}\n")
    facts = {p.command: p for p in script.packages}
    assert _cleanup_profile(script) == _walked_profile(script, command_cleanup_keys(script), facts)


def test_corpus_sample_cleanup_profiles_are_the_walked_ones() -> None:
    from slimfile.shell.cleanup import _cleanup_profile, _walked_profile, command_cleanup_keys
    from slimfile.syntax import ParseError, parse
    from tests.conftest import corpus_sample

    compared = 0
    for path in corpus_sample():
        try:
            dockerfile = parse(path.read_bytes(), path=str(path))
        except ParseError:
            continue
        for instruction in runs(dockerfile):
            script = analyze_run(dockerfile, instruction)
            if isinstance(script, ShellScript):
                facts = {p.command: p for p in script.packages}
                assert _cleanup_profile(script) == _walked_profile(script, command_cleanup_keys(script), facts), path
                compared += 1
    assert compared > 50


@pytest.mark.parametrize(
    "run, index, expected",
    [
        ("apt-get install -y x && rm -rf /tmp/a", 0, True),
        ("apt-get install -y x && /tmp/log ; echo done", 0, False),  # `; echo done` ends well without it
        ("echo a ; apt-get install -y x && echo b", 1, True),
        ("apt-get install -y x || true", 0, False),
        ("apt-get install -y x && sleep 1 &", 0, False),  # ends with a background job
        ("if true; then apt-get install -y x; fi", 1, False),  # inside a body
    ],
)
def test_in_final_chain(run: str, index: int, expected: bool) -> None:
    """Where an appended cleanup always runs (passes/common.py ``append_fix``)."""
    from slimfile.shell.cleanup import in_final_chain

    script = model(f"RUN {run}\n")
    assert in_final_chain(script, script.commands[index]) is expected
