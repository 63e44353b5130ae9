"""`suanli traces`: fetch published workload traces (the openb GPU trace) with checksum checks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated

import httpx
import typer

from suanli.cli.render import err_console, print_table
from suanli.core.errors import SuanliError, ValidationError
from suanli.simulation.traces import openb

app = typer.Typer(help="Workload traces.", no_args_is_help=True)

Fetcher = Callable[[str], bytes]


def http_get(url: str) -> bytes:
    """GET ``url`` (follows redirects); network errors become ``trace.download_failed``."""
    try:
        response = httpx.get(url, follow_redirects=True, timeout=60.0)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise SuanliError("trace.download_failed", f"{url}: {exc}", {"url": url}) from exc
    return response.content


def fetch_openb(
    directory: Path,
    get: Fetcher,
    names: list[str] | None = None,
    ref: str = openb.DEFAULT_REF,
    checksums: Mapping[str, str] = openb.CHECKSUMS,
) -> list[dict[str, object]]:
    """Download the openb files into ``directory``; keep files that already verify.

    A download with the wrong checksum raises ``trace.checksum_mismatch`` and is not written.
    """
    rows: list[dict[str, object]] = []
    for name in names or list(checksums):
        if name not in checksums:
            raise ValidationError(
                "trace.unknown_file", f"not an openb file: {name}", {"name": name}
            )
        target = directory / name
        if target.is_file():
            try:
                openb.verify(name, target.read_bytes(), checksums)
            except ValidationError:
                pass
            else:
                rows.append({"file": name, "status": "present", "sha256": checksums[name]})
                continue
        data = get(openb.file_url(name, ref))
        digest = openb.verify(name, data, checksums)
        directory.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(name + ".part")
        partial.write_bytes(data)
        partial.replace(target)
        rows.append({"file": name, "status": "downloaded", "sha256": digest})
    return rows


@app.command("fetch")
def fetch(
    dataset: Annotated[str, typer.Argument(help="Only 'openb' for now.")],
    directory: Annotated[Path, typer.Argument(help="Where to put the files.")],
    ref: Annotated[str, typer.Option("--ref", help="Git ref of alibaba/clusterdata.")] = "master",
) -> None:
    """Download a public trace and verify every file's SHA-256."""
    if dataset != "openb":
        raise ValidationError(
            "trace.unknown_dataset", f"unknown dataset {dataset!r}", {"dataset": dataset}
        )
    with err_console.status("downloading openb"):
        rows = fetch_openb(directory, http_get, ref=ref)
    print_table(rows, ["file", "status", "sha256"], f"openb in {directory}")
