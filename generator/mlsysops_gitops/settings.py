"""Environment settings: defaults < ``mlsysops-gitops.yaml`` < environment < CLI options.

The installer's variables keep their names (``KARMADA_HOST_IP``, ``EJABBERD_DOMAIN``,
``MLS_OTEL_*``...); settings of this tool take the prefix ``MLSYSOPS_GITOPS_``. In the
settings file every setting is written by its field name in lower case.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pydantic
import yaml
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from mlsysops_gitops import layout
from mlsysops_gitops.descriptions.yamlfile import read_document
from mlsysops_gitops.errors import InputError, Problem

# NOTE: the MLSysOps project publishes no versioned agent images that this tool could
# verify, so this default tag is an assumption; set MLSYSOPS_GITOPS_AGENTS_TAG to yours.
DEFAULT_AGENTS_TAG = "0.1.0"


def _installer(name: str) -> Any:
    """Declare a setting read from the installer's variable ``name``."""
    return Field(default=None, validation_alias=AliasChoices(name.lower(), name))


Port = pydantic.conint(ge=1, le=65535)


class Settings(BaseSettings):
    """Every setting that changes what render writes."""

    model_config = SettingsConfigDict(
        env_prefix="MLSYSOPS_GITOPS_",
        case_sensitive=False,
        extra="forbid",
        populate_by_name=True,
        frozen=True,
    )

    # The installer's table.
    karmada_host_ip: pydantic.IPvAnyAddress = Field(validation_alias=AliasChoices("karmada_host_ip", "KARMADA_HOST_IP"))
    ejabberd_domain: str | None = _installer("EJABBERD_DOMAIN")
    mls_otel_higher_export: str | None = _installer("MLS_OTEL_HIGHER_EXPORT")
    mls_otel_cluster_port: Port | None = _installer("MLS_OTEL_CLUSTER_PORT")  # type: ignore[valid-type]
    mls_otel_continuum_port: Port | None = _installer("MLS_OTEL_CONTINUUM_PORT")  # type: ignore[valid-type]
    mls_otel_prometheus_listen_ip: pydantic.IPvAnyAddress | None = _installer("MLS_OTEL_PROMETHEUS_LISTEN_IP")
    mls_otel_prometheus_listen_port: Port | None = _installer("MLS_OTEL_PROMETHEUS_LISTEN_PORT")  # type: ignore[valid-type]
    mls_otel_continuum_export_ip: pydantic.IPvAnyAddress | None = _installer("MLS_OTEL_CONTINUUM_EXPORT_IP")
    mls_otel_continuum_export_port: Port | None = _installer("MLS_OTEL_CONTINUUM_EXPORT_PORT")  # type: ignore[valid-type]
    mls_otel_mimir_export_endpoint: pydantic.AnyUrl | None = _installer("MLS_OTEL_MIMIR_EXPORT_ENDPOINT")
    mls_otel_loki_export_endpoint: pydantic.AnyUrl | None = _installer("MLS_OTEL_LOKI_EXPORT_ENDPOINT")
    mls_otel_tempo_export_endpoint: pydantic.AnyUrl | None = _installer("MLS_OTEL_TEMPO_EXPORT_ENDPOINT")
    mls_otel_node_exporter_flags: str | None = _installer("MLS_OTEL_NODE_EXPORTER_FLAGS")
    local_otel_endpoint: pydantic.AnyUrl | None = _installer("LOCAL_OTEL_ENDPOINT")
    mls_mlconnector_endpoint: pydantic.AnyUrl | None = _installer("MLS_MLCONNECTOR_ENDPOINT")

    # Argo CD.
    repo_url: str | None = None
    target_revision: str | None = None
    argocd_namespace: str = layout.ARGOCD_NAMESPACE
    project: str = "mlsysops"
    management_destination: str = layout.IN_CLUSTER
    karmada_destination: str = "karmada-apiserver"

    # Images, pinned.
    image_registry: str = "harbor.nbfc.io/mlsysops"
    agents_tag: str = DEFAULT_AGENTS_TAG
    northbound_api_image: str | None = None
    ejabberd_image: str = "ghcr.io/processone/ejabberd:24.12"
    redis_image: str = "redis/redis-stack:7.4.0-v3"

    secrets_mode: Literal["external"] = "external"

    @pydantic.field_validator("agents_tag", "ejabberd_image", "redis_image", "northbound_api_image")
    @classmethod
    def _pinned(cls, value: str | None) -> str | None:
        if value is not None and (value == "latest" or value.endswith(":latest")):
            raise ValueError("'latest' is not a pinned version; give an explicit tag")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings)

    def image(self, component: str) -> str:
        """Return the pinned image of an MLSysOps component such as ``node-agent``."""
        if component == "northbound-api" and self.northbound_api_image:
            return self.northbound_api_image
        return f"{self.image_registry}/{component}:{self.agents_tag}"

    @property
    def xmpp_domain(self) -> str:
        return self.ejabberd_domain or str(self.karmada_host_ip)


