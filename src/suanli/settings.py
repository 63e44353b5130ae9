"""Settings: one validated pydantic-settings object, built at start-up and passed down.

Sources, highest priority first: ``SUANLI_*`` environment variables, then the TOML file named by
``SUANLI_CONFIG`` (if any), then defaults. Never read at import time: call :func:`load_settings`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from suanli.core.errors import ValidationError


class ClusterSite(BaseModel):
    """One engine cluster watched by this ledger (``SUANLI_CLUSTERS``, a JSON list of these).
    ``serial_prefix`` keeps the servers of clusters whose node names repeat apart (``b-`` makes
    node ``gn1`` server ``b-gn1``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64)
    slurm_conf: str
    cabinet: str | None = None
    serial_prefix: str = Field(default="", max_length=32)
    gres_skus: dict[str, str] = Field(default_factory=dict)


def default_shared() -> Path | None:
    """``../shared`` beside the working directory when it exists (the checkout layout)."""
    beside = Path.cwd().parent / "shared"
    return beside if beside.is_dir() else None


def default_database_url() -> str:
    data_dir = Path(user_data_dir("suanli", appauthor=False))
    return f"sqlite:///{data_dir / 'suanli.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SUANLI_", extra="forbid")

    database_url: str = Field(default_factory=default_database_url)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    currency: str = "CNY"
    debug: bool = False
    # cluster engine (issue 8): slurm.conf of the cluster, its name, where synced servers are
    # racked (SITE/CODE) and Slurm gres type -> catalog SKU overrides (e.g. {"h800": "HGX-H800-8"})
    slurm_conf: str = "/etc/slurm/slurm.conf"
    cluster_name: str = "default"
    cluster_cabinet: str | None = None
    gres_skus: dict[str, str] = Field(default_factory=dict)
    # several clusters in one ledger (issue 13): when set, these replace the single cluster above
    # and every `suanli cluster` command names one with --cluster (one watcher per cluster)
    clusters: list[ClusterSite] = Field(default_factory=list)

    def cluster_site(self, name: str | None) -> ClusterSite:
        """The cluster called ``name`` (None: the only or the first one of ``clusters``, else
        the single cluster of ``slurm_conf``/``cluster_name``); an unknown name is a coded error."""
        if not self.clusters:
            single = ClusterSite(
                name=self.cluster_name, slurm_conf=self.slurm_conf,
                cabinet=self.cluster_cabinet, gres_skus=self.gres_skus,
            )  # fmt: skip
            sites = [single]
        else:
            sites = list(self.clusters)
        if name is None:
            return sites[0]
        for site in sites:
            if site.name == name:
                return site
        raise ValidationError(
            "settings.unknown_cluster",
            f"no cluster {name!r} in SUANLI_CLUSTERS",
            {"cluster": "|".join(s.name for s in sites)},
        )

    # POST /economics/plan: the largest request served (in-sample and out-of-sample scenarios,
    # their scenario-month-SKU cells, which bound memory) and the solver time the plan's MILPs share
    plan_max_scenarios: int = Field(default=1_000, ge=1)
    plan_max_oos: int = Field(default=50_000, ge=1)
    plan_max_cells: int = Field(default=10_000_000, ge=1)
    plan_max_seconds: float = Field(default=60.0, gt=0)
    # shared data (traces, reference tables): SUANLI_SHARED, else ../shared beside the cwd
    shared: Path | None = Field(default_factory=default_shared)

    def shared_dir(self) -> Path:
        """The shared data directory, or a coded error naming the variable to set."""
        if self.shared is None:
            raise ValidationError(
                "settings.shared_missing",
                "no shared data directory: set SUANLI_SHARED (or run beside ../shared)",
                {"SUANLI_SHARED": "path"},
            )
        return self.shared

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config = os.environ.get("SUANLI_CONFIG")
        if config:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config)))
        return tuple(sources)


def load_settings(**overrides: Any) -> Settings:
    """Build the settings object; keyword overrides win over environment and file."""
    return Settings(**overrides)
