"""The PDF of the operating report (WeasyPrint + Debian Pango + WenQuanYi Micro Hei, installed by
scripts/report-deps.sh): its text read back with pdftotext, its pages rendered with pdftoppm,
and two renderings of the same closed period give the same extracted text. SQLite only: the
figures themselves are checked on both engines in test_operating_report.py."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine

from suanli.core.clock import SimClock
from suanli.services.container import build_services
from suanli.services.demo.center import DEMO_START, seed_demo
from suanli.services.reports.operating import ReportService
from suanli.services.reports.render import to_html, to_pdf

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="poppler-utils missing: run scripts/report-deps.sh (make test does)",
)


def _text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout  # fmt: skip


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_pdf_text_and_pages(engine: Engine, tmp_path: Path) -> None:
    clock = SimClock(DEMO_START)
    svc = build_services(engine, clock)
    seed_demo(svc, clock)
    reports = ReportService(svc.sessions, clock, svc.catalog)
    texts = []
    for i in range(2):
        done = reports.generate("2025Q3", "t")
        pdf = tmp_path / f"r{i}.pdf"
        pdf.write_bytes(to_pdf(to_html(done.report, done.archived, "zh")))
        texts.append(_text(pdf))
    assert texts[0] == texts[1]
    text = texts[0]
    # Chinese text survives (a missing CJK font would extract as nothing or as boxes)
    for needle in ("经营报告", "算力规模", "募集资金", "TR-2025-003", "21,340,000.00", "FP16 稀疏"):
        assert needle in text, needle
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(tmp_path / "r0.pdf"), str(tmp_path / "p")],
                   check=True)  # fmt: skip
    pages = sorted(tmp_path.glob("p-*.png"))
    assert len(pages) >= 3
    assert all(p.stat().st_size > 5_000 for p in pages)  # a blank A4 page at 40 dpi is ~1 kB
