"""SUANLI_SHARED is read through Settings; without it (and no ../shared) a coded error says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from suanli.core.errors import ValidationError
from suanli.settings import load_settings


def test_shared_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUANLI_SHARED", str(tmp_path))
    assert load_settings().shared_dir() == tmp_path


def test_shared_defaults_to_the_directory_beside_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SUANLI_SHARED", raising=False)
    (tmp_path / "shared").mkdir()
    (tmp_path / "repo").mkdir()
    monkeypatch.chdir(tmp_path / "repo")
    assert load_settings().shared_dir() == tmp_path / "shared"


def test_no_shared_directory_is_a_coded_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SUANLI_SHARED", raising=False)
    (tmp_path / "repo").mkdir()
    monkeypatch.chdir(tmp_path / "repo")
    with pytest.raises(ValidationError) as exc:
        load_settings().shared_dir()
    assert exc.value.code == "settings.shared_missing"
