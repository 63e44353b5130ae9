"""Go math/rand port: golden values from Go 1.19's own regression test (regress_test.go, Seed 0)."""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pytest

from suanli.scheduling.gorand import GoRand, NumpyRand, rng_cooked


def test_int63_matches_go_golden() -> None:
    r = GoRand(0)
    assert [r.int63() for _ in range(3)] == [
        8717895732742165505,
        2259404117704393152,
        6050128673802995827,
    ]


def test_perm_matches_go_golden() -> None:
    r = GoRand(0)
    got = [r.perm(n) for n in (0, 1, 5, 8, 9, 10)]
    assert got == [
        [],
        [0],
        [0, 4, 1, 3, 2],
        [3, 1, 0, 4, 7, 5, 2, 6],
        [5, 0, 3, 6, 7, 4, 2, 1, 8],
        [4, 5, 0, 2, 6, 9, 3, 1, 8, 7],
    ]


def test_int31n_matches_go_golden() -> None:
    r = GoRand(0)
    sizes = (1, 10, 32, 1 << 20, (1 << 20) + 1, 1000000000)
    assert [r.int31n(n) for n in sizes] == [0, 4, 25, 310570, 857611, 621654496]


def test_float64_matches_go_golden() -> None:
    r = GoRand(0)
    assert [r.float64() for _ in range(2)] == [0.9451961492941164, 0.24496508529377975]


def test_seed_is_reduced_like_go() -> None:
    # Go: seed % (2^31-1), negative wraps, 0 -> 89482311
    assert GoRand(2**31 - 1).int63() == GoRand(0).int63() == GoRand(89482311).int63()
    assert GoRand(-5).int63() == GoRand(2**31 - 1 - 5).int63()


def test_shuffle_is_a_deterministic_permutation() -> None:
    a, b = GoRand(42).shuffle_order(1000), GoRand(42).shuffle_order(1000)
    assert a == b and sorted(a) == list(range(1000)) and a != list(range(1000))


def test_intn_rejects_bad_bounds() -> None:
    with pytest.raises(ValueError):
        GoRand(1).intn(0)
    with pytest.raises(ValueError):
        NumpyRand(1).intn(0)


def test_numpy_rand_is_seeded() -> None:
    assert NumpyRand(7).perm(50) == NumpyRand(7).perm(50)
    assert NumpyRand(7).perm(50) != NumpyRand(8).perm(50)
    draws = [NumpyRand(3).intn(10) for _ in range(3)]
    assert len(set(draws)) == 1 and 0 <= draws[0] < 10


def test_cooked_table_ships_with_license() -> None:
    values = rng_cooked()
    assert len(values) == 607 and all(0 <= v < 2**64 for v in values)
    assert values[0] == (-4181792142133755926) & (2**64 - 1)  # first entry of Go's rngCooked
    notice = files("suanli.scheduling").joinpath("data/LICENSE-go.txt").read_text("utf-8")
    assert "The Go Authors" in notice and "Redistribution and use" in notice
    assert np.unique(np.array(values, dtype=np.uint64)).size == 607
