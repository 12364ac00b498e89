/* ops.h - the operator table: shape inference and the reference kernel of every supported op.
 *
 * Reference kernels are plain, obviously-correct C on row-major contiguous data: they are the
 * oracle every tuned kernel is checked against, never the fast path.
 */
#ifndef FT_OPS_H
#define FT_OPS_H

#include "graph.h"

typedef struct ft_op_ctx {
    const ft_node *node; /* name, attributes, opset */
    int n_in, n_out;
    ft_tensor *const *in; /* in[i] is NULL for an omitted optional input */
    ft_tensor *const *out; /* out[i] is NULL for an omitted optional output (never out[0]) */
    ft_error *err;
} ft_op_ctx;

enum {
    /* Output 0 has exactly the bytes of input 0 (Reshape, Flatten, Squeeze, Unsqueeze, Identity,
     * Dropout): run is NULL; the executor aliases, constant folding copies. */
    FT_OP_VIEW = 1u << 0,
    /* Output depends only on input shapes (Shape, Size): always folded at load time. */
    FT_OP_SHAPE_ONLY = 1u << 1,
    /* Elementwise with a broadcast: output may reuse input 0's buffer when shapes and dtypes match. */
    FT_OP_ELEMENTWISE = 1u << 2
};

typedef struct ft_op_def {
    const char *name; /* ONNX op_type, default domain */
    int min_in, max_in, min_out, max_out;
    unsigned flags;
    /* Sets out[i]->dtype and out[i]->shape from the inputs' dtypes and shapes, and from the values
     * of constant inputs (in[i]->flags & FT_T_CONST) where the op needs them (Reshape's shape,
     * Slice's starts...). Returns FT_OK, or FT_ERR_INPUT / FT_ERR_UNSUPPORTED with a message that
     * names ctx->node->name. Never reads in[i]->data of a non-constant input. */
    int (*infer)(ft_op_ctx *ctx);
    /* Computes out[i]->data (allocated by the caller to the inferred size) from in[i]->data. */
    int (*run)(ft_op_ctx *ctx);
} ft_op_def;

/* Each kernels/ref file exports one table terminated by an entry with name == NULL. */
extern const ft_op_def ft_ops_elementwise[]; /* kernels/ref/elementwise.c */
extern const ft_op_def ft_ops_reduce[];      /* kernels/ref/reduce.c: reductions, Softmax, norms */
extern const ft_op_def ft_ops_linalg[];      /* kernels/ref/linalg.c: MatMul, Gemm */
extern const ft_op_def ft_ops_conv[];        /* kernels/ref/conv.c: Conv, pools */
extern const ft_op_def ft_ops_shape[];       /* kernels/ref/shape_ops.c: data movement and views */
/* fluidtune's own ops, in domain FT_DOMAIN: what prepare's fusions make (FusedMatMul). */
extern const ft_op_def ft_ops_fluidtune[];        /* kernels/ref/linalg.c */
#define FT_DOMAIN "ai.fluidtune"
/* FusedMatMul's activation attribute ("none", "relu", "gelu"): one of these, or -1 for a name it does
 * not know. */
enum { FT_FUSED_NONE = 0, FT_FUSED_RELU = 1, FT_FUSED_GELU = 2 };
int ft_fused_activation(const ft_node *n);
/* The layout conversion the solver inserts between a producer and a consumer that disagree: in
 * logical terms an Identity; its tuned kernel (kernels/fast) moves the bytes between layouts. */
extern const ft_op_def ft_op_reorder;

/* The op for (domain, op_type), or NULL when unsupported. domain "" and "ai.onnx" are the same;
 * FT_DOMAIN holds fluidtune's own ops. */
const ft_op_def *ft_op_find(const char *domain, const char *op_type);
/* Calls fn for every supported op name, in table order. */
void ft_op_foreach(void (*fn)(const ft_op_def *op, void *user), void *user);

/* Numpy-style multidirectional broadcast of a and b into out. FT_ERR_INPUT if incompatible. */
int ft_broadcast_shape(const ft_shape *a, const ft_shape *b, ft_shape *out);
/* Normalises a possibly negative axis against rank into *out (0..rank-1, or 0..rank when
 * allow_end, as Unsqueeze needs). Returns 0, or -1 when out of range. */
int ft_normalize_axis(int64_t axis, int rank, int allow_end, int *out);
/* Reads element i of a constant int32/int64 tensor as int64 (for axes, shapes, pads...). */
int64_t ft_tensor_get_i64(const ft_tensor *t, int64_t i);
/* Reads element i of a float/double/int tensor as double (for Clip bounds, ConstantOfShape...). */
double ft_tensor_get_f64(const ft_tensor *t, int64_t i);

#endif
