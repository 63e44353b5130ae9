"""The CLI in Chinese (issue 16): ``--lang zh`` / ``SUANLI_LANG=zh`` translate messages and
table headers, never error codes or ``--json``; an unknown language is a usage error."""

from __future__ import annotations

import json

import pytest

from suanli.cli.main import main
from suanli.core import i18n


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = 0
    try:
        main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_table_headers_and_title_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    _, en, _ = _run(["catalog", "gpus"], capsys)
    _, zh, _ = _run(["--lang", "zh", "catalog", "gpus"], capsys)
    assert "GPU catalog" in en and "name" in en
    assert "GPU 目录" in zh and "名称" in zh and "GPU catalog" not in zh
    assert "H800-SXM" in zh  # data stays data
    assert i18n.current() == "en"  # the caller's language is back


def test_env_sets_the_language_and_json_never_changes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, en_json, _ = _run(["catalog", "gpus", "--json"], capsys)
    monkeypatch.setenv("SUANLI_LANG", "zh_CN.UTF-8")
    _, zh_json, _ = _run(["catalog", "gpus", "--json"], capsys)
    _, zh_table, _ = _run(["catalog", "gpus"], capsys)
    _, en_table, _ = _run(["--lang", "en", "catalog", "gpus"], capsys)  # the flag wins
    assert json.loads(zh_json) == json.loads(en_json)
    assert "名称" in zh_table and "名称" not in en_table


def test_errors_keep_their_codes_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    code_en, _, err_en = _run(["catalog", "capacity", "NOPE=3"], capsys)
    code_zh, _, err_zh = _run(["--lang", "zh", "catalog", "capacity", "NOPE=3"], capsys)
    assert code_en == code_zh == 1
    assert err_en.startswith("error catalog.unknown_sku:")
    assert err_zh.startswith("错误 catalog.unknown_sku:") and "字段" in err_zh


def test_usage_errors_in_chinese_and_unknown_language(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["--lang", "zh", "frobnicate"], capsys)
    assert code == 2 and err.startswith("错误 usage：No such command 'frobnicate'")
    code, _, err = _run(["--lang", "fr", "catalog", "gpus"], capsys)
    assert code == 2 and "expected one of en, zh" in err and len(err.strip().splitlines()) == 1


def test_wrote_line_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    from suanli.cli.render import wrote

    with i18n.language("zh"):
        wrote("out.json")
    wrote("out.json")
    assert capsys.readouterr().err.splitlines() == ["已写入 out.json", "wrote out.json"]
