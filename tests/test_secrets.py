"""No credential reaches the repository, wherever a careless operator leaves one."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from conftest import commits, git
from kube import build, by_kind, kustomization_dirs

# Fake credentials, each unique enough that finding it anywhere means it leaked.
PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAleakedkeymaterial0123456789\n-----END RSA PRIVATE KEY-----\n"
KUBECONFIG_TOKEN = "kcfgtoken7f3a9c2e5b8d1f4a6c9e2b5d8f1a4c7e"
MARKERS = {
    "REDIS_PASSWORD": "redis-pw-3c1f9a7e",
    "NODE_PASSWORD": "xmpp-pw-8d2b6e4a",
    "POSTGRES_PASSWORD": "pg-pw-5e9c3a1b",
    "EJABBERD_PASSWORD": "ejabberd-pw-2a7d4f9c",
    "KARMADA_TOKEN": "karmada-token-6b1e8d3f",
}
KUBECONFIG = f"""\
apiVersion: v1
kind: Config
clusters:
- name: karmada-apiserver
  cluster:
    server: https://127.0.0.1:9
contexts:
- name: karmada
  context: {{cluster: karmada-apiserver, user: admin}}
current-context: karmada
users:
- name: admin
  user:
    client-key-data: {base64.b64encode(PRIVATE_KEY.encode()).decode()}
    token: {KUBECONFIG_TOKEN}
