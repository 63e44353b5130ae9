"""How the Slurm adapter runs commands: a small injectable runner.

``SubprocessRunner`` runs the real CLI tools (``sinfo``, ``squeue``, ``sbatch``, ``scontrol``,
``scancel``, ``cat``) with ``SLURM_CONF`` set; tests inject a fake with recorded outputs instead of
patching anything. A runner never raises on a non-zero exit (the adapter decides what an exit
means); it raises :class:`BackendError` only when the command cannot run at all or times out.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from suanli.backends.base import BackendError


@dataclass(frozen=True, slots=True)
class CommandResult:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class CommandRunner(Protocol):
    def run(self, args: Sequence[str]) -> CommandResult: ...


class SubprocessRunner:
    """Runs commands locally. ``slurm_conf`` (if given) is exported as ``SLURM_CONF``."""

    def __init__(
        self,
        slurm_conf: str | None = None,
        *,
        timeout: float = 30.0,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._env = dict(os.environ) | dict(env or {})
        if slurm_conf:
            self._env["SLURM_CONF"] = slurm_conf
        self._timeout = timeout

    def run(self, args: Sequence[str]) -> CommandResult:
        argv = tuple(args)
        try:
            done = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                env=self._env,
                timeout=self._timeout,
                check=False,
            )
        except FileNotFoundError:
            raise BackendError(
                "backend.unavailable",
                f"{argv[0]} is not installed (scripts/dev-slurm-cluster start installs Slurm)",
                {"command": argv[0]},
            ) from None
        except subprocess.TimeoutExpired:
            raise BackendError(
                "backend.timeout",
                f"{argv[0]} did not answer within {self._timeout:g} s",
                {"command": argv[0]},
            ) from None
        return CommandResult(argv, done.returncode, done.stdout, done.stderr)
