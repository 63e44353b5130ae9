"""Mutation testing of the pure layers (issue 11 §5) with mutmut, one module at a time.

Copies ``src/``, ``tests/`` and ``pyproject.toml`` into a scratch directory (the worktree is never
touched), has mutmut generate every mutant of the chosen modules, then runs each module's mutants
for at most ``--budget`` seconds in one worker process (the machine is shared). A mutant is
*killed* when a selected test fails on it; *survived* when every test covering its function
passes; *no tests* when no selected test calls its function (counted as survived); *not
checked* when the module's budget ran out first (left out of the score, and reported).

Prints one JSON document: per module and in total, the counts, the score (killed / checked),
the target (0.85) and the ratio to it, and every survivor with its diff and, where a rule
recognises it, a reason. ``--report FILE`` also writes the same as Markdown.

    PYTHONPATH=src .venv/bin/python benchmarks/mutation.py --budget 300 \\
        --module suanli.core.pricing --module suanli.economics.metrics --report docs/mutation.md

Needs ``mutmut`` (in the ``dev`` extra). Test selection defaults to ``tests/unit`` without the
slow, dataset, PostgreSQL, Slurm and browser marks: the pure layers are pinned by unit tests.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tokenize
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 0.85
DEFAULT_MODULES = (
    "suanli.core.pricing",
    "suanli.core.billing",
    "suanli.core.money",
    "suanli.economics.metrics",
    "suanli.economics.breakeven",
    "suanli.economics.depreciation",
    "suanli.scheduling.jobs.cycle",
    "suanli.scheduling.jobs.preemption",
    "suanli.scheduling.jobs.policies",
    "suanli.simulation.engine",
)
# the unit tests that pin each package (mutmut then runs, per mutant, only those that call it)
TESTS_FOR = {
    "suanli.core": [
        "tests/unit/test_pricing.py",
        "tests/unit/test_pricing_boundaries.py",
        "tests/unit/test_money_parsing.py",
        "tests/unit/test_core_kinds.py",
        "tests/unit/test_billing_math.py",
        "tests/unit/test_supplement.py",
        "tests/unit/test_token_pricing.py",
        "tests/unit/test_rowfile.py",
        "tests/unit/test_catalog.py",
    ],
    "suanli.economics.metrics": [
        "tests/unit/economics/test_metrics.py",
        "tests/unit/economics/test_absolute_values.py",
    ],
    "suanli.economics.breakeven": [
        "tests/unit/economics/test_absolute_values.py",
        "tests/unit/economics/test_properties.py",
    ],
    "suanli.economics.depreciation": [
        "tests/unit/economics/test_tax_rules.py",
        "tests/unit/economics/test_cashflow.py",
    ],
    "suanli.economics": ["tests/unit/economics"],
    "suanli.scheduling": ["tests/unit/jobs", "tests/unit/scheduling"],
    "suanli.simulation": ["tests/unit/jobs", "tests/unit/simulation"],
}
# tests that assert wall time: under the machine's load they fail mutmut's statistics run,
# which then aborts; a mutant cannot be caught by them honestly anyway
WALL_TIME_TESTS = (
    "tests/unit/economics/test_planning.py::test_the_plans_milps_share_the_solver_time_limit",
)
MARKS = "not slow and not dataset and not postgres and not slurm and not browser"
CODE = re.compile(r"^[rbuf]*[\"'][a-z_]+\.[a-z_.]+[\"']$")  # an error code is not mere text
STATUS = re.compile(r"^\s*(?P<name>[\w.]+): (?P<status>.+)$")


@dataclass
class Survivor:
    name: str
    status: str
    diff: str
    reason: str


@dataclass
class ModuleResult:
    module: str
    mutants: int = 0
    killed: int = 0
    survived: int = 0
    no_tests: int = 0
    timeout: int = 0
    other: int = 0
    not_checked: int = 0
    seconds: float = 0.0
    survivors: list[Survivor] = field(default_factory=list)

    @property
    def checked(self) -> int:
        return self.mutants - self.not_checked

    @property
    def score(self) -> float | None:
        caught = self.killed + self.timeout
        return round(caught / self.checked, 4) if self.checked else None


def _module_path(module: str) -> str:
    path = Path("src", *module.split("."))
    return str(path / "__init__.py") if (ROOT / path).is_dir() else f"{path}.py"


def _prepare(work: Path, modules: list[str], tests: list[str]) -> None:
    for name in ("src", "tests"):
        shutil.copytree(ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__"))
    config = {
        "source_paths": ["src/"],
        "only_mutate": [_module_path(m) for m in modules],
        "pytest_add_cli_args_test_selection": tests,
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-q", "-m", MARKS]
        + [arg for test in WALL_TIME_TESTS for arg in ("--deselect", test)],
    }
    lines = [f"{key} = {json.dumps(value)}" for key, value in config.items()]
    pyproject = (ROOT / "pyproject.toml").read_text()
    (work / "pyproject.toml").write_text(pyproject + "\n[tool.mutmut]\n" + "\n".join(lines) + "\n")
    subprocess.run(["git", "init", "-q", str(work)], check=True)


def _mutmut(work: Path, *args: str, budget: float | None = None) -> str:
    """Run one mutmut command in ``work``. With a budget, the clock starts once mutmut's test
    statistics are written (collecting them is not testing mutants); when it runs out, the run
    is interrupted as Ctrl-C would, so the results it has are saved."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    cmd = [str(Path(sys.executable).with_name("mutmut")), *args]
    stats = work / "mutants" / "mutmut-stats.json"
    with tempfile.TemporaryFile("w+") as out, subprocess.Popen(
        cmd, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    ) as proc:  # fmt: skip
        deadline = None
        while proc.poll() is None:
            if deadline is None and budget is not None and stats.exists():
                deadline = time.monotonic() + budget
            if deadline is not None and time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGINT)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.5)
        proc.wait()
        out.seek(0)
        return out.read()


