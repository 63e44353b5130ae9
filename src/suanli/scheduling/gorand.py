"""A bit-exact port of Go's ``math/rand`` (v1) generator, and the RNG protocol placement runs use.

Owns: :class:`GoRand` (Go 1.19's additive lagged Fibonacci source, 607 words, tap 273, plus the
derived draws ``Int63``, ``Int31``, ``Uint32``, ``Float64``, ``Intn``, ``Shuffle`` and ``Perm``
exactly as Go computes them) and :class:`NumpyRand`, the default generator with the same
interface. Reproducing the FGD paper's published runs needs the Go streams (its simulator seeds the
global Go source); any other good generator gives statistically equivalent runs.

Go's seeding constants (``rngCooked``, BSD-3-Clause, © The Go Authors) ship as
``data/go_rng_cooked.txt`` with ``data/LICENSE-go.txt``; ``scripts/gen_go_rng_cooked.py``
regenerates the file from Go's ``src/math/rand/rng.go``.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Protocol

import numpy as np

_LEN = 607
_TAP = 273
_MASK64 = (1 << 64) - 1
_MASK63 = (1 << 63) - 1
_INT32MAX = (1 << 31) - 1


@cache
def rng_cooked() -> tuple[int, ...]:
    """The 607 ``rngCooked`` constants as unsigned 64-bit integers."""
    text = files("suanli.scheduling").joinpath("data/go_rng_cooked.txt").read_text("utf-8")
    values = [int(line) & _MASK64 for line in text.splitlines() if line and line[0] != "#"]
    if len(values) != _LEN:
        raise RuntimeError(f"go_rng_cooked.txt holds {len(values)} constants, expected {_LEN}")
    return tuple(values)


def _seedrand(x: int) -> int:
    """x[n+1] = 48271 · x[n] mod (2³¹ − 1), Schrage's method as in Go (int32 arithmetic)."""
    hi, lo = int(x / 44488), x - int(x / 44488) * 44488  # Go's truncating division
    x = 48271 * lo - 3399 * hi
    return x + _INT32MAX if x < 0 else x


class PlacementRng(Protocol):
    """The draws the placement experiment makes, in the order the paper's simulator makes them."""

    def intn(self, n: int) -> int:
        """Uniform integer in [0, n)."""
        ...

    def shuffle_order(self, n: int) -> list[int]:
        """A random permutation, as the index order a shuffle of ``range(n)`` produces."""
        ...

    def perm(self, n: int) -> list[int]:
        """A random permutation of ``range(n)``."""
        ...

    def discard(self, k: int) -> None:
        """Consume ``k`` draws (the Go simulator's stray draws; a no-op for other generators)."""
        ...


class GoRand:
    """Go ``math/rand.Rand`` over ``rngSource``; ``GoRand(seed)`` equals ``rand.Seed(seed)``."""

    __slots__ = ("_feed", "_tap", "_vec")

    def __init__(self, seed: int) -> None:
        self._vec = [0] * _LEN
        self._tap = 0
        self._feed = _LEN - _TAP
        self.seed(seed)

    def seed(self, seed: int) -> None:
        cooked = rng_cooked()
        self._tap = 0
        self._feed = _LEN - _TAP
        s = seed % _INT32MAX if seed >= 0 else -(-seed % _INT32MAX)  # Go's truncated remainder
        if s < 0:
            s += _INT32MAX
        if s == 0:
            s = 89482311
        x = s
        for i in range(-20, _LEN):
            x = _seedrand(x)
            if i >= 0:
                u = (x << 40) & _MASK64
                x = _seedrand(x)
                u ^= (x << 20) & _MASK64
                x = _seedrand(x)
                u ^= x
                u ^= cooked[i]
                self._vec[i] = u

    def uint64(self) -> int:
        self._tap -= 1
        if self._tap < 0:
            self._tap += _LEN
        self._feed -= 1
        if self._feed < 0:
            self._feed += _LEN
        x = (self._vec[self._feed] + self._vec[self._tap]) & _MASK64
        self._vec[self._feed] = x
        return x

    def int63(self) -> int:
        return self.uint64() & _MASK63

    def int31(self) -> int:
        return self.int63() >> 32

    def uint32(self) -> int:
        return (self.int63() >> 31) & 0xFFFFFFFF

    def float64(self) -> float:
        while True:
            f = self.int63() / (1 << 63)
            if f != 1.0:
                return f

    def int31n(self, n: int) -> int:
        """``Rand.Int31n``: rejection sampling (what ``Intn`` uses)."""
        if n <= 0:
            raise ValueError("invalid argument to Int31n")
        if n & (n - 1) == 0:
            return self.int31() & (n - 1)
        limit = _INT32MAX - (1 << 31) % n
        v = self.int31()
        while v > limit:
            v = self.int31()
        return v % n

    def _int31n_lemire(self, n: int) -> int:
        """The unexported ``int31n`` (Lemire's method) that ``Shuffle`` uses."""
        prod = self.uint32() * n
        low = prod & 0xFFFFFFFF
        if low < n:
            thresh = ((1 << 32) - n) % n
            while low < thresh:
                prod = self.uint32() * n
                low = prod & 0xFFFFFFFF
        return prod >> 32

    def intn(self, n: int) -> int:
        if n <= 0:
            raise ValueError("invalid argument to Intn")
        if n > _INT32MAX:
            raise ValueError("Intn beyond int32 is not ported")
        return self.int31n(n)

    def shuffle_order(self, n: int) -> list[int]:
        order = list(range(n))
        for i in range(n - 1, 0, -1):
            j = self._int31n_lemire(i + 1)
            order[i], order[j] = order[j], order[i]
        return order

    def perm(self, n: int) -> list[int]:
        m = [0] * n
        for i in range(n):
            j = self.intn(i + 1)
            m[i] = m[j]
            m[j] = i
        return m

    def discard(self, k: int) -> None:
        for _ in range(k):
            self.float64()


class NumpyRand:
    """The default generator: a seeded :class:`numpy.random.Generator` behind the same interface."""

    __slots__ = ("_gen",)

    def __init__(self, seed: int) -> None:
        self._gen = np.random.default_rng(seed)

    def intn(self, n: int) -> int:
        if n <= 0:
            raise ValueError("invalid argument to intn")
        return int(self._gen.integers(n))

    def shuffle_order(self, n: int) -> list[int]:
        return [int(i) for i in self._gen.permutation(n)]

    def perm(self, n: int) -> list[int]:
        return [int(i) for i in self._gen.permutation(n)]

    def discard(self, k: int) -> None:
        """Nothing to skip: the stray draws are an artefact of the Go simulator."""
