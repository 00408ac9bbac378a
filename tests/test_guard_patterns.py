"""The credential guard catches credentials however operators name or place them."""

from __future__ import annotations

import pytest

from mlsysops_gitops.render.guard import scan

LEAKS = {
    "prefixed-password-key": ("descriptions/configurations/node/default.yaml", b"redis_password: hunter2secret\n"),
    "nested-token-key": ("descriptions/configurations/node/default.yaml", b"mqtt:\n  api_token: tok3nvalue123\n"),
    "password-in-python": ("descriptions/policies/node/p.py", b'password = "hunter2hunter2"\n'),
    "api-key-in-url-query": ("base/node-agent/node-agent.yaml", b"value: https://loki.example.com/push?api_key=abcdef0123456789\n"),
    "short-pass-env-name": ("descriptions/applications/a.yaml", b"env:\n- name: DB_PASS\n  value: s3cr3tvalue\n"),
}

CLEAN = {
    "secret-key-ref": b"env:\n- name: REDIS_PASSWORD\n  valueFrom:\n    secretKeyRef:\n      name: mlsysops-redis\n      key: password\n",
    "secret-volume": b"volumes:\n- name: kubeconfig\n  secret:\n    secretName: karmada-api-kubeconfig\n",
    "plain-endpoint": b"value: https://loki.example.com/loki/api/v1/push?tenant=edge\n",
}


@pytest.mark.parametrize(("path", "content"), LEAKS.values(), ids=LEAKS.keys())
def test_guard_finds_leak(path: str, content: bytes) -> None:
    problems = scan(path, content)

    assert len(problems) == 1
    assert problems[0].path == path
    assert "looks like it carries a credential" in problems[0].message


@pytest.mark.parametrize("content", CLEAN.values(), ids=CLEAN.keys())
def test_guard_passes_references(content: bytes) -> None:
    assert scan("base/x/x.yaml", content) == []


def test_validate_reports_credential_like_render(make_repo, invoke) -> None:
    repo = make_repo()
    config = repo / "descriptions/configurations/node/default.yaml"
    config.parent.mkdir(parents=True)
    config.write_text("redis_password: hunter2secret\n")

    validated = invoke("validate", "--repo", str(repo))
    rendered = invoke("render", "--repo", str(repo))

    assert validated.exit_code == 1
    assert rendered.exit_code == 1
    assert "descriptions/configurations/node/default.yaml" in validated.stderr
    assert "literal 'redis_password:' value" in validated.stderr
    assert "hunter2secret" not in validated.output
