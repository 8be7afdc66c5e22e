"""Quantize a OneClassSVM as the quantized SVC of its one-pair view (see ir/qocsvm.py)."""

from __future__ import annotations

import dataclasses

from tinycodegen.ir.ocsvm import OneClassSVMIR
from tinycodegen.ir.qocsvm import QuantizedOneClassSVMIR
from tinycodegen.passes import register_quantizer
from tinycodegen.passes.qnet_common import Calibration
from tinycodegen.passes.quantize_svm import quantize_svc


@register_quantizer("one_class_svm")
def quantize_ocsvm(ir: OneClassSVMIR, mode: str, calibration: Calibration | None = None
                   ) -> QuantizedOneClassSVMIR:
    svc = dataclasses.replace(ir.svc, meta=ir.meta, transform=ir.transform)
    return QuantizedOneClassSVMIR(q=quantize_svc(svc, mode, calibration), offset=ir.offset)
