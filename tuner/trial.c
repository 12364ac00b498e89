/* trial.c - seeded inputs, reference outputs, and one candidate wired to them. */
#include "trial.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

#define FT_TRIAL_MAX_IO (2 * FT_MAX_IO)

struct ft_trial_ref {
    const ft_node *node;
    int n_in, n_out;
    ft_tensor in[FT_TRIAL_MAX_IO]; /* row-major values; data owned unless the graph's constant */
    int in_present[FT_TRIAL_MAX_IO];
    int in_owned[FT_TRIAL_MAX_IO];
    ft_tensor out[FT_TRIAL_MAX_IO]; /* reference outputs, owned */
    int out_present[FT_TRIAL_MAX_IO];
};

struct ft_trial {
    const ft_trial_ref *ref;
    ft_candidate cand;
    ft_tensor in[FT_TRIAL_MAX_IO], out[FT_TRIAL_MAX_IO];
    ft_tensor *in_ptr[FT_TRIAL_MAX_IO], *out_ptr[FT_TRIAL_MAX_IO];
    void *in_buf[FT_TRIAL_MAX_IO], *out_buf[FT_TRIAL_MAX_IO];
    void *state, *scratch;
    ft_error err;
};

/* Copies a tensor between two layouts element by element. Only used to feed candidates and read
 * their outputs back, outside the timed region, so plain index arithmetic is right here. */
static void convert_layout(const void *src, const ft_layout *from, void *dst, const ft_layout *to, const ft_shape *s,
                           size_t es)
{
    int64_t idx[FT_MAX_RANK] = {0};
    int64_t n = ft_shape_numel(s);
    for (int64_t i = 0; i < n; i++) {
        int64_t of = ft_layout_offset(from, s, idx), ot = ft_layout_offset(to, s, idx);
        memcpy((char *)dst + ot * (int64_t)es, (const char *)src + of * (int64_t)es, es);
        for (int d = s->rank - 1; d >= 0; d--) {
            if (++idx[d] < s->dims[d]) break;
            idx[d] = 0;
        }
    }
}

static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Inputs of these ops get positive values so the reference is finite (sqrt, log, pow, 1/x). */
static int wants_positive(const ft_node *n, int input)
{
    static const char *const ops[] = {"Sqrt", "Log", "Pow", "Reciprocal", NULL};
    for (int i = 0; ops[i]; i++)
        if (strcmp(n->op_type, ops[i]) == 0) return input == 0;
    return strcmp(n->op_type, "Div") == 0 && input == 1;
}

static void fill_input(const ft_graph *g, const ft_node *n, int j, ft_tensor *t, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + (uint64_t)j * 0xBF58476D1CE4E5B9ull + 1;
    int64_t count = ft_shape_numel(&t->shape);
    if (t->dtype == FT_FLOAT) {
        float lo = wants_positive(n, j) ? 0.1f : -1.0f;
        for (int64_t i = 0; i < count; i++)
            ((float *)t->data)[i] = lo + (1.0f - lo) * (float)((next_random(&s) >> 40) * (1.0 / 16777216.0));
        return;
    }
    int64_t bound = 1;
    if (strcmp(n->op_type, "Gather") == 0 && j == 1 && n->in[0] >= 0) {
        const ft_tensor *data = &g->tensors[n->in[0]];
        int axis;
        if (ft_normalize_axis(ft_attr_int(n, "axis", 0), data->shape.rank, 0, &axis) == 0) bound = data->shape.dims[axis];
    } else if (t->dtype == FT_BOOL) {
        bound = 2;
    }
    size_t es = ft_dtype_size(t->dtype);
    for (int64_t i = 0; i < count; i++) {
        int64_t v = bound > 1 ? (int64_t)(next_random(&s) % (uint64_t)bound) : 0;
        switch (es) {
        case 8: ((int64_t *)t->data)[i] = v; break;
        case 4: ((int32_t *)t->data)[i] = (int32_t)v; break;
        case 2: ((int16_t *)t->data)[i] = (int16_t)v; break;
        default: ((uint8_t *)t->data)[i] = (uint8_t)v; break;
        }
    }
}

void ft_trial_ref_destroy(ft_trial_ref *r)
{
    if (!r) return;
    for (int j = 0; j < r->n_in; j++)
        if (r->in_owned[j]) free(r->in[j].data);
    for (int j = 0; j < r->n_out; j++) free(r->out[j].data);
    free(r);
}

