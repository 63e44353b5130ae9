"""A fake command runner for the Slurm adapter: recorded outputs in, recorded calls out."""

from __future__ import annotations

from collections.abc import Sequence

from suanli.backends.slurm.runner import CommandResult


class FakeRunner:
    """Answers commands by their longest matching prefix; unknown commands fail loudly."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, ...], CommandResult] = {}
        self.calls: list[tuple[str, ...]] = []

    def on(self, *prefix: str, stdout: str = "", stderr: str = "", rc: int = 0) -> FakeRunner:
        self.answers[prefix] = CommandResult(prefix, rc, stdout, stderr)
        return self

    def run(self, args: Sequence[str]) -> CommandResult:
        argv = tuple(args)
        self.calls.append(argv)
        for n in range(len(argv), 0, -1):
            if argv[:n] in self.answers:
                a = self.answers[argv[:n]]
                return CommandResult(argv, a.returncode, a.stdout, a.stderr)
        raise AssertionError(f"unexpected command {argv}")

    def called(self, *prefix: str) -> list[tuple[str, ...]]:
        return [c for c in self.calls if c[: len(prefix)] == prefix]
