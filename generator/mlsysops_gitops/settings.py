"""Settings: defaults < ``mlsysops-gitops.yaml`` < environment < command-line options.

The installer's variables keep their names (``KARMADA_HOST_IP``, ``EJABBERD_DOMAIN``,
``MLS_OTEL_*``...); the other settings are read from ``MLSYSOPS_GITOPS_<NAME>``. In the
settings file every setting is written by its field name in lower case.

``load_settings`` reads each layer itself and hands the merged values to the model, so
that it records where each value came from: ``mlsysops-gitops settings`` prints that, and
every validation problem names the file line, variable or option that gave the value.
No setting contains a credential: passwords and kubeconfigs live in Kubernetes Secrets.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import os
import re
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
from pydantic import AfterValidator, BeforeValidator, Field, PrivateAttr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from mlsysops_gitops import layout
from mlsysops_gitops.descriptions.secrets import SealedSecretFile, read_sealed_secrets
from mlsysops_gitops.descriptions.yamlfile import read_document
from mlsysops_gitops.errors import InputError, Problem

# NOTE: the MLSysOps project publishes no versioned agent images that this tool could
# verify, so this default tag is an assumption; set MLSYSOPS_GITOPS_AGENTS_TAG to yours.
DEFAULT_AGENTS_TAG = "0.1.0"
ENV_PREFIX = "MLSYSOPS_GITOPS_"
DEFAULT = "default"

_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_COLLECTOR = re.compile(r"[a-z][a-z0-9_.]*")
# Words in setting names that a careless user may try for a credential. Such a name gets
# a message that explains where the credential goes, not only "unknown setting".
_CREDENTIAL_WORDS = ("password", "passwd", "secret", "token", "kubeconfig", "credential", "private_key", "api_key")


def _host(value: str) -> str:
    """Accept an IP address or a DNS name, without scheme or port."""
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    labels = value.rstrip(".").split(".")
    if len(value) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise ValueError("expected an IP address or a DNS name such as mlsysops.example.com, without scheme or port")
    return value


def _url(value: str) -> str:
    """Accept an absolute URL with scheme and host, as given (no trailing slash added)."""
    parts = urllib.parse.urlsplit(value)
    if not parts.scheme or not parts.hostname:
        raise ValueError("expected a URL with scheme and host, such as http://mimir.example.com:9009/api/v1/push")
    if parts.password is not None:
        raise ValueError("the URL carries a password, and settings are committed to Git; remove the credentials from the URL")
    try:
        parts.port
    except ValueError as error:
        raise ValueError(f"invalid port in URL: {error}") from None
    return value


def _on_off(value: object) -> object:
    """Accept true/false and any letter case; the agents compare with "ON" exactly."""
    if isinstance(value, bool):
        return "ON" if value else "OFF"
    return value.upper() if isinstance(value, str) else value


def _collectors(value: str) -> str:
    names = [name.strip() for name in value.split(",")]
    if not all(_COLLECTOR.fullmatch(name) for name in names):
        raise ValueError("expected comma-separated node exporter collector names such as cpu,os,netdev")
    return ",".join(names)


def _no_latest(value: str) -> str:
    if value == "latest" or value.endswith(":latest"):
        raise ValueError("'latest' is not a pinned version; give an explicit tag")
    return value


def _plain_repo_url(value: str) -> str:
    if urllib.parse.urlsplit(value).password is not None:
        raise ValueError("the URL carries a password, and it would land in every Argo CD Application; give Argo CD its repository credentials as a repository Secret instead")
    return value


Host = Annotated[str, AfterValidator(_host)]
Port = Annotated[int, Field(ge=1, le=65535)]
Url = Annotated[str, AfterValidator(_url)]
Image = Annotated[str, AfterValidator(_no_latest)]
ResourceName = Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", max_length=253)]

# Settings read from the upstream installer's environment variables, under their names.
INSTALLER_VARIABLES = (
    "karmada_host_ip",
    "ejabberd_domain",
    "mls_otel_higher_export",
    "mls_otel_cluster_port",
    "mls_otel_continuum_port",
    "mls_otel_prometheus_listen_ip",
    "mls_otel_prometheus_listen_port",
    "mls_otel_continuum_export_ip",
    "mls_otel_continuum_export_port",
    "mls_otel_mimir_export_endpoint",
    "mls_otel_loki_export_endpoint",
    "mls_otel_tempo_export_endpoint",
    "mls_otel_node_exporter_flags",
    "local_otel_endpoint",
    "mls_mlconnector_endpoint",
)


class Settings(BaseSettings):
    """Every setting that changes what render writes; none of them is a credential."""

    model_config = SettingsConfigDict(extra="forbid", frozen=True, validate_default=True)

    # The installer's table.
    karmada_host_ip: pydantic.IPvAnyAddress = Field(description="IP address of the management host: Redis, ejabberd and the ML connector listen there")
    ejabberd_domain: Host | None = Field(None, description="XMPP domain of the agents; default: karmada_host_ip")
    mls_otel_higher_export: Annotated[Literal["ON", "OFF"], BeforeValidator(_on_off)] | None = None
    mls_otel_cluster_port: Port | None = None
    mls_otel_continuum_port: Port | None = None
    mls_otel_prometheus_listen_ip: pydantic.IPvAnyAddress | None = None
    mls_otel_prometheus_listen_port: Port | None = None
    mls_otel_continuum_export_ip: Host | None = None
    mls_otel_continuum_export_port: Port | None = None
    mls_otel_mimir_export_endpoint: Url | None = None
    mls_otel_loki_export_endpoint: Url | None = None
    mls_otel_tempo_export_endpoint: Url | None = None
    mls_otel_node_exporter_flags: Annotated[str, AfterValidator(_collectors)] | None = None
    local_otel_endpoint: Url | None = None
    mls_mlconnector_endpoint: Url | None = Field(None, description="an ML connector running elsewhere; unset: render deploys one")

    # Argo CD.
    repo_url: Annotated[str, AfterValidator(_plain_repo_url)] | None = None
    target_revision: str | None = None
    argocd_namespace: ResourceName = layout.ARGOCD_NAMESPACE
    project: ResourceName = "mlsysops"
    management_destination: str = layout.IN_CLUSTER
    karmada_destination: str = "karmada-apiserver"

    # Images, pinned.
    image_registry: str = "harbor.nbfc.io/mlsysops"
    agents_tag: Image = DEFAULT_AGENTS_TAG
    northbound_api_image: Image | None = None
    mlconnector_image: Image | None = None
    ejabberd_image: Image = "ghcr.io/processone/ejabberd:24.12"
    redis_image: Image = "redis/redis-stack:7.4.0-v3"
    postgres_image: Image = "postgres:16.6-bookworm"

    # The ML connector: deployed next to the services, or one running elsewhere.
    mlconnector: Literal["deploy", "external"] | None = Field(None, description="default: external when MLS_MLCONNECTOR_ENDPOINT is set, else deploy")

    # How the Secrets that workloads reference come to exist; see render/secrets.py.
    secrets_mode: Literal["external", "external-secrets", "sealed-secrets"] = "external"
    external_secrets_store: ResourceName | None = None
    external_secrets_store_kind: Literal["SecretStore", "ClusterSecretStore"] = "ClusterSecretStore"
    external_secrets_api_version: Literal["external-secrets.io/v1", "external-secrets.io/v1beta1"] = "external-secrets.io/v1"
    external_secrets_key_prefix: str = "mlsysops/"
    external_secrets_refresh_interval: Annotated[str, Field(pattern=r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$")] = "1h"
    # The checked files of descriptions/secrets/, which load_settings reads with the settings.
    _sealed_secrets: tuple[SealedSecretFile, ...] = PrivateAttr(default=())

    @pydantic.model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.mlconnector == "external" and self.mls_mlconnector_endpoint is None:
            raise ValueError("mlconnector is 'external' but MLS_MLCONNECTOR_ENDPOINT is not set; set it to the ML connector's URL")
        if self.mlconnector == "deploy" and self.mls_mlconnector_endpoint is not None:
            raise ValueError("mlconnector is 'deploy', so the agents use the deployed ML connector; unset MLS_MLCONNECTOR_ENDPOINT or set mlconnector to 'external'")
        if self.secrets_mode == "external-secrets" and self.external_secrets_store is None:
            raise ValueError(f"secrets_mode 'external-secrets' needs the name of the {self.external_secrets_store_kind} to read from; set external_secrets_store")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings merges the layers; reading them again here would lose their origin.
        return (init_settings,)

    def image(self, component: str) -> str:
        """Return the pinned image of an MLSysOps component such as ``node-agent``."""
        if component == "northbound-api" and self.northbound_api_image:
            return self.northbound_api_image
        if component == "mlconnector" and self.mlconnector_image:
            return self.mlconnector_image
        return f"{self.image_registry}/{component}:{self.agents_tag}"

    @property
    def sealed_secrets(self) -> tuple[SealedSecretFile, ...]:
        return self._sealed_secrets

    @property
    def xmpp_domain(self) -> str:
        return self.ejabberd_domain or str(self.karmada_host_ip)

    @property
    def deploys_mlconnector(self) -> bool:
        return self.mls_mlconnector_endpoint is None and self.mlconnector != "external"


def env_name(field: str) -> str:
    """Return the environment variable that sets ``field``."""
    return field.upper() if field in INSTALLER_VARIABLES else ENV_PREFIX + field.upper()


def option_name(field: str) -> str:
    return "--" + field.replace("_", "-")


@dataclasses.dataclass(frozen=True)
class Layer:
    """Values of one source, by field name, and where each one was written."""

    values: dict[str, Any]
    origins: dict[str, str]
    # Position of each key in the settings file, for problems; empty for other layers.
    positions: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)


def file_layer(repo: Path) -> Layer:
    """Read ``mlsysops-gitops.yaml`` if present.

    Raises:
        InputError: when the file is not a YAML mapping.
    """
    path = repo / layout.SETTINGS_FILE
    if not path.is_file():
        return Layer({}, {})
    document, problems = read_document(layout.SETTINGS_FILE, path.read_bytes())
    if document is None:
        raise InputError(problems)
    if not isinstance(document.data, dict):
        raise InputError([Problem(layout.SETTINGS_FILE, 1, 1, message="expected a mapping of setting names to values, such as 'karmada_host_ip: 192.0.2.10'")])
    values = {str(key): value for key, value in document.data.items()}
    # Top-level keys of a block mapping start their line.
    positions = {key: (document.locate((key,))[0], 1) for key in values}
    origins = {key: f"{layout.SETTINGS_FILE}:{positions.get(key, (0, 0))[0]}" for key in values}
    return Layer(values, origins, positions)


def environment_layer(environ: Mapping[str, str]) -> Layer:
    """Take each setting's variable from ``environ``; variable names are case-sensitive.

    An empty variable counts as unset, so the setting keeps its file or default value. A
    variable with this tool's prefix that names no setting is kept, so that validation
    reports it as unknown instead of ignoring a typo.
    """
    values, origins = {}, {}
    for field in Settings.model_fields:
        name = env_name(field)
        if environ.get(name):
            values[field] = environ[name]
            origins[field] = f"environment {name}"
    for name in sorted(environ):
        field = name.removeprefix(ENV_PREFIX).lower()
        if name.startswith(ENV_PREFIX) and field not in Settings.model_fields:
            values[field] = environ[name]
            origins[field] = f"environment {name}"
    return Layer(values, origins)


def option_layer(options: Mapping[str, Any]) -> Layer:
    values = {field: value for field, value in options.items() if value is not None}
    return Layer(values, {field: f"option {option_name(field)}" for field in values})


@dataclasses.dataclass(frozen=True)
class LoadedSettings:
    """Validated settings and the origin of each field's value."""

    settings: Settings
    origins: dict[str, str]


