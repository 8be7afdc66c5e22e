"""The interface between a tree walk strategy and an aggregation (see ``README.md`` here).

A walk strategy (``emit_table``, ``emit_inline``, ``emit_speed``, ``emit_packed``) writes the
code that takes one row to one leaf per tree; an aggregation turns the leaves into predict,
predict_proba and proba64. ``emit_common.tree_source`` puts the two together.
"""

from __future__ import annotations

from typing import Any, Protocol


class LeafSums(Protocol):
    """How the walks add one leaf to the fast accumulator ``acc`` (C statements)."""

    decl: str  # before the adds (declarations), ends with a newline or is empty
    store: str  # after the adds (into acc), ends with a newline or is empty
    single: bool  # one accumulator column (acc needs no zero-initialisation)

    def add(self, leaf: str) -> str:
        """C statement(s) adding leaf number ``leaf`` (a C expression) to the accumulator."""
        ...


class Aggregation(Protocol):
    """What a new ensemble (a boosted model's sum and link, say) implements."""

    runtime: tuple[str, ...]  # c_runtime headers its code includes (besides the walks')

    def sums(self, ir: Any, name: str) -> LeafSums:
        """The fast accumulation the walks inline (fast path of NAME_decide)."""
        ...

    def doc(self, ir: Any) -> str:
        """Header comment lines (" * ...\\n") saying what predict guarantees."""
        ...

    def code(self, ir: Any, name: str, fast_sum: str, **parts: Any) -> str:
        """The C after the walks' node tables: leaf tables, ``parts["walk_code"]`` (the walks),
        the input preparation, NAME_proba64, NAME_decide (``fast_sum`` + the decision),
        NAME_predict, NAME_predict_proba. ``parts``: walk (WalkInput), leaf_args, walk_code,
        leaf_expr (C expression of tree t's leaf), proba_pre (statements before the exact
        replay), fast (the non-size layouts' faster forms)."""
        ...
