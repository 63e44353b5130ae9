"""Every code block of README.md and docs/*.md, run verbatim (see tests/docblocks.py).

A block runs under the pytest markers its annotation names (``slow``, ``dataset``, ``slurm``,
``postgres``), so ``make test`` runs the quick ones and ``make test-all`` the rest; a block that
cannot run in a test is a visible skip with its reason, never a silent one.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

import pytest

from docblocks import (
    Block,
    all_blocks,
    api_server,
    blocks,
    commands,
    doc_files,
    error_codes,
    forkserver,
    prepare,
    run,
    source,
)

BLOCKS = all_blocks()
SLURM_DIR = Path("/var/tmp/suanli-slurm")  # scripts/dev-slurm-cluster's state directory
KNOWN_MARKERS = {"slow", "dataset", "slurm", "postgres"}


def _param(block: Block) -> object:
    marks = [getattr(pytest.mark, m) for m in block.markers]
    marks.append(
        pytest.mark.timeout((block.timeout or 3600 if "slow" in block.markers else 300) + 60)
    )
    return pytest.param(block, marks=marks, id=block.id)


@contextlib.contextmanager
def _slurm_lock() -> Iterator[None]:
    """The dev cluster is shared: hold the lock the Slurm tests hold (backends/conftest.py)."""
    SLURM_DIR.mkdir(parents=True, exist_ok=True)
    with open(SLURM_DIR / "tests.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@pytest.fixture(scope="module")
def warm_cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One warm CLI process for all blocks (see tests/docblocks_forkserver.py)."""
    with forkserver(tmp_path_factory.mktemp("forkserver")) as sock:
        yield sock


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, shared_dir: Path) -> Iterator[dict[str, str]]:
    """One API server (own database) for the blocks that call the API with curl."""
    work, env = prepare(tmp_path_factory.mktemp("api"), shared_dir)
    with api_server(work, env) as answer:
        yield answer


@pytest.mark.parametrize("block", [_param(b) for b in BLOCKS if b.kind != "text"])
def test_doc_block(
    block: Block, tmp_path: Path, shared_dir: Path, warm_cli: Path, request: pytest.FixtureRequest
) -> None:
    assert block.kind != "missing", block.reason
    if block.kind == "skip":
        pytest.skip(f"{block.id}: {block.reason}")
    timeout = 3000 if "slow" in block.markers else 240
    with _slurm_lock() if "slurm" in block.markers else contextlib.nullcontext():
        api = request.getfixturevalue("api") if block.serve else None
        status, output = run(block, tmp_path, shared_dir, timeout, server=warm_cli, api=api)
    assert status == 0, f"{block.id} failed (exit {status}):\n{output}"
    for text in (*block.expect, *error_codes(block.code)):
        assert text in output, f"{block.id}: {text!r} not in the output:\n{output}"


def test_every_block_is_annotated() -> None:
    """A new block without an annotation (or with an unknown marker) fails here, by name."""
    assert len(doc_files()) >= 10
    for path in doc_files():
        for b in blocks(path):
            assert b.kind != "missing", b.reason
            assert set(b.markers) <= KNOWN_MARKERS, (b.id, b.markers)
            assert b.kind == "text" or b.code.strip(), b.id
            if b.kind == "run" and b.lang not in ("python",):
                assert commands(source(b)), b.id


def test_readme_blocks_all_run() -> None:
    """The README's command blocks all run (none is a skip or plain text) except `make`."""
    readme = [b for b in BLOCKS if b.path == "README.md"]
    assert len(readme) >= 6
    skipped = [b.id for b in readme if b.kind != "run" and "make run" not in b.code]
    assert skipped == []
    assert all(b.expect or b.kind != "run" for b in readme)
