"""The Application health check shipped for argocd-cm, run in a real Lua interpreter.

Argo CD runs health checks with gopher-lua (Lua 5.1); lupa embeds a newer Lua, and the
check uses nothing that differs between the two.
"""

from __future__ import annotations

from typing import Any

import pytest

from mlsysops_gitops.render.argocd import HEALTH_CHECK_LUA

lupa = pytest.importorskip("lupa")


def _health(obj: dict[str, Any]) -> tuple[str, str]:
    runtime = lupa.LuaRuntime(unpack_returned_tuples=True)
    check = runtime.eval(f"function(obj)\n{HEALTH_CHECK_LUA}\nend")
    result = check(runtime.table_from(obj, recursive=True))
    return result["status"], result["message"]


def _app(health: dict[str, str] | None = None, sync: str | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {}
    if health is not None:
        status["health"] = health
    if sync is not None:
        status["sync"] = {"status": sync}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "child"}, "status": status}


def test_new_application_is_progressing() -> None:
    assert _health({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application"})[0] == "Progressing"
    assert _health(_app())[0] == "Progressing"


def test_synced_healthy_application_is_healthy() -> None:
    assert _health(_app({"status": "Healthy"}, "Synced")) == ("Healthy", "")


def test_healthy_but_out_of_sync_waits() -> None:
    assert _health(_app({"status": "Healthy"}, "OutOfSync"))[0] == "Progressing"
    assert _health(_app({"status": "Healthy"}))[0] == "Progressing"


def test_degraded_application_keeps_its_message() -> None:
    assert _health(_app({"status": "Degraded", "message": "DaemonSet not ready"}, "Synced")) == ("Degraded", "DaemonSet not ready")


@pytest.mark.parametrize("status", ["Missing", "Progressing", "Suspended", "Unknown"])
def test_other_statuses_pass_through(status: str) -> None:
    assert _health(_app({"status": status}, "OutOfSync"))[0] == status
