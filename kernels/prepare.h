/* prepare.h - from an imported graph to a static, folded graph ready to plan and run.
 *
 * Steps: resolve every node's op (all unsupported op types are reported at once, one node name
 * each); check that every graph input has a static shape; infer shapes in topological order;
 * fold every node whose inputs are all constant (and Shape-like nodes always); fold inference
 * BatchNormalizations into the Conv that feeds them (its weights and bias rescaled once); fuse the
 * bias, residual and activation (Relu, GELU) after a MatMul of constant weights into a FusedMatMul
 * (domain ai.fluidtune, ops.h); mark views as aliases of their input; drop nodes whose outputs nobody
 * needs.
 */
#ifndef FT_PREPARE_H
#define FT_PREPARE_H

#include "graph.h"

/* Fixes the shape of graph input `name` (a --shape NAME=D0,D1,... argument). FT_ERR_INPUT when no
 * such input exists, the rank differs, or a static dim disagrees. */
int ft_graph_set_input_shape(ft_graph *g, const char *name, const ft_shape *shape, ft_error *err);
/* Runs the steps above. FT_ERR_UNSUPPORTED lists every unsupported op; FT_ERR_INPUT names the input
 * whose shape is still dynamic, or the node whose shapes do not fit. */
int ft_graph_prepare(ft_graph *g, ft_error *err);

enum {
    /* Leave MatMul epilogues unfused (to measure what fusion brings, or to look at the ONNX graph
     * as written). */
    FT_PREPARE_NO_FUSION = 1u << 0
};
int ft_graph_prepare_ex(ft_graph *g, unsigned flags, ft_error *err);

#endif
