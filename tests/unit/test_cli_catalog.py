from __future__ import annotations

import json

import pytest

from suanli.cli.main import main


def test_capacity_json(capsys: pytest.CaptureFixture[str]) -> None:
    main(["catalog", "capacity", "HGX-H800-8=330", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert round(out["p_fp16_sparse"]) == 5225


def test_bad_fleet_exits_nonzero_with_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["catalog", "capacity", "HGX-H800-8=lots"])
    assert info.value.code == 1
    assert "catalog.invalid_fleet" in capsys.readouterr().err
