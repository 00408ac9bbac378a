"""Settings: defaults < ``mlsysops-gitops.yaml`` < environment < command-line options.

The installer's variables keep their names (``KARMADA_HOST_IP``, ``EJABBERD_DOMAIN``,
``MLS_OTEL_*``...); the other settings are read from ``MLSYSOPS_GITOPS_<NAME>``; variable names are
matched in any letter case. In the settings file every setting is written by its field
name in lower case, exactly: any other key is an unknown setting.

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
from ipaddress import IPv4Address, IPv6Address
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
_DIGITS = re.compile(r"[0-9]+")
# Image references as the OCI distribution spec and Docker's reference grammar write them.
_REGISTRY_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_REGISTRY = re.compile(rf"{_REGISTRY_HOST}(?:/{_PATH_COMPONENT})*")
_IMAGE = re.compile(rf"(?:{_REGISTRY_HOST}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*(?::(?P<tag>{_IMAGE_TAG.pattern}))?(?:@(?P<digest>sha256:[0-9a-f]{{64}}))?")
_GIT_SCHEMES = ("https", "http", "ssh", "git", "file")
_SCP_LIKE = re.compile(r"(?:[A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+:(?!//)\S+")
_GIT_URL_EXAMPLES = "https://git.example.com/ops/continuum.git or git@git.example.com:ops/continuum.git"
_CREDENTIALS = (
    "the URL carries credentials before '@' (a user name and password, or a token), which would be stored in .git/config "
    "and in every Argo CD Application; give the URL without them: Git takes credentials from a credential helper or an SSH key, "
    "and Argo CD from a repository Secret"
)
# Words in setting names that a careless user may try for a credential. Such a name gets
# a message that explains where the credential goes, not only "unknown setting".
_CREDENTIAL_WORDS = ("password", "passwd", "secret", "token", "kubeconfig", "credential", "private_key", "api_key")


def _text(value: object) -> object:
    """Accept only text, because PyYAML reads 12345 as an integer and ipaddress takes that as 0.0.48.57."""
    if not isinstance(value, str):
        raise ValueError("expected an IP address written as text, such as 192.0.2.10")
    return value


def _reachable(value: IPv4Address | IPv6Address) -> IPv4Address | IPv6Address:
    if value.is_loopback or value.is_unspecified:
        raise ValueError("a loopback or unspecified address is not reachable from member clusters; give the address of the management host that they reach")
    return value


def _port_number(value: object) -> object:
    """Accept an integer or its decimal digits; pydantic would turn true into 1 and 4317.0 into 4317."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or (isinstance(value, str) and not _DIGITS.fullmatch(value)):
        raise ValueError("expected a port number, an integer from 1 to 65535")
    return int(value)


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


def _pinned_tag(value: str) -> str:
    if value == "latest":
        raise ValueError("'latest' is not a pinned version; give an explicit tag")
    if not _IMAGE_TAG.fullmatch(value):
        raise ValueError("expected an image tag: letters, digits, '_', '.' and '-', at most 128 characters, such as 0.1.0")
    return value


def _pinned_image(value: str) -> str:
    """Accept ``name:tag`` or ``name@sha256:<digest>``; a name alone means latest too."""
    match = _IMAGE.fullmatch(value)
    if match is None:
        raise ValueError("expected an image reference such as registry.example.com/redis:7.4.0, without scheme or spaces")
    if match["tag"] == "latest" and not match["digest"]:
        raise ValueError("'latest' is not a pinned version; give an explicit tag")
    if not match["tag"] and not match["digest"]:
        raise ValueError("the image has no tag, so it means latest; give an explicit tag or digest, such as redis:7.4.0 or redis@sha256:<64 hex digits>")
    return value


def _registry(value: str) -> str:
    if "://" in value:
        raise ValueError("an image registry has no scheme; give the host and path only, such as harbor.example.com/mlsysops")
    if not _REGISTRY.fullmatch(value):
        raise ValueError("expected a registry host and optional path, such as harbor.example.com/mlsysops")
    return value


