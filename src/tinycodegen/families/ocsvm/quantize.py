"""Quantize a OneClassSVM as the quantized SVC of its one-pair view (see ir/qocsvm.py)."""

from __future__ import annotations

import dataclasses

from tinycodegen.core.qnet_common import Calibration
from tinycodegen.families.ocsvm.ir import OneClassSVMIR
from tinycodegen.families.ocsvm.qir import QuantizedOneClassSVMIR
from tinycodegen.families.svm.quantize import quantize_svc


def quantize_ocsvm(ir: OneClassSVMIR, mode: str, calibration: Calibration | None = None
                   ) -> QuantizedOneClassSVMIR:
    svc = dataclasses.replace(ir.svc, meta=ir.meta, transform=ir.transform)
    return QuantizedOneClassSVMIR(q=quantize_svc(svc, mode, calibration), offset=ir.offset)
