#!/usr/bin/env python3
"""Regenerate ``src/suanli/scheduling/data/go_rng_cooked.txt`` from Go's ``math/rand/rng.go``.

The 607 ``rngCooked`` constants seed Go's ``math/rand`` (v1) additive lagged Fibonacci generator;
:mod:`suanli.scheduling.gorand` needs them to reproduce Go's random streams bit for bit. They are
read from Debian's ``golang-1.19-src`` package (``apt-get install golang-1.19-src``), which puts the
file at ``/usr/share/go-1.19/src/math/rand/rng.go``. Go is BSD-3-Clause; the notice is copied into
the data file's header and ``LICENSE-go.txt`` beside it.

Usage: ``python scripts/gen_go_rng_cooked.py [PATH/TO/rng.go] [OUT]``
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

DEFAULT_SRC = Path("/usr/share/go-1.19/src/math/rand/rng.go")
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "src/suanli/scheduling/data/go_rng_cooked.txt"
RNG_LEN = 607

HEADER = """\
# rngCooked: the 607 seeding constants of Go's math/rand (v1) generator, one signed int64 per line.
# Extracted by scripts/gen_go_rng_cooked.py from src/math/rand/rng.go of Go 1.19
# (Debian package golang-1.19-src). Do not edit by hand.
#
# Copyright (c) 2009 The Go Authors. All rights reserved.
# Use of this source code is governed by a BSD-style license (BSD-3-Clause);
# the full notice is in LICENSE-go.txt next to this file.
"""


def extract(source: str) -> list[int]:
    """The integers inside ``rngCooked [rngLen]int64 = [...]int64{ ... }``."""
    match = re.search(r"rngCooked\s*\[rngLen\]int64\s*=\s*\[\.\.\.\]int64\{(.*?)\}", source, re.S)
    if match is None:
        raise SystemExit("rngCooked table not found in the Go source")
    values = [int(tok) for tok in re.findall(r"-?\d+", match.group(1))]
    if len(values) != RNG_LEN:
        raise SystemExit(f"expected {RNG_LEN} constants, found {len(values)}")
    return values


def main(argv: list[str]) -> int:
    src = Path(argv[1]) if len(argv) > 1 else DEFAULT_SRC
    out = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUT
    values = extract(src.read_text(encoding="utf-8"))
    out.write_text(HEADER + "".join(f"{v}\n" for v in values), encoding="utf-8")
    print(f"wrote {len(values)} constants to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