def read_settings_file(repo: Path) -> tuple[dict[str, Any], dict[str, tuple[int, int]], list[Problem]]:
    """Read ``mlsysops-gitops.yaml``; return its values, their positions and any problems."""
    path = repo / layout.SETTINGS_FILE
    if not path.is_file():
        return {}, {}, []
    document, problems = read_document(layout.SETTINGS_FILE, path.read_bytes())
    if document is None:
        return {}, {}, problems
    if not isinstance(document.data, dict):
        return {}, {}, [Problem(layout.SETTINGS_FILE, 1, 1, message="expected a mapping of setting names to values")]
    marks = {str(key[0]): value for key, value in document.marks.items() if len(key) == 1}
    return document.data, marks, []


def load_settings(repo: Path, overrides: dict[str, Any] | None = None) -> Settings:
    """Merge the settings file, the environment and ``overrides`` (CLI options).

    Raises:
        InputError: naming every missing or invalid setting.
    """
    file_values, marks, problems = read_settings_file(repo)
    if problems:
        raise InputError(problems)

    class _FileSettings(Settings):
        @classmethod
        def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):  # type: ignore[no-untyped-def]
            return (init_settings, env_settings, _DictSource(settings_cls, file_values))

    given = {key: value for key, value in (overrides or {}).items() if value is not None}
    try:
        merged = _FileSettings(**given)
    except pydantic.ValidationError as error:
        raise InputError(_setting_problems(error, marks)) from error
    return Settings.model_construct(**merged.model_dump())


class _DictSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], values: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self.values = values

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover (unused)
        return self.values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.values)


def _setting_problems(error: pydantic.ValidationError, marks: dict[str, tuple[int, int]]) -> list[Problem]:
    problems = []
    for detail in error.errors(include_url=False):
        name = str(detail["loc"][0]) if detail["loc"] else ""
        env = _env_name(name)
        if detail["type"] == "missing":
            message = f"required setting is missing; set {env} or {name} in {layout.SETTINGS_FILE}"
        elif detail["type"] == "extra_forbidden":
            message = f"unknown setting {name!r}"
        else:
            message = f"{detail['msg']}, got {detail.get('input')!r}"
        line, column = marks.get(name, (0, 0))
        path = layout.SETTINGS_FILE if name in marks else f"setting {env}"
        problems.append(Problem(path, line, column, "Settings", name, message))
    return problems


def _env_name(field_name: str) -> str:
    field = Settings.model_fields.get(field_name)
    if field is not None and isinstance(field.validation_alias, AliasChoices):
        return str(field.validation_alias.choices[-1])
    return f"MLSYSOPS_GITOPS_{field_name.upper()}"


def dump_settings_file(values: dict[str, Any]) -> str:
    return yaml.safe_dump(values, sort_keys=True, default_flow_style=False)
