/* fast_harness.h - checks tuned-kernel candidates against the reference kernel: a one-node case
 * (op_harness.h) is run by the reference on row-major data, then every candidate runs on copies
 * laid out as it says, through prepare/run/release exactly as kernels/executor.c calls them.
 * Also runs a whole test model through the default plan against its PyTorch outputs. */
#ifndef FT_FAST_HARNESS_H
#define FT_FAST_HARNESS_H

#include <math.h>

#include "executor.h"
#include "fast/linalg_internal.h"
#include "onnx_import.h"
#include "op_harness.h"
#include "plan.h"
#include "prepare.h"
#include "registry.h"
#include "tensor_io.h"

typedef struct fh_rng {
    uint64_t s;
} fh_rng;

static inline uint64_t fh_next(fh_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static inline int64_t fh_range(fh_rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(fh_next(r) % (uint64_t)(hi - lo + 1));
}

static inline void fh_random_perm(fh_rng *r, int rank, ft_layout *l)
{
    ft_layout_identity(l, rank);
    for (int i = rank - 1; i > 0; i--) {
        int j = (int)fh_range(r, 0, i);
        uint8_t t = l->perm[i];
        l->perm[i] = l->perm[j];
        l->perm[j] = t;
    }
}

/* Copies a row-major tensor of shape s into layout l (to_layout) or back (from_layout). */
static inline void fh_relayout(const float *src, const ft_shape *s, const ft_layout *l, float *dst, int to_layout)
{
    int64_t st[FT_MAX_RANK], idx[FT_MAX_RANK] = {0}, n = ft_shape_numel(s), off = 0;
    ft_layout_strides(l, s, st);
    for (int64_t i = 0; i < n; i++) {
        if (to_layout) dst[off] = src[i];
        else dst[i] = src[off];
        for (int a = s->rank - 1; a >= 0; a--) {
            off += st[a];
            if (++idx[a] < s->dims[a]) break;
            off -= st[a] * s->dims[a];
            idx[a] = 0;
        }
    }
}

static inline float *fh_alloc_f32(int64_t n, float fill)
{
    float *p = aligned_alloc(64, ((size_t)(n > 0 ? n : 1) * sizeof(float) + 63) / 64 * 64);
    assert_non_null(p);
    for (int64_t i = 0; i < n; i++) p[i] = fill;
    return p;
}

/* Relative L2 distance of got from want; infinity if got holds a NaN or infinity. */
static inline double fh_rel_l2(const float *got, const float *want, int64_t n)
{
    double num = 0.0, den = 0.0;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(got[i])) return INFINITY;
        double d = (double)got[i] - (double)want[i];
        num += d * d;
        den += (double)want[i] * want[i];
    }
    return den > 0.0 ? sqrt(num / den) : sqrt(num);
}

/* Runs candidate cand on case c, whose c->out[0] already holds the reference result, and returns
 * the relative L2 error of its output. The output and the scratch are poisoned with NaN before
 * each of two runs (so unwritten elements and reads of stale scratch show), and input
 * packed_input (-1: none), which the candidate pre-packs, is poisoned after prepare (so a kernel
 * that still reads it shows). */
