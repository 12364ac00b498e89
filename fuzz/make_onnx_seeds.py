#!/usr/bin/python3
"""make_onnx_seeds.py - seeds for fuzz_onnx from ONNX's conformance node tests.

    /usr/bin/python3 fuzz/make_onnx_seeds.py OUT_DIR TEST_ROOT...

Node tests feed shape operands (Reshape's shape, Slice's starts, Pad's pads...) as graph inputs, which
an imported graph cannot fold, so most of prepare's shape inference would stay out of the fuzzer's
reach. Each test here becomes a model with its integer inputs bound as initializers (the values of
test_data_set_0), plus variants with extreme integers: every INT/INTS attribute and every bound
integer input set in turn to values near the int32 and int64 limits, zero and -1. They reach the
arithmetic of shape inference and constant folding where overflow hides.
"""
import glob
import os
import sys

import warnings

import onnx
from onnx import numpy_helper

EXTREMES = [2**63 - 1, -(2**63), 2**62, 2**31, -(2**31), 2**31 - 1, 0, -1]
INT_TYPES = {onnx.TensorProto.INT64, onnx.TensorProto.INT32}


def bind_int_inputs(model, test_dir):
    """Turns integer graph inputs with a value in test_data_set_0 into initializers."""
    inputs = list(model.graph.input)
    init_names = {t.name for t in model.graph.initializer}
    runtime = [i for i in inputs if i.name not in init_names]
    bound = []
    for k, vi in enumerate(runtime):
        if vi.type.tensor_type.elem_type not in INT_TYPES:
            continue
        pb = os.path.join(test_dir, "test_data_set_0", f"input_{k}.pb")
        if not os.path.exists(pb):
            continue
        t = onnx.TensorProto()
        with open(pb, "rb") as f:
            t.ParseFromString(f.read())
        t.name = vi.name
        model.graph.initializer.append(t)
        model.graph.input.remove(vi)
        bound.append(t.name)
    return bound


def variants(model, bound):
    """Yields (tag, model) with one integer changed to an extreme value."""
    for ni, node in enumerate(model.graph.node):
        for ai, attr in enumerate(node.attribute):
            if attr.type == onnx.AttributeProto.INT:
                for v in EXTREMES[:5]:
                    m = onnx.ModelProto()
                    m.CopyFrom(model)
                    m.graph.node[ni].attribute[ai].i = v
                    yield f"n{ni}a{ai}_{v}", m
            elif attr.type == onnx.AttributeProto.INTS and len(attr.ints):
                for v in EXTREMES[:5]:
                    m = onnx.ModelProto()
                    m.CopyFrom(model)
                    m.graph.node[ni].attribute[ai].ints[-1] = v
                    yield f"n{ni}a{ai}_{v}", m
    for name in bound:
        for ti, t in enumerate(model.graph.initializer):
            if t.name != name:
                continue
            arr = numpy_helper.to_array(t)
            if arr.size == 0:
                continue
            for v in EXTREMES:
                a = arr.copy().reshape(-1)
                try:
                    a[-1] = v
                except OverflowError:
                    continue
                m = onnx.ModelProto()
                m.CopyFrom(model)
                nt = numpy_helper.from_array(a.reshape(arr.shape), name)
                m.graph.initializer[ti].CopyFrom(nt)
                yield f"i{ti}_{v}", m


def main():
    warnings.simplefilter("ignore")  # numpy warns when an extreme value wraps in a narrower type
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    n = 0
    for root in sys.argv[2:]:
        for path in sorted(glob.glob(os.path.join(root, "*", "model.onnx"))):
            test_dir = os.path.dirname(path)
            name = os.path.basename(test_dir)
            try:
                model = onnx.load(path)
                bound = bind_int_inputs(model, test_dir)
            except Exception:  # a test the onnx package cannot read is not a seed
                continue
            if not bound and not any(a.type in (onnx.AttributeProto.INT, onnx.AttributeProto.INTS)
                                     for nd in model.graph.node for a in nd.attribute):
                continue
            with open(os.path.join(out, f"{name}.onnx"), "wb") as f:
                f.write(model.SerializeToString())
            n += 1
            for tag, m in variants(model, bound):
                data = m.SerializeToString()
                if len(data) > 65536:
                    continue
                with open(os.path.join(out, f"{name}_{tag}.onnx"), "wb") as f:
                    f.write(data)
                n += 1
    print(f"{n} seeds")


if __name__ == "__main__":
    main()