def git_url_problem(url: str) -> str | None:
    """Return what is wrong with ``url`` as the URL Argo CD pulls from, or None.

    Accepted forms: ``https://``, ``http://``, ``ssh://``, ``git://`` and ``file://``
    URLs, and scp-like ``user@host:path``. A URL that carries credentials is rejected,
    because it would be stored in ``.git/config`` and in every Argo CD Application.
    """
    if not url or any(character.isspace() or not character.isprintable() for character in url):
        return f"expected a Git URL without spaces, such as {_GIT_URL_EXAMPLES}"
    if "://" not in url:
        return _scp_like_problem(url)
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in _GIT_SCHEMES:
        return f"expected a Git URL with scheme {', '.join(_GIT_SCHEMES)}, such as {_GIT_URL_EXAMPLES}"
    # A user name alone over HTTP is how GitHub and GitLab take a token, so it counts too.
    if parts.password is not None or (parts.username and parts.scheme in ("http", "https")):
        return _CREDENTIALS
    if parts.scheme != "file" and not parts.hostname:
        return f"the URL has no host; expected a Git URL such as {_GIT_URL_EXAMPLES}"
    try:
        parts.port
    except ValueError:
        return f"the URL has an invalid port; expected a Git URL such as {_GIT_URL_EXAMPLES}"
    if not parts.path.strip("/"):
        return f"the URL has no repository path; expected a Git URL such as {_GIT_URL_EXAMPLES}"
    return None


def _scp_like_problem(url: str) -> str | None:
    user, _, rest = url.rpartition("@")
    if ":" in user:
        return _CREDENTIALS
    if not _SCP_LIKE.fullmatch(url) or not rest.partition(":")[2].strip("/"):
        return f"expected a Git URL such as {_GIT_URL_EXAMPLES}"
    return None


def _git_url(value: str) -> str:
    problem = git_url_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


Host = Annotated[str, AfterValidator(_host)]
IpAddress = Annotated[pydantic.IPvAnyAddress, BeforeValidator(_text)]
Port = Annotated[int, BeforeValidator(_port_number), Field(ge=1, le=65535)]
Url = Annotated[str, AfterValidator(_url)]
Image = Annotated[str, AfterValidator(_pinned_image)]
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

    # load_settings passes field names only; case_sensitive keeps pydantic-settings from matching other spellings.
    model_config = SettingsConfigDict(extra="forbid", frozen=True, validate_default=True, case_sensitive=True)

    # The installer's table.
    karmada_host_ip: Annotated[IpAddress, AfterValidator(_reachable)] = Field(description="IP address of the management host: Redis, ejabberd and the ML connector listen there")
    ejabberd_domain: Host | None = Field(None, description="XMPP domain of the agents; default: karmada_host_ip")
    mls_otel_higher_export: Annotated[Literal["ON", "OFF"], BeforeValidator(_on_off)] | None = None
    mls_otel_cluster_port: Port | None = None
    mls_otel_continuum_port: Port | None = None
    mls_otel_prometheus_listen_ip: IpAddress | None = None
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
    repo_url: Annotated[str, AfterValidator(_git_url)] | None = None
    target_revision: str | None = None
    argocd_namespace: ResourceName = layout.ARGOCD_NAMESPACE
    project: ResourceName = "mlsysops"
    management_destination: str = layout.IN_CLUSTER
    karmada_destination: str = "karmada-apiserver"

    # Images, pinned.
    image_registry: Annotated[str, AfterValidator(_registry)] = "harbor.nbfc.io/mlsysops"
    agents_tag: Annotated[str, AfterValidator(_pinned_tag)] = DEFAULT_AGENTS_TAG
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
    # Keys or variables that name no setting; their values are left out of ``values``.
    problems: list[Problem] = dataclasses.field(default_factory=list)


def file_layer(repo: Path) -> Layer:
    """Read ``mlsysops-gitops.yaml`` if present; an empty or comment-only file sets nothing.

    Raises:
        InputError: when the path is not a file or the file is not a YAML mapping.
    """
    path = repo / layout.SETTINGS_FILE
    if not path.exists() and not path.is_symlink():
        return Layer({}, {})
    if not path.is_file():
        raise InputError([Problem(layout.SETTINGS_FILE, message="is not a regular file; rename or remove it, because the settings file must be a YAML file or absent")])
    document, problems = read_document(layout.SETTINGS_FILE, path.read_bytes(), optional=True)
    if document is None:
        raise InputError(problems)
    if document.data is None:
        return Layer({}, {})
    if not isinstance(document.data, dict):
        raise InputError([Problem(layout.SETTINGS_FILE, 1, 1, message="expected a mapping of setting names to values, such as 'karmada_host_ip: 192.0.2.10'")])
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    positions: dict[str, tuple[int, int]] = {}
    unknown: list[Problem] = []
    for key, value in document.data.items():
        # Top-level keys of a block mapping start their line.
        line = document.locate((key,))[0]
        if key in Settings.model_fields:
            values[key], origins[key], positions[key] = value, f"{layout.SETTINGS_FILE}:{line}", (line, 1)
        else:
            unknown.append(Problem(layout.SETTINGS_FILE, line, 1, "Settings", str(key), _unknown(str(key))))
    return Layer(values, origins, positions, unknown)