int ft_trial_ref_create(const ft_graph *g, int node, uint64_t seed, ft_trial_ref **out, ft_error *err)
{
    *out = NULL;
    const ft_node *n = &g->nodes[node];
    if (n->n_in > FT_TRIAL_MAX_IO || n->n_out > FT_TRIAL_MAX_IO)
        return ft_fail(err, FT_ERR_UNSUPPORTED, "node '%s': too many inputs or outputs to measure", n->name);
    ft_trial_ref *r = calloc(1, sizeof *r);
    if (!r) return ft_fail(err, FT_ERR_NOMEM, "out of memory");
    r->node = n;
    r->n_in = n->n_in;
    r->n_out = n->n_out;
    ft_tensor *in_ptr[FT_TRIAL_MAX_IO], *out_ptr[FT_TRIAL_MAX_IO];
    for (int j = 0; j < n->n_in; j++) {
        in_ptr[j] = NULL;
        if (n->in[j] < 0) continue;
        const ft_tensor *gt = &g->tensors[n->in[j]];
        r->in[j] = *gt;
        r->in_present[j] = 1;
        in_ptr[j] = &r->in[j];
        if ((gt->flags & FT_T_CONST) && gt->data) continue;
        size_t nb = ft_tensor_nbytes(gt);
        r->in[j].data = malloc(nb ? nb : 1);
        r->in_owned[j] = 1;
        if (!r->in[j].data) {
            ft_trial_ref_destroy(r);
            return ft_fail(err, FT_ERR_NOMEM, "out of memory");
        }
        fill_input(g, n, j, &r->in[j], seed);
    }
    for (int j = 0; j < n->n_out; j++) {
        out_ptr[j] = NULL;
        if (n->out[j] < 0) continue;
        r->out[j] = g->tensors[n->out[j]];
        r->out_present[j] = 1;
        size_t nb = ft_tensor_nbytes(&r->out[j]);
        r->out[j].data = malloc(nb ? nb : 1);
        if (!r->out[j].data) {
            ft_trial_ref_destroy(r);
            return ft_fail(err, FT_ERR_NOMEM, "out of memory");
        }
        out_ptr[j] = &r->out[j];
    }
    int rc;
    if (n->op->flags & FT_OP_VIEW) {
        memcpy(r->out[0].data, r->in[0].data, ft_tensor_nbytes(&r->out[0]));
        rc = FT_OK;
    } else {
        ft_op_ctx ctx = {n, n->n_in, n->n_out, in_ptr, out_ptr, err};
        rc = n->op->run(&ctx);
    }
    if (rc != FT_OK) {
        ft_trial_ref_destroy(r);
        return rc;
    }
    *out = r;
    return FT_OK;
}

void ft_trial_destroy(ft_trial *t)
{
    if (!t) return;
    if (t->state && t->cand.family->release) t->cand.family->release(t->state);
    for (int j = 0; j < FT_TRIAL_MAX_IO; j++) {
        free(t->in_buf[j]);
        free(t->out_buf[j]);
    }
    free(t->scratch);
    free(t);
}

static void *alloc_aligned(size_t n)
{
    return aligned_alloc(64, ((n ? n : 1) + 63) & ~(size_t)63);
}