def load_settings(repo: Path, overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Merge defaults, the settings file, the environment and ``overrides`` (CLI options).

    Raises:
        InputError: naming every missing or invalid setting and where it was written.
    """
    return load_with_origins(repo, overrides, environ).settings


def load_with_origins(repo: Path, overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> LoadedSettings:
    """Like ``load_settings``, and also return where each value came from."""
    layers = [file_layer(repo), environment_layer(os.environ if environ is None else environ), option_layer(overrides or {})]
    merged: dict[str, Any] = {}
    origins: dict[str, str] = {}
    positions: dict[str, tuple[int, int]] = {}
    for layer in layers:
        merged.update(layer.values)
        origins.update(layer.origins)
        positions.update(layer.positions)
        for field in layer.values:
            if field not in layer.positions:
                positions.pop(field, None)
    # Every file there is checked whatever the mode, because render commits descriptions/.
    sealed, problems = read_sealed_secrets(repo)
    try:
        settings = Settings(**merged)
    except pydantic.ValidationError as error:
        problems += [_problem(detail, origins, positions) for detail in error.errors(include_url=False)]
    if problems:
        raise InputError(problems)
    settings._sealed_secrets = sealed
    origins = {field: origins.get(field, DEFAULT) for field in Settings.model_fields}
    return LoadedSettings(settings, origins)


def _problem(detail: Any, origins: dict[str, str], positions: dict[str, tuple[int, int]]) -> Problem:
    field = str(detail["loc"][0]) if detail["loc"] else ""
    line, column = positions.get(field, (0, 0))
    if detail["type"] == "missing":
        message = f"required setting is missing; set {env_name(field)}, {option_name(field)} or {field} in {layout.SETTINGS_FILE}"
        return Problem(layout.SETTINGS_FILE, kind="Settings", field=field, message=message)
    if detail["type"] == "extra_forbidden":
        origin = origins.get(field, layout.SETTINGS_FILE)
        path = layout.SETTINGS_FILE if origin.startswith(layout.SETTINGS_FILE) else origin
        return Problem(path, line, column, "Settings", field, _unknown(field))
    if not field:
        # A rule across settings (model_validator): no single value to point at.
        return Problem("settings", message=detail["msg"].removeprefix("Value error, "))
    origin = origins.get(field, DEFAULT)
    path = layout.SETTINGS_FILE if origin.startswith(layout.SETTINGS_FILE) else origin
    return Problem(path, line, column, "Settings", field, _invalid(detail))


def _unknown(field: str) -> str:
    lowered = field.lower()
    if any(word in lowered for word in _CREDENTIAL_WORDS):
        return (
            "unknown setting; credentials are never settings, because render commits the settings file and what it renders to Git. "
            "Remove it and create the Kubernetes Secret instead (run 'mlsysops-gitops secrets' for the commands)"
        )
    close = difflib.get_close_matches(lowered, list(Settings.model_fields), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else "; run 'mlsysops-gitops settings' for the list"
    return f"unknown setting{hint}"


def _invalid(detail: Any) -> str:
    message = str(detail["msg"]).removeprefix("Value error, ")
    if detail["type"] == "literal_error":
        message = f"expected {detail['ctx']['expected']}"
    return f"{message[0].lower()}{message[1:]}, got {redacted(detail.get('input'))!r}"


def redacted(value: object) -> object:
    """Hide the password of a URL before the value is printed."""
    if isinstance(value, str) and "@" in value:
        parts = urllib.parse.urlsplit(value)
        if parts.password is not None:
            return value.replace(f":{parts.password}@", ":***@", 1)
    return value

