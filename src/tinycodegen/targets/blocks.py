"""Per-block price table and the vectorised accounting of block traces.

Every distinct basic block (start address, size) that unicorn reports gets an
id and is priced once (:mod:`tinycodegen.targets.cycles`).  A trace of block
starts is turned into ids by a direct lookup on the start address (a dict
handles the rare second block size at one address), and per-row sums of
instructions, base cycles and pipeline refills come from numpy gathers and
``np.add.reduceat`` -- no Python work per executed block.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

import numpy as np

from tinycodegen.targets import cycles

if TYPE_CHECKING:
    from unicorn import Uc


class BlockTable:
    """Prices of the blocks seen so far, plus execution counts of the current run."""

    def __init__(self, code: bytes, core: str, funcs: list[tuple[int, str]], uc: Uc) -> None:
        self._code = code  # the flash image: code is read from here, not from unicorn
        self._uc = uc
        self.core = core
        self._funcs = funcs  # (start address, name) of FUNC symbols, sorted
        self._ids: dict[int, int] = {}
        self._costs: list[cycles.BlockCost] = []
        self._sizes: list[int] = []
        self._addrs: list[int] = []
        # columns n_instr, base, p_always, p_if_taken, size; indexed by block id
        self._cols = [np.zeros(0, dtype=np.int32) for _ in range(5)]
        self._id_at = np.full(len(code) // 2 + 1, -1, dtype=np.int32)
        self._executed = np.zeros(0, dtype=np.int64)
        self._sorted_keys = np.zeros(0, dtype=np.int64)
        self._sorted_ids = np.zeros(0, dtype=np.int32)
        self.unpriced: set[str] = set()

    def _new_block(self, addr: int, size: int) -> int:
        if addr + size <= len(self._code):
            code = self._code[addr : addr + size]
        else:
            code = bytes(self._uc.mem_read(addr, size))
        cost = cycles.block_cost(code, addr, self.core)
        self.unpriced.update(cost.unpriced)
        bid = self._ids[(addr << 32) | size] = len(self._costs)
        self._costs.append(cost)
        self._sizes.append(size)
        self._addrs.append(addr)
        if addr // 2 < self._id_at.size and self._id_at[addr // 2] < 0:
            self._id_at[addr // 2] = bid
        return bid

    def ids_of(self, addr: np.ndarray, size: np.ndarray) -> np.ndarray:
        """Block ids of a trace (pricing blocks not seen before)."""
        half = np.minimum(addr >> 1, self._id_at.size - 1)
        ids = self._id_at[half]
        if self._cols[4].size:
            ok = (ids >= 0) & (self._cols[4][np.maximum(ids, 0)] == size)
            ok &= (addr >> 1) < self._id_at.size
        else:
            ok = np.zeros(addr.size, dtype=bool)
        if not ok.all():
            # a second block size at one address: binary search in the sorted known keys
            # (no sort of the misses, which can be millions in a long trace)
            miss = np.flatnonzero(~ok)
            keys = (addr[miss].astype(np.int64) << 32) | size[miss].astype(np.int64)
            found = self._known(keys)
            new = np.flatnonzero(found < 0)
            if new.size:
                self._register(keys[new])
                found[new] = self._known(keys[new])
            ids[miss] = found
            if len(self._costs) > self._cols[0].size:
                table = np.array(
                    [
                        (c.n_instr, c.base, c.p_always, c.p_if_taken, n)
                        for c, n in zip(self._costs, self._sizes, strict=True)
                    ],
                    dtype=np.int32,
                ).reshape(-1, 5)
                self._cols = [np.ascontiguousarray(table[:, j]) for j in range(5)]
        return ids

    def _register(self, keys: np.ndarray) -> None:
        """Price the blocks of (addr << 32 | size) keys not seen before, deduplicating by
        address slot with a scatter (linear in the trace, no sort of millions of keys)."""
        while keys.size:
            slot = np.minimum(keys >> 33, self._id_at.size - 1)
            pick = np.full(self._id_at.size, -1, dtype=np.int64)
            pick[slot] = np.arange(keys.size)
            for key in set(keys[pick[pick >= 0]].tolist()):
                if key not in self._ids:
                    self._new_block(key >> 32, key & 0xFFFFFFFF)
            keys = keys[self._known(keys) < 0]

    def _known(self, keys: np.ndarray) -> np.ndarray:
        """Block ids of (addr << 32 | size) keys, -1 where not seen yet."""
        if self._sorted_keys.size != len(self._ids):
            items = sorted(self._ids.items())
            self._sorted_keys = np.array([k for k, _ in items], dtype=np.int64)
            self._sorted_ids = np.array([v for _, v in items], dtype=np.int32)
        if not self._sorted_keys.size:
            return np.full(keys.size, -1, dtype=np.int32)
        pos = np.minimum(np.searchsorted(self._sorted_keys, keys), self._sorted_keys.size - 1)
        return np.where(self._sorted_keys[pos] == keys, self._sorted_ids[pos], -1).astype(np.int32)

    def account(
        self, addr: np.ndarray, size: np.ndarray, ends: list[int], return_to: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-row (instructions, base cycles, refills) of a trace split at ``ends``.

        A block ending in a conditional branch pays its refill when the next
        block is not its fall-through; each row's last block is followed by
        ``return_to`` (where the call returned).
        """
        ids = self.ids_of(addr, size)
        n_instr, base, p_always, p_if_taken, _ = self._cols
        counts = np.bincount(ids, minlength=n_instr.size)
        if self._executed.size < counts.size:
            self._executed = np.pad(self._executed, (0, counts.size - self._executed.size))
        self._executed[: counts.size] += counts
        nxt = np.empty_like(addr)
        nxt[:-1] = addr[1:]
        last = np.asarray(ends, dtype=np.int64) - 1
        nxt[last] = return_to
        refills = p_always[ids] + (p_if_taken[ids] & (nxt != addr + size))
        starts = np.concatenate(([0], last[:-1] + 1))
        i, b, r = (
            np.add.reduceat(v, starts, dtype=np.int64) for v in (n_instr[ids], base[ids], refills)
        )
        return i, b, r

    def clear_counts(self) -> None:
        self._executed[:] = 0

    def hot_functions(self, top: int = 6) -> list[tuple[str, float]]:
        """(function, share of executed instructions) since :meth:`clear_counts`."""
        starts = [a for a, _ in self._funcs]
        per_func: dict[str, int] = {}
        for bid in np.flatnonzero(self._executed).tolist():
            addr = self._addrs[bid]
            k = bisect.bisect_right(starts, addr) - 1
            name = self._funcs[k][1] if k >= 0 else f"{addr:#x}"
            n = int(self._executed[bid]) * self._costs[bid].n_instr
            per_func[name] = per_func.get(name, 0) + n
        total = sum(per_func.values()) or 1
        ranked = sorted(per_func.items(), key=lambda kv: -kv[1])[:top]
        return [(name, round(n / total, 4)) for name, n in ranked]
