/* registry.h - tuned kernels: layouts, candidates, kernel families, and the registry that lists them.
 *
 * A candidate is one way to compute one node: the layouts it reads its inputs in and writes its
 * output in, plus the tiling knobs of its kernel family. Every candidate computes exactly what the
 * node's reference kernel (ops.h) computes; the sweep checks that before timing it.
 */
#ifndef FT_REGISTRY_H
#define FT_REGISTRY_H

#include "graph.h"

#define FT_MAX_IO 8
#define FT_MAX_PARAMS 12

/* A permutation of a tensor's logical axes: perm[p] is the logical axis stored at physical
 * position p, outermost first. The identity is row-major. rank 0 tensors have the empty layout.
 *
 * A blocked layout (block > 1) also splits logical axis block_axis into [dim / block][block]: the
 * outer part sits where perm puts block_axis, the inner `block` elements are innermost. Blocking
 * never pads: it fits a shape only when block divides the axis. NCHW16c is perm 0123, block_axis 1,
 * block 16; NHWC is perm 0231, unblocked. Layouts built by hand must zero block (an aggregate
 * initializer or ft_layout_identity does). */
typedef struct ft_layout {
    int rank;
    uint8_t perm[FT_MAX_RANK];
    uint8_t block_axis;
    uint8_t block; /* 0 or 1: not blocked */
} ft_layout;

/* The channel block of the NCHWc layouts the Conv families offer: one AVX-512 vector of floats (two
 * AVX2 vectors, four NEON ones). One value on every machine, so databases of different machines
 * hold the same candidates. */
#define FT_CONV_BLOCK 16

void ft_layout_identity(ft_layout *l, int rank);
int ft_layout_is_identity(const ft_layout *l);
int ft_layout_equal(const ft_layout *a, const ft_layout *b);
static inline int ft_layout_blocked(const ft_layout *l)
{
    return l->block > 1;
}
/* The layout is a permutation of s's rank and, when blocked, its block divides its axis. */
int ft_layout_fits(const ft_layout *l, const ft_shape *s);
/* Strides in elements of each LOGICAL axis for a tensor of logical shape s stored in layout l.
 * Unblocked layouts only (a blocked axis has no single stride: see ft_layout_split). */
void ft_layout_strides(const ft_layout *l, const ft_shape *s, int64_t *strides);
/* The element offset of logical index idx in a tensor of shape s stored in l (blocked or not). */
int64_t ft_layout_offset(const ft_layout *l, const ft_shape *s, const int64_t *idx);
/* The same bytes seen as a tensor of rank s->rank + 1 whose logical axis `axis` is split into
 * [dims[axis] / block][block] (logical axes axis and axis + 1 of *s2): for a blocked l, split at its
 * own block (axis and block are ignored); for an unblocked l, split as asked. *l2 is then an
 * unblocked permutation of *s2. -1 when the split does not fit (block does not divide the axis, the
 * rank would exceed FT_MAX_RANK). */
int ft_layout_split(const ft_layout *l, const ft_shape *s, int axis, int block, ft_layout *l2, ft_shape *s2);
/* "0213"-style text of the permutation (rank <= 10), "0123b1x16" when blocked, "-" for rank 0. */
char *ft_layout_str(const ft_layout *l, char *buf, size_t n);
/* Two layouts are the same bytes for shape s when they differ only in where size-1 axes sit (or in
 * a block that is the whole axis against that axis stored innermost). */
int ft_layout_equivalent(const ft_layout *a, const ft_layout *b, const ft_shape *s);

struct ft_kernel_family;

typedef struct ft_candidate {
    const struct ft_kernel_family *family;
    int n_in;
    ft_layout in_layout[FT_MAX_IO]; /* one per node input (ignored for omitted inputs) */
    ft_layout out_layout;           /* of output 0; further outputs are row-major */
    int32_t params[FT_MAX_PARAMS];  /* family-specific knobs (tile sizes, ISA, unroll...) */
    char key[160];                  /* stable, readable: "matmul/avx512/14x32/mc112kc256nc1024/A:012,B:021" */
} ft_candidate;

