"""Settings: exact key names, the order of the layers, and values that must be rejected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import ORIGIN, commits
from mlsysops_gitops.settings import file_layer

SETTINGS_FILE = "mlsysops-gitops.yaml"
DIGEST = "sha256:" + "0123456789abcdef" * 4


def settings_rows(invoke, repo: Path, *args: str, env: dict[str, str | None] | None = None) -> dict[str, dict[str, Any]]:
    result = invoke("settings", "--repo", str(repo), "--format", "json", *args, env=env)
    assert result.exit_code == 0, result.output
    return {row["name"]: row for row in json.loads(result.output)}


def validate(invoke, repo: Path, env: dict[str, str | None] | None = None) -> Any:
    return invoke("validate", "--repo", str(repo), env=env)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("KARMADA_HOST_IP: 192.0.2.99", "Settings.KARMADA_HOST_IP: unknown setting; did you mean 'karmada_host_ip'?"),
        ("IMAGE_REGISTRY: registry.example.com/mlsysops", "Settings.IMAGE_REGISTRY: unknown setting; did you mean 'image_registry'?"),
        ("Agents_Tag: 9.9.9", "Settings.Agents_Tag: unknown setting; did you mean 'agents_tag'?"),
        ("agent_tag: 9.9.9", "Settings.agent_tag: unknown setting; did you mean 'agents_tag'?"),
    ],
)
def test_file_key_not_lower_case(make_repo, invoke, key: str, expected: str) -> None:
    repo = make_repo(files={SETTINGS_FILE: f"# settings\n{key}\n"})

    result = invoke("render", "--repo", str(repo), "--karmada-host-ip", "192.0.2.40")

    assert result.exit_code == 1
    assert f"{SETTINGS_FILE}:2:1: {expected}" in result.output
    assert "1 error found; nothing was written" in result.output
    assert not (repo / "base").exists()
    assert commits(repo) == []


def test_file_layer_passes_field_names_only(tmp_path: Path) -> None:
    (tmp_path / SETTINGS_FILE).write_text("KARMADA_HOST_IP: 192.0.2.99\nAgents_Tag: 9.9.9\nagents_tag: 1.2.3\n", encoding="utf-8")

    layer = file_layer(tmp_path)

    assert layer.values == {"agents_tag": "1.2.3"}
    assert layer.origins == {"agents_tag": f"{SETTINGS_FILE}:3"}
    assert [(problem.line, problem.field) for problem in layer.problems] == [(1, "KARMADA_HOST_IP"), (2, "Agents_Tag")]


def test_file_key_case_reported_with_others(make_repo, invoke) -> None:
    repo = make_repo(files={SETTINGS_FILE: "KARMADA_HOST_IP: 192.0.2.99\nmls_otel_cluster_port: 70000\n"})

    result = validate(invoke, repo)

    assert result.exit_code == 1
    assert f"{SETTINGS_FILE}:1:1: Settings.KARMADA_HOST_IP: unknown setting" in result.output
    assert f"{SETTINGS_FILE}:2:1: Settings.mls_otel_cluster_port: input should be less than or equal to 65535" in result.output
    assert "2 errors found" in result.output


# Setting, file value, environment variable and value, option and value (None: no option).
PRECEDENCE = [
    ("karmada_host_ip", "192.0.2.20", ("KARMADA_HOST_IP", "192.0.2.30"), ("--karmada-host-ip", "192.0.2.40")),
    ("repo_url", "https://git.example.com/file.git", ("MLSYSOPS_GITOPS_REPO_URL", "https://git.example.com/env.git"), ("--repo-url", "git@git.example.com:ops/option.git")),
    ("karmada_destination", "karmada-file", ("MLSYSOPS_GITOPS_KARMADA_DESTINATION", "karmada-env"), ("--karmada-destination", "karmada-option")),
    ("secrets_mode", "sealed-secrets", ("MLSYSOPS_GITOPS_SECRETS_MODE", "external"), ("--secrets-mode", "sealed-secrets")),
    ("agents_tag", "1.2.3", ("MLSYSOPS_GITOPS_AGENTS_TAG", "2.0.0"), None),
    ("image_registry", "registry.example.com/file", ("MLSYSOPS_GITOPS_IMAGE_REGISTRY", "registry.example.com:5000/env"), None),
    ("mls_otel_cluster_port", "4000", ("MLS_OTEL_CLUSTER_PORT", "4317"), None),
    ("ejabberd_domain", "xmpp-file.example.com", ("EJABBERD_DOMAIN", "xmpp-env.example.com"), None),
]


@pytest.mark.parametrize(("field", "in_file", "variable", "option"), PRECEDENCE, ids=[row[0] for row in PRECEDENCE])
def test_precedence_file_environment_option(make_repo, invoke, field: str, in_file: str, variable: tuple[str, str], option: tuple[str, str] | None) -> None:
    repo = make_repo(files={SETTINGS_FILE: f"# settings\n{field}: {in_file}\n"})
    name, from_environment = variable
    unset = {"KARMADA_HOST_IP": None}

    if field != "karmada_host_ip":  # required: it has no default
        default = settings_rows(invoke, make_repo(name="defaults"))[field]
        assert default["origin"] in ("default", "Git remote origin")
        assert default["value"] != in_file

    from_file = settings_rows(invoke, repo, env=unset if field == "karmada_host_ip" else None)[field]
    assert (from_file["value"], from_file["origin"]) == (in_file, f"{SETTINGS_FILE}:2")

    over_file = settings_rows(invoke, repo, env={name: from_environment})[field]
    assert (over_file["value"], over_file["origin"]) == (from_environment, f"environment {name}")

    if option is not None:
        flag, from_option = option
        over_environment = settings_rows(invoke, repo, flag, from_option, env={name: from_environment})[field]
        assert (over_environment["value"], over_environment["origin"]) == (from_option, f"option {flag}")


def test_empty_variable_keeps_file_value(make_repo, invoke) -> None:
    repo = make_repo(files={SETTINGS_FILE: "agents_tag: 1.2.3\n"})

    row = settings_rows(invoke, repo, env={"MLSYSOPS_GITOPS_AGENTS_TAG": ""})["agents_tag"]

    assert (row["value"], row["origin"]) == ("1.2.3", f"{SETTINGS_FILE}:1")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("karmada_host_ip: 12345", "expected an IP address written as text, such as 192.0.2.10, got 12345"),
        ("karmada_host_ip: 127.0.0.1", "a loopback or unspecified address is not reachable from member clusters"),
        ("karmada_host_ip: 0.0.0.0", "a loopback or unspecified address is not reachable from member clusters"),
        ("karmada_host_ip: '::'", "a loopback or unspecified address is not reachable from member clusters"),
        ("karmada_host_ip: '::1'", "a loopback or unspecified address is not reachable from member clusters"),
        ("mls_otel_prometheus_listen_ip: 167772161", "expected an IP address written as text"),
        ("mls_otel_cluster_port: true", "expected a port number, an integer from 1 to 65535, got True"),
        ("mls_otel_cluster_port: 4317.0", "expected a port number, an integer from 1 to 65535, got 4317.0"),
        ("mls_otel_continuum_port: '43 17'", "expected a port number, an integer from 1 to 65535"),
        ("redis_image: redis", "the image has no tag, so it means latest; give an explicit tag or digest"),
        ("postgres_image: 'registry.example.com:5000/postgres'", "the image has no tag, so it means latest"),
        ("mlconnector_image: 'https://registry.example.com/mlconnector:1.0'", "expected an image reference such as registry.example.com/redis:7.4.0"),
        ("ejabberd_image: 'ejabberd:24.12 '", "expected an image reference"),
        ("agents_tag: 'bad tag'", "expected an image tag"),
        ("image_registry: 'http://harbor'", "an image registry has no scheme; give the host and path only"),
        ("image_registry: 'harbor/'", "expected a registry host and optional path"),
        ("repo_url: 'https://git.example.com/ops/my repo.git'", "expected a Git URL without spaces"),
        ("repo_url: 'ftp://git.example.com/ops/continuum.git'", "expected a Git URL with scheme https, http, ssh, git, file"),
        ("repo_url: 'https:///ops/continuum.git'", "the URL has no host"),
        ("repo_url: 'https://git.example.com'", "the URL has no repository path"),
        ("repo_url: continuum", "expected a Git URL such as https://git.example.com/ops/continuum.git"),
        ("repo_url: 'git@git.example.com:'", "expected a Git URL such as"),
    ],
)
def test_value_rejected(make_repo, invoke, line: str, message: str) -> None:
    repo = make_repo(files={SETTINGS_FILE: f"# settings\n{line}\n"})
    env = {"KARMADA_HOST_IP": None} if line.startswith("karmada_host_ip") else None

    result = validate(invoke, repo, env)

    field = line.split(":")[0]
    assert result.exit_code == 1
    assert f"{SETTINGS_FILE}:2:1: Settings.{field}: {message}" in result.output


@pytest.mark.parametrize("address", ["127.0.0.1", "0.0.0.0", "::"])
def test_unreachable_host_ip_from_environment(make_repo, invoke, address: str) -> None:
    result = validate(invoke, make_repo(), {"KARMADA_HOST_IP": address})

    assert result.exit_code == 1
    assert f"environment KARMADA_HOST_IP: Settings.karmada_host_ip: a loopback or unspecified address is not reachable from member clusters; give the address of the management host that they reach, got '{address}'" in result.output


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"redis_image: 'redis@{DIGEST}'", f"redis@{DIGEST}"),
        (f"redis_image: 'registry.example.com:5000/redis/redis-stack:7.4.0-v3@{DIGEST}'", f"registry.example.com:5000/redis/redis-stack:7.4.0-v3@{DIGEST}"),
        ("image_registry: 'registry.example.com:5000/mls/agents'", "registry.example.com:5000/mls/agents"),
        ("repo_url: 'git@git.example.com:ops/continuum.git'", "git@git.example.com:ops/continuum.git"),
        ("repo_url: 'ssh://git@git.example.com:2222/ops/continuum.git'", "ssh://git@git.example.com:2222/ops/continuum.git"),
        ("repo_url: 'file:///srv/git/continuum.git'", "file:///srv/git/continuum.git"),
        ("mls_otel_cluster_port: '4317'", "4317"),
    ],
)
def test_value_accepted(make_repo, invoke, line: str, expected: str) -> None:
    repo = make_repo(files={SETTINGS_FILE: f"{line}\n"})

    rows = settings_rows(invoke, repo)

    assert rows[line.split(":")[0]]["value"] == expected


@pytest.mark.parametrize("content", ["", "# only a comment\n\n# and another\n", "---\n", "~\n"])
def test_empty_settings_file_accepted(make_repo, invoke, content: str) -> None:
    repo = make_repo(files={SETTINGS_FILE: content})

    result = validate(invoke, repo)

    assert result.exit_code == 0, result.output
    assert "description" not in result.output.replace("descriptions and settings are valid", "")


def test_empty_description_still_rejected(make_repo, invoke) -> None:
    repo = make_repo()
    (repo / "descriptions/nodes/empty.yaml").write_text("# nothing yet\n", encoding="utf-8")

    result = validate(invoke, repo)

    assert result.exit_code == 1
    assert "descriptions/nodes/empty.yaml:1:1: MLSysOpsNode: file is empty or holds only comments; expected one description" in result.output


def test_settings_folder_rejected(make_repo, invoke) -> None:
    repo = make_repo()
    (repo / SETTINGS_FILE).mkdir()
    (repo / SETTINGS_FILE / "karmada_host_ip").write_text("192.0.2.99\n", encoding="utf-8")

    result = invoke("render", "--repo", str(repo))

    assert result.exit_code == 1
    assert f"{SETTINGS_FILE}: is not a regular file; rename or remove it, because the settings file must be a YAML file or absent" in result.output
    assert not (repo / "base").exists()


@pytest.mark.parametrize(
    ("variable", "message"),
    [
        ("MLSYSOPS_GITOPS_KARMADA_HOST_IP", "Settings.karmada_host_ip: unknown variable; did you mean KARMADA_HOST_IP? The installer's variables have no MLSYSOPS_GITOPS_ prefix"),
        ("MLSYSOPS_GITOPS_mls_otel_cluster_port", "Settings.mls_otel_cluster_port: unknown variable; did you mean MLS_OTEL_CLUSTER_PORT?"),
        ("MLSYSOPS_GITOPS_AGENT_TAG", "Settings.agent_tag: unknown variable; did you mean MLSYSOPS_GITOPS_AGENTS_TAG?"),
        ("mlsysops_gitops_redis_password", "Settings.redis_password: unknown variable; credentials are never settings"),
    ],
)
def test_unknown_variable_rejected(make_repo, invoke, variable: str, message: str) -> None:
    result = validate(invoke, make_repo(), {variable: "4317"})

    assert result.exit_code == 1
    assert f"environment {variable}: {message}" in result.output


@pytest.mark.parametrize("variable", ["MLSYSOPS_GITOPS_agents_tag", "Mlsysops_Gitops_Agents_Tag", "mlsysops_gitops_agents_tag"])
def test_variable_name_any_case(make_repo, invoke, variable: str) -> None:
    rows = settings_rows(invoke, make_repo(), env={variable: "9.9.9"})

    assert (rows["agents_tag"]["value"], rows["agents_tag"]["origin"]) == ("9.9.9", f"environment {variable}")


def test_installer_variable_any_case(make_repo, invoke) -> None:
    rows = settings_rows(invoke, make_repo(), env={"KARMADA_HOST_IP": None, "karmada_host_ip": "192.0.2.55"})

    assert (rows["karmada_host_ip"]["value"], rows["karmada_host_ip"]["origin"]) == ("192.0.2.55", "environment karmada_host_ip")


def test_variable_spellings_disagree(make_repo, invoke) -> None:
    env = {"MLSYSOPS_GITOPS_AGENTS_TAG": "1.0.0", "MLSYSOPS_GITOPS_agents_tag": "2.0.0"}

    result = validate(invoke, make_repo(), env)

    assert result.exit_code == 1
    assert "environment MLSYSOPS_GITOPS_agents_tag: Settings.agents_tag: environment MLSYSOPS_GITOPS_AGENTS_TAG sets the same setting to another value; unset one of them" in result.output


def test_token_user_name_hidden(make_repo, invoke) -> None:
    result = validate(invoke, make_repo(), {"MLSYSOPS_GITOPS_REPO_URL": "https://ghp_tok3nvalue@git.example.com/x.git"})

    assert result.exit_code == 1
    assert "Settings.repo_url: the URL carries credentials before '@'" in result.output
    assert "got 'https://***@git.example.com/x.git'" in result.output
    assert "tok3nvalue" not in result.output


@pytest.mark.parametrize(
    "url",
    [
        "https://oauth2:tok3nvalue@git.example.com/ops/continuum.git",
        "https://tok3nvalue@github.com/ops/continuum.git",
        "ssh://git:tok3nvalue@git.example.com/ops/continuum.git",
        "git:tok3nvalue@git.example.com:ops/continuum.git",
    ],
)
def test_init_rejects_credentials(tmp_path: Path, invoke, url: str) -> None:
    repo = tmp_path / "continuum"

    result = invoke("init", str(repo), "--repo-url", url)

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 2, result.output
    assert lines[0].startswith("option --repo-url: the URL carries credentials before '@'")
    assert lines[1] == "1 error found; nothing was written"
    assert "tok3nvalue" not in result.output
    assert not repo.exists()


def test_init_rejects_invalid_url(tmp_path: Path, invoke) -> None:
    repo = tmp_path / "continuum"

    result = invoke("init", str(repo), "--repo-url", "git.example.com/ops/my repo.git")

    assert result.exit_code == 1
    assert "option --repo-url: expected a Git URL without spaces" in result.output
    assert not repo.exists()


@pytest.mark.parametrize("url", [ORIGIN, "git@git.example.com:ops/continuum.git", "ssh://git@git.example.com/ops/continuum.git"])
def test_init_accepts_plain_url(tmp_path: Path, invoke, url: str) -> None:
    result = invoke("init", str(tmp_path / "continuum"), "--repo-url", url)

    assert result.exit_code == 0, result.output