def _statuses(work: Path) -> dict[str, str]:
    out = _mutmut(work, "results", "--all", "true")
    return {m["name"]: m["status"] for line in out.splitlines() if (m := STATUS.match(line))}


def _tokens(line: str) -> list[tuple[int, str]]:
    try:
        toks = tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline)
        return [(t.type, t.string) for t in toks if t.type not in (tokenize.NEWLINE, tokenize.NL)]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []


def reason_for(diff: str) -> str:
    """A reason for the survivor kinds a rule can recognise; "" leaves it to the reader."""
    minus = [ln[1:] for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    plus = [ln[1:] for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    if len(minus) != 1 or len(plus) != 1:
        return ""
    before, after = _tokens(minus[0]), _tokens(plus[0])
    if before and after and len(before) == len(after):
        changed = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
        texts = [b[1] for b, _ in changed if b[0] == tokenize.STRING]
        if changed and len(texts) == len(changed) and not any(CODE.search(t) for t in texts):
            return "text only: a description or message, not compared verbatim by any test"
    return ""


def _survivors(work: Path, names: list[str], statuses: dict[str, str]) -> list[Survivor]:
    found = []
    for name in names:
        diff = _mutmut(work, "show", name)
        body = "\n".join(ln for ln in diff.splitlines() if ln[:1] in "+-")
        found.append(Survivor(name, statuses[name], body, reason_for(body)))
    return found


def _tally(module: str, statuses: dict[str, str], seconds: float) -> ModuleResult:
    result = ModuleResult(module, seconds=round(seconds, 1))
    mine = sorted(n for n in statuses if n.startswith(module + "."))
    for name in mine:
        status = statuses[name]
        result.mutants += 1
        if status == "killed":
            result.killed += 1
        elif status == "survived":
            result.survived += 1
        elif status == "no tests":
            result.no_tests += 1
        elif status == "timeout":
            result.timeout += 1
        elif status == "not checked":
            result.not_checked += 1
        else:
            result.other += 1
    return result


def tests_for(module: str) -> list[str]:
    """The longest entry of :data:`TESTS_FOR` that is the module or a package above it."""
    found = [p for p in TESTS_FOR if module == p or module.startswith(p + ".")]
    return TESTS_FOR[max(found, key=len)] if found else ["tests/unit"]


def run_module(module: str, tests: list[str], budget: float, work: Path) -> ModuleResult:
    """One module in its own scratch copy: mutmut's test statistics cover only its tests."""
    _prepare(work, [module], tests)
    started = time.monotonic()
    log = _mutmut(work, "run", "--max-children", "1", f"{module}.*", budget=budget)
    (work / "mutmut-run.log").write_text(log)
    return collect(module, work, time.monotonic() - started)


def collect(module: str, work: Path, seconds: float = 0.0) -> ModuleResult:
    """The results mutmut saved in ``work`` for ``module`` (also after an interrupted run)."""
    statuses = _statuses(work)
    result = _tally(module, statuses, seconds)
    lost = sorted(n for n in statuses if n.startswith(module + "."))
    lost = [n for n in lost if statuses[n] in ("survived", "no tests")]
    result.survivors = _survivors(work, lost, statuses)
    return result


def run(
    modules: list[str], tests: list[str] | None, budget: float, work: Path
) -> list[ModuleResult]:
    return [run_module(m, tests or tests_for(m), budget, work / m) for m in modules]


def summary(results: list[ModuleResult]) -> dict[str, object]:
    total = ModuleResult("total")
    for r in results:
        for key in ("mutants", "killed", "survived", "no_tests", "timeout", "other"):
            setattr(total, key, getattr(total, key) + getattr(r, key))
        total.not_checked += r.not_checked
        total.seconds += r.seconds

    def row(r: ModuleResult) -> dict[str, object]:
        data = {k: v for k, v in asdict(r).items() if k != "survivors"}
        return data | {"checked": r.checked, "score": r.score}

    score = total.score
    return {
        "benchmark": "mutation",
        "tool": "mutmut",
        "target": TARGET,
        "score": score,
        "ratio_to_target": round(score / TARGET, 3) if score is not None else None,
        "total": row(total),
        "modules": [row(r) for r in results],
        "survivors": [asdict(s) | {"module": r.module} for r in results for s in r.survivors],
    }


def markdown(report: dict[str, object]) -> str:
    modules = report["modules"]
    assert isinstance(modules, list)
    out = ["# Mutation report (mutmut, `benchmarks/mutation.py`)", ""]
    out += ["| module | mutants | checked | killed | survived | no tests | score |"]
    out += ["| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for m in [*modules, report["total"]]:
        assert isinstance(m, dict)
        out.append(
            f"| {m['module']} | {m['mutants']} | {m['checked']} | {m['killed']} "
            f"| {m['survived']} | {m['no_tests']} | {m['score']} |"
        )
    out += ["", "## Survivors", ""]
    survivors = report["survivors"]
    assert isinstance(survivors, list)
    for s in survivors:
        diff = "\n".join("    " + ln for ln in s["diff"].splitlines())
        out += [f"- `{s['name']}` ({s['status']}): {s['reason'] or 'no rule: read the diff'}"]
        out += ["", diff, ""]
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--module", action="append", help="dotted module (repeatable)")
    parser.add_argument("--tests", action="append", help="pytest selection (default tests/unit)")
    parser.add_argument("--budget", type=float, default=300.0, help="seconds per module")
    parser.add_argument("--workdir", type=Path, help="keep the scratch directory here")
    parser.add_argument(
        "--collect", type=Path, help="only report what an earlier --workdir run saved there"
    )
    parser.add_argument("--report", type=Path, help="also write the report as Markdown")
    args = parser.parse_args()
    modules = args.module or list(DEFAULT_MODULES)
    tests = args.tests
    if args.collect:
        done = [m for m in modules if (args.collect / m / "mutants").is_dir()]
        results = [collect(m, args.collect / m) for m in done]
    elif args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=False)
        results = run(modules, tests, args.budget, args.workdir)
    else:
        with tempfile.TemporaryDirectory(prefix="suanli-mutation-") as tmp:
            results = run(modules, tests, args.budget, Path(tmp))
    report = summary(results)
    if args.report:
        args.report.write_text(markdown(report))
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
