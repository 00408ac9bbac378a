"""Application descriptions: validated against the fleet, rendered as MLSysOpsApp objects."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import UPSTREAM
from kube import build

APP = """\
MLSysOpsApplication:
  name: video-analytics
  cluster_placement:
    cluster_id:
      - mls-test-manage
  components:
    - metadata:
        name: detector
      node_placement:
        continuum_layer:
          - edge
        node: {node}
      restart_policy: OnFailure
      containers:
        - image: registry.example.com/detector:1.2.0
          image_pull_policy: IfNotPresent
          ports:
            - container_port: 9000
              protocol: TCP
          env:
            - name: NODE_IP
              value_from:
                field_ref:
                  field_path: status.hostIP
    - metadata:
        name: dashboard
      containers:
        - image: registry.example.com/dashboard:1.2.0
  component_interactions:
    - component_name1: dashboard
      type: egress
      component_name2: detector
"""
APP_PATH = "descriptions/applications/video-analytics.yaml"


def _crd_schema() -> dict:
    crd = yaml.safe_load((UPSTREAM / "crds" / "MLSysOpsApplication.yaml").read_text(encoding="utf-8"))
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


@pytest.fixture
def rendered(make_repo: Callable[..., Path], invoke: Callable[..., object]) -> Path:
    repo = make_repo(files={APP_PATH: APP.format(node="mls-test-vm1")})
    result = invoke("render", "--repo", str(repo))
    assert result.exit_code == 0, result.output
    return repo


def test_application_matches_app_crd(rendered: Path) -> None:
    (app,) = build(rendered / "overlays/applications")
    assert app["apiVersion"] == "mlsysops.eu/v1"
    assert app["kind"] == "MLSysOpsApp"
    assert app["metadata"]["name"] == "video-analytics"
    assert app["metadata"]["namespace"] == "mlsysops-framework"
    assert app["metadata"]["annotations"] == {"argocd.argoproj.io/sync-options": "SkipDryRunOnMissingResource=true"}
    assert app["components"][0]["node_placement"]["node"] == "mls-test-vm1"
    body = {key: value for key, value in app.items() if key not in ("apiVersion", "kind", "metadata")}
    assert body == yaml.safe_load(APP.format(node="mls-test-vm1"))["MLSysOpsApplication"]
    jsonschema.validate(body, _crd_schema())


def test_applications_sync_last_on_karmada(rendered: Path) -> None:
    application = yaml.safe_load((rendered / "argocd/apps/mlsysops-applications.yaml").read_text(encoding="utf-8"))
    assert application["spec"]["source"]["path"] == "overlays/applications"
    assert application["spec"]["destination"] == {"name": "karmada-apiserver", "namespace": "mlsysops-framework"}
    waves = {}
    for path in (rendered / "argocd/apps").rglob("*.yaml"):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        if document["kind"] == "Application":
            waves[document["metadata"]["name"]] = int(document["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
    # Root's cluster app-of-apps hold the node agents; applications come after every one of them.
    assert waves["mlsysops-applications"] == max(waves.values())
    assert waves["mlsysops-applications"] > waves["mlsysops-cluster-mls-test-manage"]
    assert "mlsysops-applications.yaml" in yaml.safe_load((rendered / "argocd/apps/kustomization.yaml").read_text(encoding="utf-8"))["resources"]


def test_no_applications_no_application_objects(make_repo: Callable[..., Path], invoke: Callable[..., object]) -> None:
    repo = make_repo()
    assert invoke("render", "--repo", str(repo)).exit_code == 0
    assert not (repo / "overlays/applications").exists()
    assert not (repo / "argocd/apps/mlsysops-applications.yaml").exists()


def _rejected(make_repo: Callable[..., Path], invoke: Callable[..., object], text: str) -> str:
    repo = make_repo(files={APP_PATH: text})
    result = invoke("render", "--repo", str(repo))
    assert result.exit_code == 1, result.output
    assert not (repo / "overlays").exists()
    return result.output


def test_unknown_node_is_rejected(make_repo: Callable[..., Path], invoke: Callable[..., object]) -> None:
    output = _rejected(make_repo, invoke, APP.format(node="mls-test-vm9"))
    assert f"{APP_PATH}:12:" in output
    assert "MLSysOpsApplication.components[0].node_placement.node: node 'mls-test-vm9' has no description in descriptions/nodes/; did you mean 'mls-test-vm1'?" in output


def test_unknown_cluster_is_rejected(make_repo: Callable[..., Path], invoke: Callable[..., object]) -> None:
    output = _rejected(make_repo, invoke, APP.format(node="mls-test-vm1").replace("- mls-test-manage", "- mls-prod"))
    assert f"{APP_PATH}:5:" in output
    assert "MLSysOpsApplication.cluster_placement.cluster_id[0]: cluster 'mls-prod' has no description in descriptions/clusters/" in output


def test_unknown_component_in_interaction_is_rejected(make_repo: Callable[..., Path], invoke: Callable[..., object]) -> None:
    output = _rejected(make_repo, invoke, APP.format(node="mls-test-vm1").replace("component_name2: detector", "component_name2: detektor"))
    assert "MLSysOpsApplication.component_interactions[0].component_name2: component 'detektor' is not a component of this application" in output


def test_invalid_enum_value_is_refused_with_location(make_repo: Callable[..., Path], invoke: Callable[..., object]) -> None:
    output = _rejected(make_repo, invoke, APP.format(node="mls-test-vm1").replace("restart_policy: OnFailure", "restart_policy: Sometimes"))
    assert f"{APP_PATH}:13:" in output
    assert "MLSysOpsApplication.components[0].restart_policy: invalid value 'Sometimes'" in output


def test_camel_case_fields_are_refused_with_the_crd_spelling(make_repo: Callable[..., Path], invoke: Callable[..., object]) -> None:
    upstream = (UPSTREAM / "applications" / "test-application-description.yaml").read_text(encoding="utf-8")
    output = _rejected(make_repo, invoke, upstream)
    assert "MLSysOpsApplication.clusterPlacement: unknown field: the MLSysOpsApp CRD does not define it, so the API server would drop it; the CRD spells it 'cluster_placement'" in output
    assert "MLSysOpsApplication.components[0].Component: unknown field" in output
    assert "the CRD spells it 'metadata'" in output


def test_file_name_must_match_name(make_repo: Callable[..., Path], invoke: Callable[..., object]) -> None:
    repo = make_repo(files={"descriptions/applications/other.yaml": APP.format(node="mls-test-vm1")})
    result = invoke("render", "--repo", str(repo))
    assert result.exit_code == 1
    assert "descriptions/applications/other.yaml:2:" in result.output
    assert "MLSysOpsApplication.name: name 'video-analytics' differs from the file name" in result.output
