#!/usr/bin/python3
"""Writes the small hostile ONNX files that tests/cli/bad_input.sh feeds to fluidtune.

Run with Debian's /usr/bin/python3 (python3-onnx). The outputs are committed; rerun only to change them.
"""
import os
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def save(name, graph, opset=17):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(model.SerializeToString())


def x_in(shape=(2, 3)):
    return helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))


def y_out():
    return helper.make_tensor_value_info("y", TensorProto.FLOAT, None)


# a valid tiny model, the base of the truncation test
save("valid.onnx", helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="relu")], "valid", [x_in()], [y_out()]))

# two nodes that feed each other
save("cycle.onnx", helper.make_graph([
    helper.make_node("Add", ["x", "b"], ["a"], name="add_a"),
    helper.make_node("Relu", ["a"], ["b"], name="relu_b"),
    helper.make_node("Relu", ["a"], ["y"], name="out")], "cycle", [x_in()], [y_out()]))

# an initializer whose raw bytes are shorter than its shape says
w = numpy_helper.from_array(np.ones((2, 3), np.float32), "w_short")
w.raw_data = w.raw_data[:-4]
save("size_mismatch.onnx", helper.make_graph([helper.make_node("Add", ["x", "w_short"], ["y"], name="add")],
                                             "size_mismatch", [x_in()], [y_out()], [w]))

# a negative dim on an initializer
neg = TensorProto(name="w_neg", data_type=TensorProto.FLOAT, dims=[2, -3])
save("negative_dim.onnx", helper.make_graph([helper.make_node("Add", ["x", "w_neg"], ["y"], name="add")],
                                            "negative_dim", [x_in()], [y_out()], [neg]))

# a node input that nothing produces
save("missing_initializer.onnx", helper.make_graph([helper.make_node("Add", ["x", "w_missing"], ["y"], name="add")],
                                                   "missing", [x_in()], [y_out()]))

# two operator types fluidtune does not claim
save("unsupported_op.onnx", helper.make_graph([
    helper.make_node("Celu", ["x"], ["a"], name="celu_node"),
    helper.make_node("Celu", ["a"], ["b"], name="celu_again"),
    helper.make_node("Hardmax", ["b"], ["y"], name="hardmax_node")], "unsupported", [x_in()], [y_out()]))

# external data that leaves the model's folder
ext = TensorProto(name="w_ext", data_type=TensorProto.FLOAT, dims=[2, 3])
ext.data_location = TensorProto.EXTERNAL
for k, v in (("location", "../../../../etc/passwd"), ("offset", "0"), ("length", "24")):
    e = ext.external_data.add()
    e.key, e.value = k, v
save("external_escape.onnx", helper.make_graph([helper.make_node("Add", ["x", "w_ext"], ["y"], name="add")],
                                               "external_escape", [x_in()], [y_out()], [ext]))

# an absolute external data path
ext_abs = TensorProto(name="w_abs", data_type=TensorProto.FLOAT, dims=[2, 3])
ext_abs.data_location = TensorProto.EXTERNAL
e = ext_abs.external_data.add()
e.key, e.value = "location", "/etc/hostname"
save("external_absolute.onnx", helper.make_graph([helper.make_node("Add", ["x", "w_abs"], ["y"], name="add")],
                                                 "external_absolute", [x_in()], [y_out()], [ext_abs]))

# a shape computed at load time that would need petabytes
huge = numpy_helper.from_array(np.array([1 << 20, 1 << 20, 1 << 20], np.int64), "huge_shape")
save("absurd_shape.onnx", helper.make_graph([
    helper.make_node("ConstantOfShape", ["huge_shape"], ["big"], name="make_big"),
    helper.make_node("Add", ["x", "big"], ["y"], name="add")], "absurd", [x_in((1, 1))], [y_out()], [huge]))

# a dynamic input dim that must be fixed with --shape
dyn = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])
save("dynamic.onnx", helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="relu")], "dynamic", [dyn],
                                       [y_out()]))

# shapes that do not fit: MatMul of [2,3] by [4,5]
mm = numpy_helper.from_array(np.ones((4, 5), np.float32), "w_mm")
save("shape_mismatch.onnx", helper.make_graph([helper.make_node("MatMul", ["x", "w_mm"], ["y"], name="matmul_bad")],
                                              "shape_mismatch", [x_in()], [y_out()], [mm]))

# fluidtune's own FusedMatMul (domain ai.fluidtune) written into a model with an activation it lacks
fw = numpy_helper.from_array(np.ones((3, 4), np.float32), "w_fused")
g = helper.make_graph([helper.make_node("FusedMatMul", ["x", "w_fused"], ["y"], name="fused_bad",
                                        domain="ai.fluidtune", activation="swish")],
                      "fused_activation", [x_in()], [y_out()], [fw])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.fluidtune", 1)])
m.ir_version = 8
onnx.save(m, os.path.join(HERE, "fused_activation.onnx"))

with open(os.path.join(HERE, "not_onnx.onnx"), "w") as f:
    f.write("this is a text file, not an ONNX model\n")
print("wrote", sorted(p for p in os.listdir(HERE) if p.endswith(".onnx")))