int ft_trial_create(const ft_trial_ref *r, const ft_candidate *cand, ft_trial **out, ft_error *err)
{
    *out = NULL;
    ft_trial *t = calloc(1, sizeof *t);
    if (!t) return ft_fail(err, FT_ERR_NOMEM, "out of memory");
    t->ref = r;
    t->cand = *cand;
    const ft_node *n = r->node;
    for (int j = 0; j < r->n_in; j++) {
        t->in_ptr[j] = NULL;
        if (!r->in_present[j]) continue;
        t->in[j] = r->in[j];
        t->in_ptr[j] = &t->in[j];
        if (j < cand->n_in && !ft_layout_is_identity(&cand->in_layout[j])) {
            size_t nb = ft_tensor_nbytes(&r->in[j]);
            t->in_buf[j] = alloc_aligned(nb);
            if (!t->in_buf[j]) goto nomem;
            ft_layout id;
            ft_layout_identity(&id, r->in[j].shape.rank);
            convert_layout(r->in[j].data, &id, t->in_buf[j], &cand->in_layout[j], &r->in[j].shape,
                           ft_dtype_size(r->in[j].dtype));
            t->in[j].data = t->in_buf[j];
        }
    }
    for (int j = 0; j < r->n_out; j++) {
        t->out_ptr[j] = NULL;
        if (!r->out_present[j]) continue;
        t->out[j] = r->out[j];
        t->out_ptr[j] = &t->out[j];
        if (j == 0 && (cand->family->flags & FT_FAMILY_ALIAS)) {
            t->out[j].data = t->in[0].data;
            continue;
        }
        t->out_buf[j] = alloc_aligned(ft_tensor_nbytes(&r->out[j]));
        if (!t->out_buf[j]) goto nomem;
        t->out[j].data = t->out_buf[j];
    }
    if (cand->family->prepare) {
        size_t scratch = 0;
        ft_kernel_ctx ctx = {n, r->n_in, r->n_out, t->in_ptr, t->out_ptr, &t->cand, NULL, NULL, err, 0};
        int rc = cand->family->prepare(&ctx, &t->state, &scratch);
        if (rc != FT_OK) {
            ft_trial_destroy(t);
            return rc;
        }
        if (scratch) {
            t->scratch = alloc_aligned(scratch);
            if (!t->scratch) goto nomem;
        }
    }
    *out = t;
    return FT_OK;
nomem:
    ft_trial_destroy(t);
    return ft_fail(err, FT_ERR_NOMEM, "out of memory");
}

int ft_trial_run(ft_trial *t, ft_error *err)
{
    const ft_trial_ref *r = t->ref;
    ft_kernel_ctx ctx = {r->node, r->n_in, r->n_out, t->in_ptr, t->out_ptr, &t->cand, t->state, t->scratch, err, 0};
    return t->cand.family->run(&ctx);
}

int ft_trial_verify(ft_trial *t, char *msg, size_t n)
{
    const ft_trial_ref *r = t->ref;
    int alias = (t->cand.family->flags & FT_FAMILY_ALIAS) != 0;
    for (int j = 0; j < r->n_out; j++) {
        if (!r->out_present[j] || (j == 0 && alias)) continue;
        size_t nb = ft_tensor_nbytes(&r->out[j]);
        if (r->out[j].dtype == FT_FLOAT)
            for (size_t i = 0; i < nb / 4; i++) ((float *)t->out[j].data)[i] = NAN;
        else memset(t->out[j].data, 0xA5, nb);
    }
    ft_error err = {0};
    if (ft_trial_run(t, &err) != FT_OK) {
        snprintf(msg, n, "run failed: %s", err.msg);
        return 1;
    }
    for (int j = 0; j < r->n_out; j++) {
        if (!r->out_present[j]) continue;
        const ft_tensor *want = &r->out[j];
        size_t nb = ft_tensor_nbytes(want);
        const void *got = t->out[j].data;
        void *row = NULL;
        if (j == 0 && !ft_layout_is_identity(&t->cand.out_layout)) {
            row = malloc(nb ? nb : 1);
            if (!row) {
                snprintf(msg, n, "out of memory");
                return 1;
            }
            ft_layout id;
            ft_layout_identity(&id, want->shape.rank);
            convert_layout(got, &t->cand.out_layout, row, &id, &want->shape, ft_dtype_size(want->dtype));
            got = row;
        }
        int64_t count = ft_shape_numel(&want->shape);
        int bad = 0;
        if (want->dtype == FT_FLOAT) {
            double num = 0, den = 0;
            for (int64_t i = 0; i < count; i++) {
                double a = ((const float *)got)[i], b = ((const float *)want->data)[i];
                if (isnan(a) != isnan(b) || isinf(a) != isinf(b)) {
                    snprintf(msg, n, "output %d element %lld: got %g, reference %g", j, (long long)i, a, b);
                    bad = 1;
                    break;
                }
                if (isnan(b) || isinf(b)) continue;
                num += (a - b) * (a - b);
                den += b * b;
            }
            if (!bad && num > 1e-10 * (den > 0 ? den : 1)) {
                snprintf(msg, n, "output %d: relative L2 error %.3g exceeds 1e-5", j, sqrt(num / (den > 0 ? den : 1)));
                bad = 1;
            }
        } else if (memcmp(got, want->data, nb) != 0) {
            snprintf(msg, n, "output %d differs from the reference", j);
            bad = 1;
        }
        free(row);
        if (bad) return 1;
    }
    return 0;
}
