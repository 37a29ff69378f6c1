"""Config comparison of two inspected images (no Docker needed)."""

from slimfile.verify.config_diff import CONFIG_FIELDS, config_differences, env_mapping, normalised

CONFIG = {
    "Cmd": ["python", "app.py"],
    "Entrypoint": None,
    "Env": ["PATH=/usr/local/bin:/usr/bin", "LANG=C.UTF-8"],
    "WorkingDir": "/srv",
    "User": "",
    "ExposedPorts": {"8080/tcp": {}},
    "Volumes": None,
    "Labels": {"org.opencontainers.image.title": "web"},
    "Hostname": "ignored-abc123",
}


def test_identical_configs_have_no_differences():
    assert config_differences(CONFIG, dict(CONFIG)) == []


def test_fields_outside_the_list_are_not_compared():
    assert config_differences(CONFIG, {**CONFIG, "Hostname": "other", "Image": "sha256:x"}) == []
    assert CONFIG_FIELDS == (
        "Cmd", "Entrypoint", "Env", "WorkingDir", "User", "ExposedPorts", "Volumes", "Labels", "Healthcheck", "StopSignal",
        "Shell",
    )


def test_a_changed_stop_signal_or_shell_is_a_difference():
    (change,) = config_differences({**CONFIG, "StopSignal": "SIGTERM"}, {**CONFIG, "StopSignal": "SIGQUIT"})
    assert change.describe() == "StopSignal: 'SIGTERM' -> 'SIGQUIT'"
    (change,) = config_differences(CONFIG, {**CONFIG, "Shell": ["/bin/bash", "-c"]})
    assert change.field == "Shell"


def test_empty_values_compare_equal():
    before = {**CONFIG, "Volumes": {}, "Labels": {"org.opencontainers.image.title": "web"}, "User": None}
    assert config_differences(CONFIG, before) == []
    assert normalised({"Env": []}, "Env") is None


def test_env_order_does_not_matter_but_values_do():
    reordered = {**CONFIG, "Env": list(reversed(CONFIG["Env"]))}
    assert config_differences(CONFIG, reordered) == []
    changed = {**CONFIG, "Env": ["PATH=/usr/local/bin:/usr/bin", "LANG=C", "DEBUG=1"]}
    (change,) = config_differences(CONFIG, changed)
    assert change.field == "Env"
    assert change.details == ("DEBUG='1' added", "LANG: 'C.UTF-8' -> 'C'")


def test_env_later_duplicate_wins():
    assert env_mapping(["A=1", "B=x=y", "A=2", "EMPTY="]) == {"A": "2", "B": "x=y", "EMPTY": ""}


def test_each_changed_field_is_reported():
    after = {
        **CONFIG,
        "Cmd": ["python", "other.py"],
        "User": "app",
        "ExposedPorts": {"8080/tcp": {}, "9090/tcp": {}},
        "Labels": {},
        "Healthcheck": {"Test": ["CMD", "true"]},
    }
    changes = {c.field: c for c in config_differences(CONFIG, after)}
    assert list(changes) == ["Cmd", "User", "ExposedPorts", "Labels", "Healthcheck"]
    assert changes["Cmd"].describe() == "Cmd: ['python', 'app.py'] -> ['python', 'other.py']"
    assert changes["User"].describe() == "User: (none) -> 'app'"
    assert changes["Labels"].describe() == "Labels: org.opencontainers.image.title removed (was 'web')"
    assert changes["ExposedPorts"].after == ["8080/tcp", "9090/tcp"]
