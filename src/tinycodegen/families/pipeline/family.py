"""Pipeline: preprocessing (scalers, encoders, ColumnTransformer) in front of a classifier.
In front of trees the transform folds into the thresholds ("pipeline_tree", in every tree
layout); in front of other families it becomes the IR's transform."""

from functools import partial

from tinycodegen.families.pipeline.emit import emit_pipeline_tree
from tinycodegen.families.pipeline.ir import PipelineTreeIR
from tinycodegen.families.pipeline.loader import load_pipeline
from tinycodegen.families.registry import Family

FAMILY = Family(
    name="pipeline",
    estimators={"Pipeline": load_pipeline},
    kinds=("pipeline_tree",),
    emitters={("pipeline_tree", b): partial(emit_pipeline_tree, backend=b)
              for b in ("table", "inline", "speed", "size")},
    refusals={"pipeline_tree": "--quantize does not take a pipeline folded into trees yet"},
    irs={"pipeline_tree": PipelineTreeIR},
)