static inline double fh_check_candidate(oh_case *c, const ft_candidate *cand, int packed_input)
{
    const ft_kernel_family *f = cand->family;
    ft_tensor ins[OH_MAX], outt = *c->out[0];
    ft_tensor *in[OH_MAX], *out[1] = {&outt};
    for (int i = 0; i < c->n_in; i++) {
        in[i] = NULL;
        if (!c->in[i]) continue;
        ins[i] = *c->in[i];
        int64_t n = ft_shape_numel(&ins[i].shape);
        ins[i].data = fh_alloc_f32(n, 0.0f);
        fh_relayout(c->in[i]->data, &ins[i].shape, &cand->in_layout[i], ins[i].data, 1);
        in[i] = &ins[i];
    }
    int64_t n_out = ft_shape_numel(&outt.shape);
    outt.data = fh_alloc_f32(n_out, NAN);
    ft_error err = {0};
    ft_kernel_ctx ctx = {&c->node, c->n_in, 1, in, out, cand, NULL, NULL, &err, 0};
    void *state = NULL;
    size_t scratch_bytes = 0;
    if (f->prepare) {
        int rc = f->prepare(&ctx, &state, &scratch_bytes);
        if (rc != FT_OK) fail_msg("%s: prepare failed: %s", cand->key, err.msg);
    }
    if (packed_input >= 0) {
        assert_true(in[packed_input]->flags & FT_T_CONST);
        float *x = in[packed_input]->data;
        for (int64_t k = 0; k < ft_shape_numel(&in[packed_input]->shape); k++) x[k] = NAN;
    }
    int64_t scratch_floats = (int64_t)((scratch_bytes + sizeof(float) - 1) / sizeof(float));
    float *scratch = scratch_bytes ? fh_alloc_f32(scratch_floats, NAN) : NULL;
    ctx.state = state;
    ctx.scratch = scratch;
    float *got = fh_alloc_f32(n_out, 0.0f);
    double worst = 0.0;
    for (int rep = 0; rep < 2; rep++) {
        for (int64_t k = 0; k < n_out; k++) ((float *)outt.data)[k] = NAN;
        for (int64_t k = 0; k < scratch_floats; k++) scratch[k] = NAN;
        int rc = f->run(&ctx);
        if (rc != FT_OK) fail_msg("%s: run failed: %s", cand->key, err.msg);
        fh_relayout(outt.data, &outt.shape, &cand->out_layout, got, 0);
        double e = fh_rel_l2(got, c->out[0]->data, n_out);
        if (e > worst || e != e) worst = e;
    }
    if (f->release && state) f->release(state);
    free(got);
    free(scratch);
    free(outt.data);
    for (int i = 0; i < c->n_in; i++)
        if (in[i]) free(ins[i].data);
    return worst;
}

/* Runs model DIR/model.onnx through the default plan on test_data_set_0 and compares every output
 * with PyTorch's (rtol 1e-4, atol 1e-5); returns how many nodes of op_type ran family `family`. */
static inline int fh_run_model(const char *dir, const char *op_type, const char *family)
{
    char path[512];
    ft_error err = {0};
    ft_graph *g = NULL;
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    if (ft_onnx_load(path, &g, &err) != FT_OK || ft_graph_prepare(g, &err) != FT_OK) fail_msg("%s: %s", path, err.msg);
    ft_plan *plan = NULL;
    assert_int_equal(ft_plan_default(g, &plan, &err), FT_OK);
    int served = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].op_type, op_type) == 0) {
            assert_string_equal(plan->cand[i].family->name, family);
            served++;
        }
    ft_plan_destroy(plan);
    ft_session *s = NULL;
    if (ft_session_create(g, &s, &err) != FT_OK) fail_msg("%s: %s", path, err.msg);
    for (int i = 0; i < g->n_inputs; i++) {
        ft_tensor t;
        snprintf(path, sizeof path, "%s/test_data_set_0/input_%d.pb", dir, i);
        if (ft_tensor_read_pb(path, &t, &err) != FT_OK) fail_msg("%s", err.msg);
        if (ft_session_set_input(s, i, &t, &err) != FT_OK) fail_msg("%s", err.msg);
        ft_tensor_clear(&t);
    }
    if (ft_session_run(s, &err) != FT_OK) fail_msg("%s: %s", dir, err.msg);
    for (int i = 0; i < g->n_outputs; i++) {
        ft_tensor want;
        snprintf(path, sizeof path, "%s/test_data_set_0/output_%d.pb", dir, i);
        if (ft_tensor_read_pb(path, &want, &err) != FT_OK) fail_msg("%s", err.msg);
        const ft_tensor *got = ft_session_output(s, i);
        assert_true(ft_shape_equal(&got->shape, &want.shape));
        const float *x = got->data, *y = want.data;
        for (int64_t k = 0; k < ft_shape_numel(&want.shape); k++) {
            double tol = 1e-5 + 1e-4 * fabs((double)y[k]);
            if (!(fabs((double)x[k] - (double)y[k]) <= tol))
                fail_msg("%s output %d element %lld: got %g, want %g", dir, i, (long long)k, (double)x[k],
                         (double)y[k]);
        }
        ft_tensor_clear(&want);
    }
    ft_session_destroy(s);
    ft_graph_destroy(g);
    return served;
}

#endif