typedef struct ft_layout_set {
    int n;
    ft_layout l[6];
} ft_layout_set;

typedef struct ft_candidate_list {
    int n, cap;
    ft_candidate *items;
    /* Layouts worth trying beyond row-major, per node input and for output 0. The caller fills them
     * from the graph (search/hints.c: the layouts that turn a nearby Transpose into a relabelling and
     * that flow unchanged through layout-agnostic ops); empty sets mean row-major only. A family
     * enumerates row-major plus these, and may ignore those it cannot read or write. */
    ft_layout_set in_hints[FT_MAX_IO];
    ft_layout_set out_hints;
} ft_candidate_list;

/* Zeroes c and sets its family and row-major layouts for every input and the output. */
void ft_candidate_init(ft_candidate *c, const struct ft_kernel_family *f, const ft_node *n, ft_tensor *const *in,
                       ft_tensor *const *out);
/* Appends a copy of c (its key must be set) unless a candidate with that key is already there;
 * returns 0, or -1 on allocation failure. */
int ft_candidate_list_push(ft_candidate_list *l, const ft_candidate *c);
void ft_candidate_list_free(ft_candidate_list *l);

/* What a kernel sees when it runs. Tensors carry LOGICAL shapes; their data is laid out as the
 * candidate's layouts say (physical order), so strides come from ft_layout_strides. */
typedef struct ft_kernel_ctx {
    const ft_node *node;
    int n_in, n_out;
    ft_tensor *const *in; /* NULL for an omitted optional input */
    ft_tensor *const *out;
    const ft_candidate *cand;
    void *state;   /* what prepare returned (pre-packed weights...), NULL if none */
    void *scratch; /* scratch_bytes from prepare, 64-byte aligned, owned by the caller */
    ft_error *err;
    /* Set by prepare: bit j when input j is a constant the kernel copied (re-laid out) into its state
     * and will never read again, so the runtime may free the original bytes. */
    unsigned released;
} ft_kernel_ctx;

typedef struct ft_kernel_family {
    const char *name;    /* "matmul.gemm", "eltwise.binary", "transpose.tiled" ... */
    const char *op_type; /* the ONNX op it implements */
    /* Adds this family's candidates for the node (shapes, dtypes and constant inputs are known).
     * Candidates are pruned here: no duplicates, no layouts that only move size-1 axes, no tiles
     * larger than the problem. The first candidate added is the family's default. */
    int (*enumerate)(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, ft_candidate_list *list,
                     ft_error *err);
    /* Optional (may be NULL): once per session, before any run. May pre-pack constant inputs
     * (ctx->in[i]->flags & FT_T_CONST) into *state and ask for scratch bytes. */
    int (*prepare)(ft_kernel_ctx *ctx, void **state, size_t *scratch_bytes);
    void (*release)(void *state);
    /* Computes the outputs. Must not allocate. */
    int (*run)(ft_kernel_ctx *ctx);
    /* FT_FAMILY_ALIAS: output 0 is input 0's bytes relabelled (a Transpose whose output layout makes
     * it a no-op, a view); run does nothing and the plan aliases the two tensors. */
    unsigned flags;
} ft_kernel_family;

enum { FT_FAMILY_ALIAS = 1u << 0 };

/* The layout of a Transpose's output that stores it in exactly its input's bytes: with input layout
 * in and the node's permutation perm (output axis j is input axis perm[j]). */
void ft_layout_after_transpose(const ft_layout *in, const int64_t *perm, ft_layout *out);

/* Every candidate of every family for this node, the default first (see ft_registry_default). */
int ft_registry_enumerate(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, ft_candidate_list *list,
                          ft_error *err);
/* The candidate the default plan uses: row-major layouts everywhere and the fastest family's
 * default knobs; the reference kernel wrapped as a candidate when no tuned family covers the node. */
int ft_registry_default(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, ft_candidate *out_cand,
                        ft_error *err);
/* The family with this name, or NULL. */
const ft_kernel_family *ft_registry_family(const char *name);
/* The wrapped reference kernel of an op, as a family (identity layouts only). */
extern const ft_kernel_family ft_family_reference;

#endif
