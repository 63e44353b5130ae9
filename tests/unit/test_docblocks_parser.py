"""The doc-block runner's parsing (tests/docblocks.py): annotations, logical commands, console
prompts and the expected-error marks."""

from __future__ import annotations

from pathlib import Path

import pytest

import docblocks
from docblocks import Block, commands, error_codes, script, source

DOC = """# t

<!-- doc-test
expect: hello
markers: slow dataset
setup: echo hi > f.txt
-->
```bash
echo hello
```

<!-- doc-test: text (a diagram) -->
```
a ─► b
```

<!-- doc-test: skip: serves forever -->
```bash
make run
```

```bash
echo unannotated
```
"""


def test_annotations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docblocks, "REPO", tmp_path)
    (tmp_path / "x.md").write_text(DOC, encoding="utf-8")
    run, text, skip, missing = docblocks.blocks(tmp_path / "x.md")
    assert (run.kind, run.expect, run.markers, run.setup) == (
        "run", ("hello",), ("slow", "dataset"), ("echo hi > f.txt",))  # fmt: skip
    assert (text.kind, skip.kind, skip.reason) == ("text", "skip", "serves forever")
    assert missing.kind == "missing" and "x.md:22" in missing.reason


def test_logical_commands() -> None:
    code = (
        "export A=1  # comment\n"
        "suanli x --a 1 \\\n    --b 2\n"
        "curl -d '{\n  \"k\": 1}'\n"
        "cat > f <<'EOF'\nline $A\nEOF\n"
        "suanli y  # → error lease.capacity_unavailable\n"
    )
    cmds = commands(code)
    assert len(cmds) == 5
    assert cmds[1].endswith("--b 2") and cmds[2].endswith("1}'") and cmds[3].endswith("EOF")
    assert error_codes(code) == ["lease.capacity_unavailable"]
    assert "-ne 1 ]" in script(code) and script(code).count("-ne 0 ]") == 4


def test_console_blocks_run_only_their_prompts() -> None:
    block = Block("d.md", 1, "console", "$ suanli a \\\n    --b\nshown output\n$ suanli c\n", "run")
    assert commands(source(block)) == ["suanli a \\\n    --b", "suanli c"]
