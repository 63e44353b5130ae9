"""Cluster-engine tables: which engine node is which fleet server, and cloud jobs.

- ``cluster_nodes``: one row per engine node known to the ledger (``cluster``, ``node``) →
  ``servers.id`` (unique both ways). Written only by :mod:`suanli.services.cluster.inventory`.
- ``cluster_polls``: when the failure watcher last polled each cluster (issue 16). Written only
  by :mod:`suanli.services.cluster.inventory`.
- ``cloud_jobs``: jobs submitted through ``suanli job submit``; their admission state, the
  placement our scheduler decided and what the engine last reported. Written only by
  :mod:`suanli.services.cluster.cloud_jobs`.
- ``cloud_job_nodes``: the nodes of a job's latest placement, one row per node in placement
  order (``position``). Written with its job, by the same module.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from suanli.store.base import Base, UTCDateTime


class ClusterNodeRow(Base):
    __tablename__ = "cluster_nodes"
    __table_args__ = (UniqueConstraint("cluster", "node"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cluster: Mapped[str] = mapped_column(String(64))
    node: Mapped[str] = mapped_column(String(128))
    server_id: Mapped[int] = mapped_column(ForeignKey("servers.id"), unique=True)
    gres_type: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ClusterWatermarkRow(Base):
    """Incremental polling (issue 13): per cluster, the end time of the latest finished run that
    metering has read; the next ``usage`` read starts a margin before it. Written by
    ``services.cluster.cloud_jobs.CloudJobService.meter``."""

    __tablename__ = "cluster_watermarks"

    cluster: Mapped[str] = mapped_column(String(64), primary_key=True)
    usage_until: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ClusterPollRow(Base):
    """Issue 16: per cluster, when the failure watcher (:meth:`ClusterService.watch`) last
    finished a poll of the engine, so the dashboard can tell a watcher that stopped. Written
    only by ``services.cluster.inventory``."""

    __tablename__ = "cluster_polls"

    cluster: Mapped[str] = mapped_column(String(64), primary_key=True)
    polled_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CloudJobRow(Base):
    __tablename__ = "cloud_jobs"
    __table_args__ = (
        CheckConstraint("gpus >= 1", name="gpus_positive"),
        CheckConstraint("job_class IN ('reserved', 'spot')", name="job_class_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    cluster: Mapped[str] = mapped_column(String(64))
    job_class: Mapped[str] = mapped_column(String(16))
    gpus: Mapped[int] = mapped_column(Integer)
    command: Mapped[str] = mapped_column(Text)
    sku: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), index=True)
    gpus_per_node: Mapped[int] = mapped_column(Integer, default=0)
    engine_id: Mapped[str | None] = mapped_column(String(64))
    engine_name: Mapped[str] = mapped_column(String(64))
    restarts: Mapped[int] = mapped_column(Integer, default=0)
    preemptions: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(500), default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    placed_on: Mapped[list[CloudJobNodeRow]] = relationship(
        order_by="CloudJobNodeRow.position", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def nodes(self) -> tuple[str, ...]:
        """Node names of the latest placement, in placement order (empty before admission)."""
        return tuple(n.node for n in self.placed_on)

    def place_on(self, nodes: tuple[str, ...]) -> None:
        self.placed_on = [CloudJobNodeRow(position=i, node=n) for i, n in enumerate(nodes)]


class CloudJobNodeRow(Base):
    __tablename__ = "cloud_job_nodes"

    job_id: Mapped[int] = mapped_column(ForeignKey("cloud_jobs.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    node: Mapped[str] = mapped_column(String(128), index=True)
