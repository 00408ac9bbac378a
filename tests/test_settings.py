"""Settings: every installer variable reaches the agents that read it, in the right order of precedence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import HOST_IP, commits
from kube import build, by_kind

CLUSTER = "mls-test-manage"

# Every variable of the installer's table, with a valid value of its own.
TABLE = {
    "EJABBERD_DOMAIN": "xmpp.example.com",
    "MLS_OTEL_HIGHER_EXPORT": "OFF",
    "MLS_OTEL_CLUSTER_PORT": "43171",
    "MLS_OTEL_CONTINUUM_PORT": "43172",
    "MLS_OTEL_PROMETHEUS_LISTEN_IP": "0.0.0.0",
    "MLS_OTEL_PROMETHEUS_LISTEN_PORT": "9998",
    "MLS_OTEL_CONTINUUM_EXPORT_IP": "otel.example.com",
    "MLS_OTEL_CONTINUUM_EXPORT_PORT": "4317",
    "MLS_OTEL_MIMIR_EXPORT_ENDPOINT": "http://mimir.example.com:9009/api/v1/push",
    "MLS_OTEL_LOKI_EXPORT_ENDPOINT": "http://loki.example.com:3100/loki/api/v1/push",
    "MLS_OTEL_TEMPO_EXPORT_ENDPOINT": "http://tempo.example.com:4317",
    "MLS_OTEL_NODE_EXPORTER_FLAGS": "cpu,os,netdev",
    "LOCAL_OTEL_ENDPOINT": "http://localhost:9999/metrics",
    "MLS_MLCONNECTOR_ENDPOINT": "http://mlconnector.example.com:8090",
    "KARMADA_HOST_IP": "192.0.2.77",
}
EVERY_LAYER = {
    "EJABBERD_DOMAIN", "MLS_OTEL_PROMETHEUS_LISTEN_IP", "MLS_OTEL_PROMETHEUS_LISTEN_PORT", "MLS_OTEL_MIMIR_EXPORT_ENDPOINT",
    "MLS_OTEL_LOKI_EXPORT_ENDPOINT", "MLS_OTEL_TEMPO_EXPORT_ENDPOINT", "MLS_OTEL_NODE_EXPORTER_FLAGS", "LOCAL_OTEL_ENDPOINT",
    "MLS_MLCONNECTOR_ENDPOINT",
}  # fmt: skip
# Which agent reads which variable, as the agents' telemetry controller does.
READERS = {
    "continuum-agent": EVERY_LAYER | {"MLS_OTEL_CONTINUUM_EXPORT_IP", "MLS_OTEL_CONTINUUM_EXPORT_PORT"},
    "cluster-agent": EVERY_LAYER | {"MLS_OTEL_HIGHER_EXPORT", "MLS_OTEL_CONTINUUM_PORT"},
    "node-agent": EVERY_LAYER | {"MLS_OTEL_HIGHER_EXPORT", "MLS_OTEL_CLUSTER_PORT"},
}
OVERLAYS = {
    "continuum-agent": "overlays/management/continuum-agent",
    "cluster-agent": f"overlays/clusters/{CLUSTER}/cluster-agent",
    "node-agent": f"overlays/clusters/{CLUSTER}/node-agents",
}


def agent_env(repo: Path, agent: str) -> dict[str, Any]:
    """Build the agent's overlay with kustomize and return its container's env by name."""
    (daemonset,) = by_kind(build(repo / OVERLAYS[agent]), "DaemonSet")
    (container,) = daemonset["spec"]["template"]["spec"]["containers"]
    return {entry["name"]: entry.get("value", entry.get("valueFrom")) for entry in container["env"]}


def render(invoke, repo: Path, env: dict[str, str | None] | None = None, *args: str) -> None:
    # The test builds what it reads with kustomize itself.
    result = invoke("render", "--repo", str(repo), "--no-commit", "--no-verify", *args, env=env)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("agent", sorted(READERS))
def test_table_reaches_agents(make_repo, invoke, agent: str) -> None:
    repo = make_repo()
    render(invoke, repo, TABLE)

    env = agent_env(repo, agent)

    for name in READERS[agent]:
        assert env.get(name) == TABLE[name], name
    for name in set(TABLE) - READERS[agent] - {"KARMADA_HOST_IP"}:
        assert name not in env, f"{agent} does not read {name}"
    assert env["REDIS_HOST"] == TABLE["KARMADA_HOST_IP"]


def test_unset_settings_are_left_out(make_repo, invoke) -> None:
    repo = make_repo()
    render(invoke, repo, {"MLS_OTEL_CLUSTER_PORT": "", "LOCAL_OTEL_ENDPOINT": ""})

    for agent in READERS:
        env = agent_env(repo, agent)
        assert not [name for name in env if name.startswith("MLS_OTEL_") or name == "LOCAL_OTEL_ENDPOINT"]
        assert "" not in env.values()
        assert "None" not in env.values()
        assert env["EJABBERD_DOMAIN"] == HOST_IP


def test_environment_overrides_file(make_repo, invoke) -> None:
    repo = make_repo(files={"mlsysops-gitops.yaml": "karmada_host_ip: 192.0.2.20\nmls_otel_cluster_port: 4000\nmls_otel_prometheus_listen_port: 9100\n"})
    render(invoke, repo, {"KARMADA_HOST_IP": "192.0.2.30", "MLS_OTEL_CLUSTER_PORT": "4317"}, "--karmada-host-ip", "192.0.2.40")

    env = agent_env(repo, "node-agent")

    assert env["MLS_OTEL_CLUSTER_PORT"] == "4317"
    assert env["MLS_OTEL_PROMETHEUS_LISTEN_PORT"] == "9100"
    assert env["REDIS_HOST"] == "192.0.2.40"


def test_settings_command_names_origins(make_repo, invoke) -> None:
    repo = make_repo(files={"mlsysops-gitops.yaml": "# example\nmls_otel_cluster_port: 4000\nmls_otel_loki_export_endpoint: http://loki:3100\n"})

    result = invoke("settings", "--repo", str(repo), "--format", "json", "--karmada-destination", "karmada", env={"MLS_OTEL_CLUSTER_PORT": "4317"})

    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert (rows["karmada_host_ip"]["value"], rows["karmada_host_ip"]["origin"]) == (HOST_IP, "environment KARMADA_HOST_IP")
    assert (rows["mls_otel_cluster_port"]["value"], rows["mls_otel_cluster_port"]["origin"]) == ("4317", "environment MLS_OTEL_CLUSTER_PORT")
    assert rows["mls_otel_loki_export_endpoint"]["origin"] == "mlsysops-gitops.yaml:3"
    assert rows["karmada_destination"]["origin"] == "option --karmada-destination"
    assert (rows["ejabberd_domain"]["value"], rows["ejabberd_domain"]["origin"]) == (None, "default")
    assert (rows["repo_url"]["value"], rows["repo_url"]["origin"]) == ("https://git.example.com/ops/continuum.git", "Git remote origin")


def test_settings_command_text_table(make_repo, invoke) -> None:
    repo = make_repo()

    result = invoke("settings", "--repo", str(repo))

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["setting", "value", "source"]
    assert lines[1].split() == ["karmada_host_ip", HOST_IP, "environment", "KARMADA_HOST_IP"]


def test_invalid_settings_named_together(make_repo, invoke) -> None:
    settings = "karmada_host_ip: 192.0.2.10\nmls_otel_cluster_port: 70000\nmls_otel_mimir_export_endpoint: mimir:9009\n"
    repo = make_repo(files={"mlsysops-gitops.yaml": settings})
    env = {"KARMADA_HOST_IP": "not-an-ip", "MLS_OTEL_CONTINUUM_EXPORT_PORT": "0", "LOCAL_OTEL_ENDPOINT": "localhost:9999"}

    result = invoke("render", "--repo", str(repo), env=env)

    assert result.exit_code == 1
    assert "environment KARMADA_HOST_IP: Settings.karmada_host_ip: " in result.output
    assert "mlsysops-gitops.yaml:2:1: Settings.mls_otel_cluster_port: input should be less than or equal to 65535, got 70000" in result.output
    assert "mlsysops-gitops.yaml:3:1: Settings.mls_otel_mimir_export_endpoint: expected a URL with scheme and host" in result.output
    assert "environment MLS_OTEL_CONTINUUM_EXPORT_PORT: Settings.mls_otel_continuum_export_port: input should be greater than or equal to 1" in result.output
    assert "environment LOCAL_OTEL_ENDPOINT: Settings.local_otel_endpoint: expected a URL" in result.output
    assert "5 errors found; nothing was written" in result.output
    assert not (repo / "base").exists()
    assert commits(repo) == []


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("karmada_host_ip: 192.0.2.300", "value is not a valid IPv4 or IPv6 address"),
        ("mls_otel_prometheus_listen_port: '0'", "input should be greater than or equal to 1"),
        ("mls_otel_prometheus_listen_ip: prometheus.local", "value is not a valid IPv4 or IPv6 address"),
        ("mls_otel_continuum_export_ip: http://otel", "expected an IP address or a DNS name"),
        ("ejabberd_domain: 'xmpp example'", "expected an IP address or a DNS name"),
        ("mls_otel_higher_export: maybe", "expected 'ON' or 'OFF'"),
        ("mls_otel_node_exporter_flags: 'cpu;os'", "expected comma-separated node exporter collector names such as cpu,os,netdev, got 'cpu;os'"),
        ("mls_mlconnector_endpoint: /mlconnector", "expected a URL with scheme and host"),
        ("mls_otel_tempo_export_endpoint: 'http://tempo:99999'", "invalid port in URL"),
        ("agents_tag: latest", "'latest' is not a pinned version"),
        ("redis_image: 'redis:latest'", "'latest' is not a pinned version"),
        ("secrets_mode: vault", "expected 'external', 'external-secrets' or 'sealed-secrets'"),
    ],
)
def test_invalid_value_message(make_repo, invoke, line: str, message: str) -> None:
    host = "" if line.startswith("karmada_host_ip") else "\nkarmada_host_ip: 192.0.2.10"
    repo = make_repo(files={"mlsysops-gitops.yaml": f"# settings\n{line}{host}\n"})

    result = invoke("validate", "--repo", str(repo), env={"KARMADA_HOST_IP": None})

    field = line.split(":")[0]
    assert result.exit_code == 1
    assert f"mlsysops-gitops.yaml:2:1: Settings.{field}: {message}" in result.output


@pytest.mark.parametrize(("value", "expected"), [("'on'", "ON"), ("'Off'", "OFF"), ("true", "ON"), ("false", "OFF")])
def test_higher_export_spelling(make_repo, invoke, value: str, expected: str) -> None:
    repo = make_repo(files={"mlsysops-gitops.yaml": f"mls_otel_higher_export: {value}\n"})
    render(invoke, repo, None)

    assert agent_env(repo, "node-agent")["MLS_OTEL_HIGHER_EXPORT"] == expected


def test_missing_host_ip_names_every_source(make_repo, invoke) -> None:
    repo = make_repo()

    result = invoke("validate", "--repo", str(repo), env={"KARMADA_HOST_IP": None})

    assert result.exit_code == 1
    assert "mlsysops-gitops.yaml: Settings.karmada_host_ip: required setting is missing; set KARMADA_HOST_IP, --karmada-host-ip or karmada_host_ip in mlsysops-gitops.yaml" in result.output


@pytest.mark.parametrize("key", ["redis_password", "node_password", "karmada_kubeconfig", "api_token"])
def test_credential_key_refused(make_repo, invoke, key: str) -> None:
    repo = make_repo(files={"mlsysops-gitops.yaml": f"karmada_host_ip: 192.0.2.10\n{key}: s3cr3t-in-file\n"})

    result = invoke("render", "--repo", str(repo))

    assert result.exit_code == 1
    assert f"mlsysops-gitops.yaml:2:1: Settings.{key}: unknown setting; credentials are never settings" in result.output
    assert "s3cr3t-in-file" not in result.output
    assert commits(repo) == []


def test_unknown_prefixed_variable_refused(make_repo, invoke) -> None:
    repo = make_repo()

    result = invoke("validate", "--repo", str(repo), env={"MLSYSOPS_GITOPS_REPO_ULR": "https://git.example.com/x.git"})

    assert result.exit_code == 1
    assert "environment MLSYSOPS_GITOPS_REPO_ULR: Settings.repo_ulr: unknown variable; did you mean MLSYSOPS_GITOPS_REPO_URL?" in result.output


def test_repo_url_with_password_refused(make_repo, invoke) -> None:
    repo = make_repo()

    result = invoke("validate", "--repo", str(repo), env={"MLSYSOPS_GITOPS_REPO_URL": "https://operator:tok3n-value@git.example.com/x.git"})

    assert result.exit_code == 1
    assert "environment MLSYSOPS_GITOPS_REPO_URL: Settings.repo_url: the URL carries credentials before '@'" in result.output
    assert "tok3n-value" not in result.output


def test_mlconnector_mode_contradictions(make_repo, invoke) -> None:
    repo = make_repo(files={"mlsysops-gitops.yaml": "mlconnector: external\n"})

    result = invoke("validate", "--repo", str(repo))

    assert result.exit_code == 1
    assert "mlconnector is 'external' but MLS_MLCONNECTOR_ENDPOINT is not set" in result.output