"""
SECRET_MARKERS = [*MARKERS.values(), KUBECONFIG_TOKEN, "leakedkeymaterial0123456789"]


def _leaks(text: str) -> list[str]:
    encoded = [base64.b64encode(marker.encode()).decode().rstrip("=") for marker in SECRET_MARKERS]
    return [marker for marker in [*SECRET_MARKERS, *encoded] if marker in text]


def _careless_env(repo: Path) -> dict[str, str]:
    kubeconfig = repo / "karmada-api.kubeconfig"
    kubeconfig.write_text(KUBECONFIG, encoding="utf-8")
    return {"KUBECONFIG": str(kubeconfig), "KARMADA_API_KUBECONFIG": str(kubeconfig), **MARKERS}


def _workload_containers(objects: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for obj in objects:
        if obj["kind"] in ("Deployment", "DaemonSet", "StatefulSet"):
            spec = obj["spec"]["template"]["spec"]
            for container in spec.get("initContainers", []) + spec["containers"]:
                found.append((f"{obj['kind']}/{obj['metadata']['name']}/{container['name']}", container))
    return found


def test_planted_credentials_never_land(make_repo, invoke) -> None:
    repo = make_repo(files={"mlsysops-gitops.yaml": f"karmada_host_ip: 192.0.2.10\nredis_password: {MARKERS['REDIS_PASSWORD']}\n"})
    env = _careless_env(repo)

    refused = invoke("render", "--repo", str(repo), env=env)
    (repo / "mlsysops-gitops.yaml").write_text("karmada_host_ip: 192.0.2.10\n", encoding="utf-8")
    rendered = invoke("render", "--repo", str(repo), env=env)

    assert refused.exit_code == 1
    assert "Settings.redis_password: unknown setting; credentials are never settings" in refused.output
    assert rendered.exit_code == 0, rendered.output
    assert len(commits(repo)) == 1
    assert _leaks(refused.output + rendered.output) == []
    assert _leaks(git(repo, "log", "-p", "--all")) == []
    tracked = git(repo, "ls-files").split()
    assert "karmada-api.kubeconfig" not in tracked
    for path in tracked:
        assert _leaks((repo / path).read_text(encoding="utf-8")) == [], path


def test_password_env_from_secret_refs(make_repo, invoke) -> None:
    repo = make_repo()
    result = invoke("render", "--repo", str(repo), "--no-commit", "--no-verify", env=_careless_env(repo))
    assert result.exit_code == 0, result.output

    checked = []
    for directory in kustomization_dirs(repo):
        if "overlays" not in directory.parts:
            continue
        for name, container in _workload_containers(build(directory)):
            for entry in container.get("env", []):
                if "PASSWORD" in entry["name"]:
                    assert "value" not in entry, f"{name}: {entry['name']} has a literal value"
                    assert set(entry["valueFrom"]) == {"secretKeyRef"}, f"{name}: {entry['name']}"
                    checked.append((name, entry["name"], entry["valueFrom"]["secretKeyRef"]["name"]))

    assert ("Deployment/redis/redis", "REDIS_PASSWORD", "mlsysops-redis") in checked
    assert ("Deployment/mlconnector-db/postgres", "POSTGRES_PASSWORD", "mlsysops-mlconnector-db") in checked
    assert ("Deployment/mlconnector/mlconnector", "POSTGRES_PASSWORD", "mlsysops-mlconnector-db") in checked
    assert ("DaemonSet/mlsysops-continuum-agent/continuum-agent", "NODE_PASSWORD", "mlsysops-agents-xmpp") in checked
    assert ("DaemonSet/mlsysops-node-agent-mls-test-manage/node-agent", "REDIS_PASSWORD", "mlsysops-redis") in checked
    assert len(checked) == 10


def test_kubeconfig_only_from_secret_volume(make_repo, invoke) -> None:
    repo = make_repo()
    result = invoke("render", "--repo", str(repo), "--no-commit", "--no-verify")
    assert result.exit_code == 0, result.output

    objects = build(repo / "overlays/management/services") + build(repo / "overlays/management/continuum-agent")

    for configmap in by_kind(objects, "ConfigMap"):
        assert "kind: Config" not in str(configmap.get("data")), configmap["metadata"]["name"]
    volumes = {
        obj["metadata"]["name"]: {volume["name"]: volume for volume in obj["spec"]["template"]["spec"].get("volumes", [])}
        for obj in objects
        if obj["kind"] in ("Deployment", "DaemonSet")
    }
    for workload in ("northbound-api", "mlsysops-continuum-agent"):
        assert volumes[workload]["karmada-kubeconfig"]["secret"]["secretName"] == "karmada-api-kubeconfig"


@pytest.mark.parametrize(
    ("name", "content", "pattern"),
    [
        ("descriptions/karmada-api.kubeconfig", KUBECONFIG, "kubeconfig client key (client-key-data)"),
        ("descriptions/id_rsa", PRIVATE_KEY, "PEM private key"),
        ("descriptions/notes.yaml", f"redis:\n  password: {MARKERS['REDIS_PASSWORD']}\n", "literal 'password:' value"),
        ("descriptions/notes.txt", f"curl -H 'Authorization: Bearer {KUBECONFIG_TOKEN}'\n", "bearer token"),
    ],
)
def test_credential_in_inputs_refused(make_repo, invoke, name: str, content: str, pattern: str) -> None:
    repo = make_repo(files={name: content})

    result = invoke("render", "--repo", str(repo))

    assert result.exit_code == 1
    assert f"{name}" in result.output
    assert f"looks like it carries a credential ({pattern})" in result.output
    assert _leaks(result.output) == []
    assert commits(repo) == []
    assert not (repo / "base").exists()


def test_token_in_origin_url_refused(make_repo, invoke) -> None:
    repo = make_repo()
    git(repo, "remote", "set-url", "origin", f"https://operator:{KUBECONFIG_TOKEN}@git.example.com/ops/continuum.git")

    result = invoke("render", "--repo", str(repo))

    assert result.exit_code == 1
    assert "the Git remote 'origin' cannot be the Argo CD repoURL" in result.stderr
    assert "carries credentials" in result.stderr
    assert "1 error found" in result.stderr
    assert _leaks(result.output) == []
    assert commits(repo) == []
    assert not (repo / "argocd").exists()


def test_secrets_command_prints_placeholders(make_repo, invoke) -> None:
    repo = make_repo()

    result = invoke("secrets", "--repo", str(repo), "--karmada-context", "karmada-apiserver", env=_careless_env(repo))

    assert result.exit_code == 0, result.output
    assert _leaks(result.output) == []
    management, karmada = result.output.split("# Karmada API server")
    assert "kubectl --context='<management-context>' --namespace=mlsysops-framework create secret generic karmada-api-kubeconfig" in management
    assert "--from-file=karmada-api.kubeconfig='<path of the Karmada API server kubeconfig>'" in management
    for name in ("mlsysops-redis", "mlsysops-agents-xmpp", "mlsysops-mlconnector-db"):
        assert f"create secret generic {name} \\\n  --from-file=password='<file with" in management
    assert "kubectl --context=karmada-apiserver label --overwrite namespace mlsysops-framework namespace.karmada.io/skip-auto-propagation=true" in karmada
    assert "create secret generic mlsysops-redis" in karmada
    assert "karmada-api-kubeconfig" not in karmada
    assert "mlconnector" not in karmada


def test_external_secrets_mode(make_repo, invoke) -> None:
    settings = "secrets_mode: external-secrets\nexternal_secrets_store: vault\nexternal_secrets_store_kind: SecretStore\nexternal_secrets_api_version: external-secrets.io/v1beta1\n"
    repo = make_repo(files={"mlsysops-gitops.yaml": settings})

    result = invoke("render", "--repo", str(repo), "--no-commit")

    assert result.exit_code == 0, result.output
    management = by_kind(build(repo / "overlays/management/services"), "ExternalSecret")
    karmada = by_kind(build(repo / "overlays/karmada"), "ExternalSecret")
    assert sorted(obj["metadata"]["name"] for obj in management) == ["karmada-api-kubeconfig", "mlsysops-agents-xmpp", "mlsysops-mlconnector-db", "mlsysops-redis"]
    assert sorted(obj["metadata"]["name"] for obj in karmada) == ["mlsysops-agents-xmpp", "mlsysops-redis"]
    (kubeconfig,) = [obj for obj in management if obj["metadata"]["name"] == "karmada-api-kubeconfig"]
    assert kubeconfig["apiVersion"] == "external-secrets.io/v1beta1"
    assert kubeconfig["metadata"]["namespace"] == "mlsysops-framework"
    assert kubeconfig["spec"]["secretStoreRef"] == {"name": "vault", "kind": "SecretStore"}
    assert kubeconfig["spec"]["target"] == {"name": "karmada-api-kubeconfig", "creationPolicy": "Owner"}
    assert kubeconfig["spec"]["data"] == [{"secretKey": "karmada-api.kubeconfig", "remoteRef": {"key": "mlsysops/karmada-api-kubeconfig", "property": "karmada-api.kubeconfig"}}]


def _sealed(name: str, namespace: str = "mlsysops-framework", extra: str = "") -> str:
    return (
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n"
        f"metadata:\n  name: {name}\n  namespace: {namespace}\n"
        "spec:\n  encryptedData:\n    password: AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq\n"
        f"  template:\n    metadata:\n      name: {name}\n{extra}"
    )


SEALED = {
    "descriptions/secrets/management/karmada-api-kubeconfig.yaml": _sealed("karmada-api-kubeconfig"),
    "descriptions/secrets/management/mlsysops-redis.yaml": _sealed("mlsysops-redis"),
    "descriptions/secrets/management/mlsysops-agents-xmpp.yaml": _sealed("mlsysops-agents-xmpp"),
    "descriptions/secrets/management/mlsysops-mlconnector-db.yaml": _sealed("mlsysops-mlconnector-db"),
    "descriptions/secrets/karmada/mlsysops-redis.yaml": _sealed("mlsysops-redis"),
    "descriptions/secrets/karmada/mlsysops-agents-xmpp.yaml": _sealed("mlsysops-agents-xmpp"),
}


def test_sealed_secrets_mode(make_repo, invoke) -> None:
    repo = make_repo(files={"mlsysops-gitops.yaml": "secrets_mode: sealed-secrets\n", **SEALED})

    result = invoke("render", "--repo", str(repo))

    assert result.exit_code == 0, result.output
    management = by_kind(build(repo / "overlays/management/services"), "SealedSecret")
    karmada = by_kind(build(repo / "overlays/karmada"), "SealedSecret")
    assert len(management) == 4
    assert sorted(obj["metadata"]["name"] for obj in karmada) == ["mlsysops-agents-xmpp", "mlsysops-redis"]
    assert "descriptions/secrets/karmada/mlsysops-redis.yaml" in git(repo, "ls-files").split()


def test_sealed_secret_missing_named(make_repo, invoke) -> None:
    files = {path: text for path, text in SEALED.items() if not path.endswith("karmada/mlsysops-redis.yaml")}
    repo = make_repo(files={"mlsysops-gitops.yaml": "secrets_mode: sealed-secrets\n", **files})

    result = invoke("render", "--repo", str(repo))

    assert result.exit_code == 1
    assert "descriptions/secrets/karmada: SealedSecret.mlsysops-redis: no SealedSecret named 'mlsysops-redis'" in result.output
    assert commits(repo) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: mlsysops-redis\nstringData:\n  password: {MARKERS['REDIS_PASSWORD']}\n", "expected kind SealedSecret"),
        (_sealed("mlsysops-redis", extra=f"    stringData:\n      password: {MARKERS['REDIS_PASSWORD']}\n"), "the template carries plain values"),
        (_sealed("mlsysops-redis", namespace="default"), "metadata.namespace must be 'mlsysops-framework'"),
    ],
)
def test_bad_sealed_secret_refused(make_repo, invoke, content: str, message: str) -> None:
    repo = make_repo(files={"descriptions/secrets/management/mlsysops-redis.yaml": content})

    result = invoke("render", "--repo", str(repo))

    assert result.exit_code == 1
    assert "descriptions/secrets/management/mlsysops-redis.yaml" in result.output
    assert message in result.output
    assert _leaks(result.output) == []
    assert commits(repo) == []
