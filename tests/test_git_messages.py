"""Commit messages of render: what changed in the continuum, in a subject under 72 characters."""

from __future__ import annotations

from mlsysops_gitops.repository.files import Changes
from mlsysops_gitops.topology import commit_message, summarize

NODES = "overlays/clusters/{cluster}/node-agents/descriptions/{host}.yaml"
AGENT = "overlays/clusters/{cluster}/cluster-agent/descriptions/{host}.yaml"
MARKER = "overlays/clusters/{cluster}/cluster-agent/kustomization.yaml"


def _subject_and_body(changes: Changes, old: bytes | None = None, new: bytes | None = None, inputs: tuple[str, ...] = ()) -> tuple[str, list[str]]:
    message = commit_message(summarize(changes, old, new), inputs)
    subject, _, body = message.partition("\n\n")
    return subject.rstrip("\n"), body.splitlines()


def test_moved_node_names_both_clusters() -> None:
    changes = Changes(created=(NODES.format(cluster="east", host="n1"),), deleted=(NODES.format(cluster="west", host="n1"),))

    subject, body = _subject_and_body(changes)

    assert subject == "Move node n1"
    assert "- cluster east: node n1 moved in from west" in body
    assert "- cluster west: node n1 moved out to east" in body


def test_many_clusters_fall_back_to_counts() -> None:
    clusters = [f"a-rather-long-cluster-name-{index:02d}" for index in range(5)]
    created = tuple(MARKER.format(cluster=cluster) for cluster in clusters) + tuple(AGENT.format(cluster=cluster, host=f"{cluster}-master") for cluster in clusters)

    subject, body = _subject_and_body(Changes(created=created))

    assert subject == "Add 5 clusters"
    assert len(body) >= 5
    assert all(len(line) <= 72 for line in body)


def test_settings_change_names_the_settings() -> None:
    subject, body = _subject_and_body(Changes(updated=("base/node-agent/node-agent.yaml",)), b"agents_tag: 0.1.0\n", b"agents_tag: 0.2.0\nkarmada_host_ip: 192.0.2.1\n")

    assert subject == "Set agents_tag and karmada_host_ip"
    assert "- mlsysops-gitops.yaml changed: agents_tag, karmada_host_ip" in body


def test_settings_comment_change_is_still_named() -> None:
    subject, body = _subject_and_body(Changes(), b"agents_tag: 0.1.0\n", b"# pinned\nagents_tag: 0.1.0\n", ("mlsysops-gitops.yaml",))

    assert subject == "Update settings"
    assert "- mlsysops-gitops.yaml changed: comments or layout only" in body


def test_input_only_change_says_outputs_unchanged() -> None:
    subject, body = _subject_and_body(Changes(), inputs=("descriptions/README.md",))

    assert subject == "Update descriptions; generated files unchanged"
    assert body == ["- descriptions/README.md changed"]


def test_regenerated_files_without_topology_change() -> None:
    subject, body = _subject_and_body(Changes(updated=("base/redis/redis.yaml", "base/node-agent/node-agent.yaml")))

    assert subject == "Regenerate 2 generated files"
    assert body == ["- generated files: 0 created, 2 updated, 0 deleted"]


def test_subject_stays_under_72_characters() -> None:
    hosts = [f"node-with-a-very-long-host-name-{index:03d}" for index in range(40)]
    changes = Changes(updated=tuple(NODES.format(cluster=f"c{index % 4}", host=host) for index, host in enumerate(hosts)))

    subject, _ = _subject_and_body(changes, b"a: 1\n", b"a: 2\n")

    assert subject == "Update 40 nodes, update settings"
    assert len(subject) < 72
