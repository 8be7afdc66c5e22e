"""Run by test_blas.py in a subprocess, under a forced OPENBLAS_CORETYPE or none: the live
scipy ddot against the replay, then a small SVC (rbf, linear), a soft vote of a
CalibratedClassifierCV(SVC) and a forest, and a stacking of an SVC and a forest, compiled and
checked on all of KDDTest+. Prints one JSON line.
Usage: python blas_live.py <expected order or "">"""

from __future__ import annotations

import json
import sys
import warnings

import numpy as np


def main(expected: str) -> dict:
    from scipy.linalg.blas import ddot
    from sklearn.svm import SVC

    import tinycodegen
    from blas_helpers import golden_cases, replay
    from svm_helpers import nsl_split, nsl_subsample
    from tinycodegen.check import check
    from tinycodegen.families.svm.loader import aligned_copy, blas_name, host_dot

    out: dict = {"blas": blas_name()}
    orders = {n: host_dot(n).order for n in (5, 16, 17, 31, 32, 33, 41, 48, 122)}
    out["order"] = orders[41]
    exact = {n: host_dot(n).exact for n in orders}
    out["exact"] = all(exact.values())
    order = expected or out["order"]
    x, y, n = golden_cases()
    live = np.array([ddot(aligned_copy(x[i, :n[i]]), aligned_copy(y[i, :n[i]]))
                     for i in range(600)])
    out["ddot_mismatches"] = int((live != replay(order, x[:600], y[:600], n[:600])).sum())
    X, yy, scaling = nsl_subsample(500)
    Xt = nsl_split("test", scaling)
    out["svc"] = {}
    for kernel in ("rbf", "linear"):
        model = SVC(kernel=kernel, C=10.0).fit(X, yy)
        compiled = tinycodegen.compile(model, name=f"live_{kernel}")
        rep = check(compiled, Xt, data="test", proba=False, reference=False)
        z = compiled.ir.inputs(Xt[:2000])[1]
        dec = compiled.ir.sklearn_decision(compiled.ir.exact_decision_values(z)).ravel()
        want = model.decision_function(Xt[:2000].astype(np.float64))
        c_dec = compiled.call("decision_function", Xt)[:, 0]
        out["svc"][kernel] = {
            "rows": rep.rows, "mismatches": rep.mismatches,
            "guarantee": compiled.source.guarantee, "n_sv": int(len(model.support_vectors_)),
            "dec64_mismatches": int((dec != want).sum()),
            "dec32_mismatches": int((c_dec != model.decision_function(
                Xt.astype(np.float64)).astype(np.float32)).sum()),
        }
    out["hybrid"] = {}
    for kind, model in hybrids(SVC).items():
        compiled = tinycodegen.compile(model.fit(X, yy), name=f"live_{kind}")
        rep = check(compiled, Xt, data="test", proba=kind != "stack", reference=False)
        out["hybrid"][kind] = {"rows": rep.rows, "mismatches": rep.mismatches,
                               "proba_mismatches": rep.proba_mismatches,
                               "guarantee": compiled.source.guarantee}
    return out


def hybrids(svc: type) -> dict:
    """Composite models with an SVC member: the study's calibrated soft vote, and stacking."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import RandomForestClassifier, StackingClassifier, VotingClassifier
    from sklearn.linear_model import LogisticRegression

    def forest() -> RandomForestClassifier:
        return RandomForestClassifier(5, max_depth=6, random_state=0)

    calibrated = CalibratedClassifierCV(svc(kernel="rbf", C=10.0), ensemble=False, cv=3)
    return {
        "calibrated_vote": VotingClassifier([("svm", calibrated), ("rf", forest())],
                                            voting="soft"),
        "stack": StackingClassifier([("svm", svc(kernel="rbf", C=10.0)), ("rf", forest())],
                                    final_estimator=LogisticRegression(), cv=3),
    }


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    print(json.dumps(main(sys.argv[1] if len(sys.argv) > 1 else "")))
