"""Third-party services as Kubernetes workloads of the management cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from click.testing import CliRunner

from conftest import HOST_IP, UPSTREAM_DESCRIPTIONS, git
from kube import build, by_kind
from mlsysops_gitops.cli import main

KUBERNETES_VERSION = "1.32.0"
SERVICES = "overlays/management/services"


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Render the upstream descriptions once for the module and build the services overlay."""
    repo = tmp_path_factory.mktemp("services")
    git(repo, "init", "--quiet", "--initial-branch=main")
    (repo / "descriptions").symlink_to(UPSTREAM_DESCRIPTIONS)
    env = {"KARMADA_HOST_IP": HOST_IP, "EJABBERD_DOMAIN": "xmpp.example.com", "MLSYSOPS_GITOPS_REPO_URL": "https://git.example.com/x.git"}
    result = CliRunner().invoke(main, ["render", "--repo", str(repo), "--no-commit"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return build(repo / SERVICES)


def _named(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj for obj in by_kind(objects, kind)}


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def test_every_service_deployed(services: list[dict[str, Any]]) -> None:
    deployments = _named(services, "Deployment")

    assert sorted(deployments) == ["ejabberd", "mlconnector", "mlconnector-db", "northbound-api", "redis"]
    assert sorted(_named(services, "Service")) == ["ejabberd", "mlconnector", "mlconnector-db", "northbound-api", "redis"]
    assert sorted(_named(services, "PersistentVolumeClaim")) == ["mlconnector-db-data", "redis-data"]
    for obj in services:
        assert obj["metadata"]["namespace"] == "mlsysops-framework"


@pytest.mark.parametrize("name", ["ejabberd", "mlconnector", "mlconnector-db", "northbound-api", "redis"])
def test_service_is_production_ready(services: list[dict[str, Any]], name: str) -> None:
    container = _container(_named(services, "Deployment")[name])

    image, _, tag = container["image"].rpartition(":")
    assert image, container["image"]
    assert tag, container["image"]
    assert tag != "latest", container["image"]
    assert container["readinessProbe"]
    assert container["livenessProbe"]
    assert set(container["resources"]) == {"requests", "limits"}
    assert set(container["resources"]["limits"]) == {"cpu", "memory"}


def test_objects_valid_for_kubernetes(services: list[dict[str, Any]]) -> None:
    for obj in services:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_ejabberd_host_from_domain(services: list[dict[str, Any]]) -> None:
    (configmap,) = by_kind(services, "ConfigMap")

    config = yaml.safe_load(configmap["data"]["ejabberd.yml"])

    assert config["hosts"] == ["xmpp.example.com"]


def test_ejabberd_host_defaults_to_host_ip(make_repo, invoke) -> None:
    repo = make_repo()
    assert invoke("render", "--repo", str(repo), "--no-commit", "--no-verify").exit_code == 0

    (configmap,) = by_kind(build(repo / SERVICES), "ConfigMap")

    assert yaml.safe_load(configmap["data"]["ejabberd.yml"])["hosts"] == [HOST_IP]


def test_redis_password_and_volume(services: list[dict[str, Any]]) -> None:
    redis = _named(services, "Deployment")["redis"]
    container = _container(redis)

    assert container["args"][:2] == ["--requirepass", "$(REDIS_PASSWORD)"]
    assert container["env"] == [{"name": "REDIS_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "mlsysops-redis", "key": "password"}}}]
    assert redis["spec"]["template"]["spec"]["volumes"] == [{"name": "data", "persistentVolumeClaim": {"claimName": "redis-data"}}]


def test_northbound_api_reads_kubeconfig_secret(services: list[dict[str, Any]]) -> None:
    api = _named(services, "Deployment")["northbound-api"]
    container = _container(api)

    env = {entry["name"]: entry.get("value") for entry in container["env"]}
    assert env["KUBECONFIG"] == "/etc/kubeconfigs/karmada-api.kubeconfig"
    assert env["REDIS_HOST"] == HOST_IP
    (volume,) = api["spec"]["template"]["spec"]["volumes"]
    assert volume["secret"]["secretName"] == "karmada-api-kubeconfig"


def test_mlconnector_database(services: list[dict[str, Any]]) -> None:
    deployments = _named(services, "Deployment")
    connector, database = _container(deployments["mlconnector"]), _container(deployments["mlconnector-db"])

    env = {entry["name"]: entry.get("value", entry.get("valueFrom")) for entry in connector["env"]}
    assert env["DB_HOST_NAME"] == "mlconnector-db"
    assert env["DB_PORT"] == "5432"
    assert env["DB_DRIVER"] == "postgresql+asyncpg"
    assert env["POSTGRES_PASSWORD"] == {"secretKeyRef": {"name": "mlsysops-mlconnector-db", "key": "password"}}
    assert connector["readinessProbe"]["httpGet"] == {"path": "/docs", "port": 8090}
    assert database["readinessProbe"]["exec"]["command"][0] == "pg_isready"
    volumes = deployments["mlconnector-db"]["spec"]["template"]["spec"]["volumes"]
    assert volumes == [{"name": "data", "persistentVolumeClaim": {"claimName": "mlconnector-db-data"}}]


def _agent_endpoint(repo: Path, overlay: str) -> str:
    (daemonset,) = by_kind(build(repo / overlay), "DaemonSet")
    env = {entry["name"]: entry.get("value") for entry in _container(daemonset)["env"]}
    return env["MLS_MLCONNECTOR_ENDPOINT"]


def test_agents_use_deployed_mlconnector(make_repo, invoke) -> None:
    repo = make_repo()
    assert invoke("render", "--repo", str(repo), "--no-commit", "--no-verify").exit_code == 0

    assert _agent_endpoint(repo, "overlays/management/continuum-agent") == "http://mlconnector.mlsysops-framework.svc:8090"
    assert _agent_endpoint(repo, "overlays/clusters/mls-test-manage/node-agents") == f"http://{HOST_IP}:8090"


def test_external_mlconnector_not_deployed(make_repo, invoke) -> None:
    repo = make_repo()
    endpoint = "https://mlconnector.example.com"

    result = invoke("render", "--repo", str(repo), "--no-commit", "--no-verify", env={"MLS_MLCONNECTOR_ENDPOINT": endpoint})

    assert result.exit_code == 0, result.output
    assert not (repo / "base/mlconnector").exists()
    assert "mlconnector" not in _named(build(repo / SERVICES), "Deployment")
    assert _agent_endpoint(repo, "overlays/management/continuum-agent") == endpoint
    assert _agent_endpoint(repo, "overlays/clusters/mls-test-manage/cluster-agent") == endpoint