def environment_layer(environ: Mapping[str, str]) -> Layer:
    """Take each setting's variable from ``environ``, whatever the letter case of its name.

    An empty variable counts as unset, so the setting keeps its file or default value. A
    variable with this tool's prefix that names no setting is a problem, so that a typo is
    reported instead of ignored.
    """
    fields = {env_name(field): field for field in Settings.model_fields}
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    problems: list[Problem] = []
    # Sorted, so that the same environment gives the same result and message.
    for name in sorted(environ):
        variable = name.upper()
        field = fields.get(variable)
        if field is None:
            if variable.startswith(ENV_PREFIX):
                problems.append(Problem(f"environment {name}", kind="Settings", field=variable.removeprefix(ENV_PREFIX).lower(), message=_unknown_variable(variable)))
            continue
        if not environ[name]:
            continue
        if field in values and values[field] != environ[name]:
            message = f"{origins[field]} sets the same setting to another value; unset one of them"
            problems.append(Problem(f"environment {name}", kind="Settings", field=field, message=message))
        values[field], origins[field] = environ[name], f"environment {name}"
    return Layer(values, origins, problems=problems)


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
    problems = [problem for layer in layers for problem in layer.problems]
    for layer in layers:
        merged.update(layer.values)
        origins.update(layer.origins)
        positions.update(layer.positions)
        for field in layer.values:
            if field not in layer.positions:
                positions.pop(field, None)
    # Every file there is checked whatever the mode, because render commits descriptions/.
    sealed, sealed_problems = read_sealed_secrets(repo)
    problems += sealed_problems
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


_CREDENTIAL_HINT = (
    "credentials are never settings, because render commits the settings file and what it renders to Git. "
    "Remove it and create the Kubernetes Secret instead (run 'mlsysops-gitops secrets' for the commands)"
)


def _unknown(key: str) -> str:
    """Explain an unknown key of the settings file, suggesting the setting it is closest to."""
    lowered = key.lower()
    if any(word in lowered for word in _CREDENTIAL_WORDS):
        return f"unknown setting; {_CREDENTIAL_HINT}"
    if lowered in Settings.model_fields:
        return f"unknown setting; did you mean {lowered!r}? The settings file takes each name in lower case"
    close = difflib.get_close_matches(lowered, list(Settings.model_fields), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else "; run 'mlsysops-gitops settings' for the list"
    return f"unknown setting{hint}"


def _unknown_variable(variable: str) -> str:
    """Explain an unknown ``MLSYSOPS_GITOPS_*`` variable, suggesting the variable it is closest to."""
    rest = variable.removeprefix(ENV_PREFIX)
    if any(word.upper() in rest for word in _CREDENTIAL_WORDS):
        return f"unknown variable; {_CREDENTIAL_HINT}"
    if rest.lower() in INSTALLER_VARIABLES:
        return f"unknown variable; did you mean {rest}? The installer's variables have no {ENV_PREFIX} prefix"
    names = [env_name(field) for field in Settings.model_fields]
    close = difflib.get_close_matches(variable, names, n=1)
    hint = f"; did you mean {close[0]}?" if close else "; run 'mlsysops-gitops settings' for the list"
    return f"unknown variable{hint}"


def _invalid(detail: Any) -> str:
    message = str(detail["msg"]).removeprefix("Value error, ")
    if detail["type"] == "literal_error":
        message = f"expected {detail['ctx']['expected']}"
    return f"{message[0].lower()}{message[1:]}, got {redacted(detail.get('input'))!r}"


def redacted(value: object) -> object:
    """Hide the credentials of a URL before the value is printed.

    A password is hidden, and so is a user name over HTTP, where it may be a token.
    """
    if not isinstance(value, str) or "@" not in value:
        return value
    if "://" not in value:
        user, at, rest = value.rpartition("@")
        return f"***@{rest}" if ":" in user else value
    parts = urllib.parse.urlsplit(value)
    if parts.password is None and not (parts.username and parts.scheme in ("http", "https")):
        return value
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"***@{host}"))

