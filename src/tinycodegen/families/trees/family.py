"""The tree-ensemble family: DecisionTree, ExtraTree, RandomForest, ExtraTrees; four layouts
(table, inline, speed, size) and the quantized table and speed layouts."""

from tinycodegen.families.registry import Family
from tinycodegen.families.trees.emit_inline import emit_inline
from tinycodegen.families.trees.emit_packed import emit_size
from tinycodegen.families.trees.emit_qspeed import emit_qtree_speed
from tinycodegen.families.trees.emit_quantized import emit_qtree_table
from tinycodegen.families.trees.emit_speed import emit_speed
from tinycodegen.families.trees.emit_table import emit_table
from tinycodegen.families.trees.ir import TreeEnsembleIR
from tinycodegen.families.trees.loader import load_tree_ensemble
from tinycodegen.families.trees.qir import QuantizedTreeIR
from tinycodegen.families.trees.quantize import quantize_trees

FAMILY = Family(
    name="trees",
    estimators={k: load_tree_ensemble for k in ("DecisionTreeClassifier", "ExtraTreeClassifier",
                                        "RandomForestClassifier", "ExtraTreesClassifier")},
    kinds=("tree_ensemble", "qtree_ensemble"),
    emitters={("tree_ensemble", "table"): emit_table, ("tree_ensemble", "inline"): emit_inline,
              ("tree_ensemble", "speed"): emit_speed, ("tree_ensemble", "size"): emit_size,
              ("qtree_ensemble", "table"): emit_qtree_table,
              ("qtree_ensemble", "speed"): emit_qtree_speed},
    quantizers={"tree_ensemble": quantize_trees},
    docs=("README.md",),
    refusals={"qtree_ensemble": "already quantized: its integers are the reference"},
    irs={"tree_ensemble": TreeEnsembleIR, "qtree_ensemble": QuantizedTreeIR},
)
