"""A small model of how Argo CD syncs an app-of-apps tree, wave by wave.

Written from Argo CD's documentation on sync phases and waves and on resource health:

- A sync applies resources wave by wave, lowest ``argocd.argoproj.io/sync-wave`` first
  (no annotation means wave 0). The next wave starts only once every resource of the
  waves before it is in sync and healthy.
- An Application is itself a resource of its parent. Since Argo CD 1.8 an Application
  has no health assessment unless ``argocd-cm`` restores it. A resource without health
  assessment counts as healthy as soon as it is applied, so the parent's next wave
  starts at once.
- An Application's own health is the worst health of its resources.
- A Degraded resource fails the parent's sync operation; automated sync retries it, so
  the failed wave is applied again, but the parent never reaches a later wave.

Time runs in ticks: in each tick every Application applies the wave it may apply, and a
leaf Application becomes Healthy ``rollout_ticks`` after it was created unless told to
fail, as its pods take time to start.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from kube import build

SYNC_WAVE = "argocd.argoproj.io/sync-wave"
APP_OF_APPS_PREFIX = "argocd/"


@dataclasses.dataclass
class App:
    """One Application: its wave in its parent, its source path and its children."""

    name: str
    wave: int
    path: str
    destination: str
    obj: dict[str, Any]
    children: list[App] = dataclasses.field(default_factory=list)

    @property
    def is_app_of_apps(self) -> bool:
        return bool(self.children)

    def walk(self) -> list[App]:
        found = [self]
        for child in self.children:
            found += child.walk()
        return found


def wave_of(obj: dict[str, Any]) -> int:
    """Return an object's sync wave as Argo CD reads it: a string annotation, 0 when absent."""
    value = (obj["metadata"].get("annotations") or {}).get(SYNC_WAVE, "0")
    assert isinstance(value, str), f"{obj['metadata']['name']}: sync-wave {value!r} is not a string"
    return int(value)


def load_tree(repo: Path) -> App:
    """Build ``argocd/`` with kustomize and follow each Application whose path contains Applications."""
    (root_obj,) = [obj for obj in build(repo / "argocd") if obj["kind"] == "Application"]
    return _load(repo, root_obj)


def _load(repo: Path, obj: dict[str, Any]) -> App:
    spec = obj["spec"]
    app = App(obj["metadata"]["name"], wave_of(obj), spec["source"]["path"], spec["destination"]["name"], obj)
    if app.path.startswith(APP_OF_APPS_PREFIX):
        for child in build(repo / app.path):
            assert child["kind"] == "Application", f"{app.path} holds a {child['kind']}"
            app.children.append(_load(repo, child))
    return app


@dataclasses.dataclass
class SyncRun:
    """The outcome of a simulated bootstrap: when each Application was created, and health."""

    started: dict[str, int]
    healthy_at: dict[str, int]
    health: dict[str, str]


def simulate(root: App, *, failing: Collection[str] = (), health_check: bool = True, rollout_ticks: int = 3, ticks: int = 200) -> SyncRun:
    """Bootstrap ``root`` and return when each Application started and how it ended.

    Args:
        failing: names of leaf Applications that never become healthy (Degraded).
        health_check: whether argocd-cm restores the health assessment of Applications.
    """
    started = {root.name: 0}
    healthy_at: dict[str, int] = {}
    health: dict[str, str] = {}
    applied_wave: dict[str, int | None] = {app.name: None for app in root.walk()}
    apps = root.walk()

    def app_health(app: App) -> str:
        if app.name not in started:
            return "Missing"
        if not app.is_app_of_apps:
            return health.get(app.name, "Progressing")
        statuses = [gate_health(child) for child in app.children]
        if any(status == "Degraded" for status in statuses):
            return "Degraded"
        if all(status == "Healthy" for status in statuses) and applied_wave[app.name] == max(child.wave for child in app.children):
            return "Healthy"
        return "Progressing"

    def gate_health(child: App) -> str:
        # What the parent sees of a child Application.
        if not health_check:
            return "Healthy" if child.name in started else "Missing"
        return app_health(child)

    for tick in range(1, ticks):
        rolling_out = False
        for app in apps:
            if app.is_app_of_apps or app.name not in started or app.name in health:
                continue
            rolling_out = True
            if started[app.name] + rollout_ticks <= tick:
                health[app.name] = "Degraded" if app.name in failing else "Healthy"
                if app.name not in failing:
                    healthy_at[app.name] = tick
        parents = [app for app in apps if app.is_app_of_apps and app.name in started]
        advanced = [_advance(app, tick, started, applied_wave, gate_health) for app in parents]
        for app in parents:
            if app.name not in healthy_at and app_health(app) == "Healthy":
                healthy_at[app.name] = tick
        if not rolling_out and not any(advanced):
            break
    for app in apps:
        health.setdefault(app.name, app_health(app))
        if app.is_app_of_apps:
            health[app.name] = app_health(app)
    return SyncRun(started, healthy_at, health)


def _advance(app: App, tick: int, started: dict[str, int], applied_wave: dict[str, int | None], gate_health: Callable[[App], str]) -> bool:
    """Apply the parent's next wave if every earlier wave is healthy; return whether anything changed."""
    waves = sorted({child.wave for child in app.children})
    current = applied_wave[app.name]
    if current is not None:
        earlier = [child for child in app.children if child.wave <= current]
        if any(gate_health(child) != "Healthy" for child in earlier):
            return False
        later = [wave for wave in waves if wave > current]
        if not later:
            return False
        next_wave = later[0]
    else:
        next_wave = waves[0]
    for child in app.children:
        if child.wave == next_wave:
            started.setdefault(child.name, tick)
    applied_wave[app.name] = next_wave
    return True
