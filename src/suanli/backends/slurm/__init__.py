"""The Slurm adapter: :class:`SlurmBackend` behind the backend protocol (see adapter.py, docs/slurm.md)."""

from __future__ import annotations

from suanli.backends.slurm.adapter import SlurmBackend
from suanli.backends.slurm.runner import CommandResult, CommandRunner, SubprocessRunner

__all__ = ["CommandResult", "CommandRunner", "SlurmBackend", "SubprocessRunner"]
