/* fast_check.h - property checks of tuned kernel families against the reference kernels: one node
 * on random data, every candidate the registry enumerates (with the given layout hints) run on its
 * inputs converted into the candidate's layouts, outputs poisoned with NaN beforehand and converted
 * back to row-major afterwards, each compared with the reference kernel's result. */
#ifndef FT_FAST_CHECK_H
#define FT_FAST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fast/reorder.h"
#include "ops.h"
#include "registry.h"
#include "testutil.h"

#define FC_MAX_IN 4
#define FC_MAX_OUT 3
#define FC_MAX_ATTR 6

typedef struct fc_case {
    ft_node node;
    ft_attr attrs[FC_MAX_ATTR];
    int64_t ints[FC_MAX_ATTR][FT_MAX_RANK];
    ft_tensor ins[FC_MAX_IN], outs[FC_MAX_OUT];
    ft_tensor *in[FC_MAX_IN], *out[FC_MAX_OUT];
    int n_in, n_out;
    ft_layout_set in_hints[FC_MAX_IN], out_hints;
} fc_case;

/* xorshift64: the tests' only source of randomness, seeded per case. */
static inline uint64_t fc_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static inline int fc_randint(uint64_t *s, int n)
{
    return (int)(fc_rand(s) % (uint64_t)n);
}

/* Sizes that exercise vector tails and size-1 axes: 1, primes, powers of two and neighbours. */
static inline int64_t fc_dim(uint64_t *s)
{
    static const int64_t dims[] = {1, 2, 3, 5, 7, 8, 13, 16, 17, 31, 33, 64};
    return dims[fc_randint(s, (int)(sizeof dims / sizeof dims[0]))];
}

static inline void fc_random_layout(uint64_t *s, int rank, ft_layout *l)
{
    ft_layout_identity(l, rank);
    for (int i = rank - 1; i > 0; i--) {
        int j = fc_randint(s, i + 1);
        uint8_t t = l->perm[i];
        l->perm[i] = l->perm[j];
        l->perm[j] = t;
    }
}

/* Up to two random layouts of this rank (sometimes none). */
static inline void fc_random_hints(uint64_t *s, int rank, ft_layout_set *set)
{
    set->n = rank > 1 ? fc_randint(s, 3) : 0;
    for (int i = 0; i < set->n; i++) fc_random_layout(s, rank, &set->l[i]);
}

static inline void fc_init(fc_case *c, const char *op_type, int opset)
{
    memset(c, 0, sizeof *c);
    c->node.name = (char *)"node_under_test";
    c->node.op_type = (char *)op_type;
    c->node.domain = (char *)"";
    c->node.opset = opset;
    c->node.attrs = c->attrs;
}

static inline ft_tensor *fc_input(fc_case *c, ft_dtype dt, int rank, const int64_t *dims)
{
    static const char *const names[FC_MAX_IN] = {"in0", "in1", "in2", "in3"};
    ft_tensor *t = &c->ins[c->n_in];
    tu_tensor_init(t, names[c->n_in], dt, rank, dims);
    c->in[c->n_in++] = t;
    return t;
}

static inline ft_tensor *fc_input_f32(fc_case *c, int rank, const int64_t *dims, float lo, float hi, uint64_t seed)
{
    ft_tensor *t = fc_input(c, FT_FLOAT, rank, dims);
    tu_fill_uniform(t->data, (size_t)ft_shape_numel(&t->shape), seed, lo, hi);
    return t;
}

static inline ft_tensor *fc_input_bool(fc_case *c, int rank, const int64_t *dims, uint64_t seed)
{
    ft_tensor *t = fc_input(c, FT_BOOL, rank, dims);
    uint64_t s = seed * 2654435761u + 7;
    for (int64_t i = 0; i < ft_shape_numel(&t->shape); i++) ((uint8_t *)t->data)[i] = (uint8_t)(fc_rand(&s) & 1);
    return t;
}

static inline ft_tensor *fc_input_const_f32(fc_case *c, int rank, const int64_t *dims, const float *vals)
{
    ft_tensor *t = fc_input(c, FT_FLOAT, rank, dims);
    memcpy(t->data, vals, ft_tensor_nbytes(t));
    t->flags = FT_T_CONST;
    return t;
}

static inline ft_tensor *fc_input_const_i64(fc_case *c, int n, const int64_t *vals)
{
    int64_t d = n;
    ft_tensor *t = fc_input(c, FT_INT64, 1, &d);
    if (n > 0) memcpy(t->data, vals, ft_tensor_nbytes(t));
    t->flags = FT_T_CONST;
    return t;
}

static inline void fc_omit_input(fc_case *c)
{
    c->in[c->n_in++] = NULL;
}

static inline ft_attr *fc_attr(fc_case *c, const char *name, ft_attr_type type)
{
    ft_attr *a = &c->attrs[c->node.n_attrs++];
    memset(a, 0, sizeof *a);
    a->name = (char *)name;
    a->type = type;
    return a;
}

static inline void fc_attr_int(fc_case *c, const char *name, int64_t v)
{
    fc_attr(c, name, FT_ATTR_INT)->i = v;
}

static inline void fc_attr_float(fc_case *c, const char *name, float v)
{
    fc_attr(c, name, FT_ATTR_FLOAT)->f = v;
}

static inline void fc_attr_ints(fc_case *c, const char *name, int n, const int64_t *v)
{
    int k = c->node.n_attrs;
    ft_attr *a = fc_attr(c, name, FT_ATTR_INTS);
    memcpy(c->ints[k], v, (size_t)n * sizeof *v);
    a->ints = c->ints[k];
    a->n = n;
}

static inline void fc_outputs(fc_case *c, int n)
{
    static const char *const names[FC_MAX_OUT] = {"out0", "out1", "out2"};
    for (int i = 0; i < n; i++) {
        ft_tensor *t = &c->outs[i];
        memset(t, 0, sizeof *t);
        t->name = strdup(names[i]);
        t->producer = 0;
        c->out[c->n_out++] = t;
    }
}

static inline void fc_free(fc_case *c)
{
    for (int i = 0; i < c->n_in; i++)
        if (c->in[i]) ft_tensor_clear(c->in[i]);
    for (int i = 0; i < c->n_out; i++) ft_tensor_clear(c->out[i]);
}

/* Float results agree when both are NaN or their relative L2 distance is below tol (tol = 0: the
 * same bits, NaN aside); other types byte for byte. A NaN where the reference has a number fails:
 * that is how elements a kernel never wrote (poisoned with NaN) are caught. */
static inline int fc_agree(const ft_tensor *ref, const void *got, double tol, char *why, size_t n_why)
{
    int64_t n = ft_shape_numel(&ref->shape);
    if (ref->dtype != FT_FLOAT) {
        if (memcmp(ref->data, got, ft_tensor_nbytes(ref)) == 0) return 1;
        snprintf(why, n_why, "bytes differ");
        return 0;
    }
    const float *r = ref->data, *g = got;
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(r[i]) && isnan(g[i])) continue;
        if (isnan(r[i]) != isnan(g[i]) || (tol == 0 && memcmp(&r[i], &g[i], sizeof(float)) != 0 && r[i] != g[i])) {
            snprintf(why, n_why, "element %lld: got %.9g, reference %.9g", (long long)i, (double)g[i], (double)r[i]);
            return 0;
        }
        if (isinf(r[i]) || isinf(g[i])) {
            if (r[i] != g[i]) {
                snprintf(why, n_why, "element %lld: got %g, reference %g", (long long)i, (double)g[i], (double)r[i]);
                return 0;
            }
            continue;
        }
        num += ((double)g[i] - r[i]) * ((double)g[i] - r[i]);
        den += (double)r[i] * r[i];
    }
    double rel = den > 0 ? sqrt(num / den) : sqrt(num);
    if (rel <= tol) return 1;
    snprintf(why, n_why, "relative L2 error %.3g above %.3g", rel, tol);
    return 0;
}

/* Runs the reference, then every enumerated candidate; fails the test on the first disagreement.
 * Returns how many candidates of tuned families (not the wrapped reference) were checked. */
static inline int fc_check_all(fc_case *c, double tol)
{
    ft_error err = {0};
    c->node.n_in = c->n_in;
    c->node.n_out = c->n_out;
    c->node.op = ft_op_find("", c->node.op_type);
    assert_non_null(c->node.op);
    ft_op_ctx octx = {&c->node, c->n_in, c->n_out, c->in, c->out, &err};
    if (c->node.op->infer(&octx) != FT_OK) fail_msg("%s: infer failed: %s", c->node.op_type, err.msg);
    for (int i = 0; i < c->n_out; i++) {
        size_t nb = ft_tensor_nbytes(c->out[i]);
        c->out[i]->data = calloc(nb ? nb : 1, 1);
    }
    if (c->node.op->run(&octx) != FT_OK) fail_msg("%s: reference failed: %s", c->node.op_type, err.msg);

    ft_candidate_list list = {0};
    for (int i = 0; i < c->n_in && i < FC_MAX_IN && i < FT_MAX_IO; i++) list.in_hints[i] = c->in_hints[i];
    list.out_hints = c->out_hints;
    if (ft_registry_enumerate(&c->node, c->in, c->out, &list, &err) != FT_OK)
        fail_msg("%s: enumerate failed: %s", c->node.op_type, err.msg);
    int tuned = 0;
    for (int k = 0; k < list.n; k++) {
        const ft_candidate *cand = &list.items[k];
        ft_tensor tin[FC_MAX_IN], tout[FC_MAX_OUT];
        ft_tensor *pin[FC_MAX_IN], *pout[FC_MAX_OUT];
        for (int i = 0; i < c->n_in; i++) {
            pin[i] = NULL;
            if (!c->in[i]) continue;
            tin[i] = *c->in[i];
            size_t nb = ft_tensor_nbytes(c->in[i]);
            tin[i].data = malloc(nb ? nb : 1);
            ft_layout id;
            ft_layout_identity(&id, c->in[i]->shape.rank);
            assert_int_equal(ft_reorder(c->in[i]->data, &id, tin[i].data, &cand->in_layout[i], &c->in[i]->shape,
                                        ft_dtype_size(c->in[i]->dtype)),
                             FT_OK);
            pin[i] = &tin[i];
        }
        for (int i = 0; i < c->n_out; i++) {
            tout[i] = *c->out[i];
            size_t nb = ft_tensor_nbytes(c->out[i]);
            tout[i].data = malloc(nb ? nb : 1);
            if (c->out[i]->dtype == FT_FLOAT)
                for (size_t e = 0; e < nb / sizeof(float); e++) ((float *)tout[i].data)[e] = NAN;
            else
                memset(tout[i].data, 0xA5, nb);
            pout[i] = &tout[i];
        }
        void *state = NULL, *scratch = NULL;
        size_t need = 0;
        ft_kernel_ctx kctx;
        memset(&kctx, 0, sizeof kctx);
        kctx.node = &c->node;
        kctx.n_in = c->n_in;
        kctx.n_out = c->n_out;
        kctx.in = pin;
        kctx.out = pout;
        kctx.cand = cand;
        kctx.err = &err;
        if (cand->family->prepare && cand->family->prepare(&kctx, &state, &need) != FT_OK)
            fail_msg("%s: prepare failed: %s", cand->key, err.msg);
        if (need) scratch = aligned_alloc(64, (need + 63) / 64 * 64);
        kctx.state = state;
        kctx.scratch = scratch;
        if (cand->family->run(&kctx) != FT_OK) fail_msg("%s: run failed: %s", cand->key, err.msg);
        for (int i = 0; i < c->n_out; i++) {
            char why[200];
            ft_layout id, from = i == 0 ? cand->out_layout : (ft_layout){.rank = 0};
            ft_layout_identity(&id, c->out[i]->shape.rank);
            if (i > 0) from = id;
            /* an aliasing candidate's output is its input's bytes under another layout */
            const void *bytes = i == 0 && (cand->family->flags & FT_FAMILY_ALIAS) ? tin[0].data : tout[i].data;
            size_t nb = ft_tensor_nbytes(c->out[i]);
            void *rm = malloc(nb ? nb : 1);
            assert_int_equal(ft_reorder(bytes, &from, rm, &id, &c->out[i]->shape, ft_dtype_size(c->out[i]->dtype)), FT_OK);
            if (!fc_agree(c->out[i], rm, tol, why, sizeof why)) {
                char sh[96];
                fail_msg("%s on %s, output %d: %s", cand->key, ft_shape_str(&c->in[0]->shape, sh, sizeof sh), i, why);
            }
            free(rm);
        }
        if (state && cand->family->release) cand->family->release(state);
        free(scratch);
        for (int i = 0; i < c->n_in; i++)
            if (pin[i]) free(tin[i].data);
        for (int i = 0; i < c->n_out; i++) free(tout[i].data);
        if (cand->family != &ft_family_reference) tuned++;
    }
    ft_candidate_list_free(&list);
    return tuned;
}

/* The candidates the registry lists for c (its outputs inferred), with c's hints. */
static inline void fc_enumerate(fc_case *c, ft_candidate_list *list)
{
    ft_error err = {0};
    c->node.n_in = c->n_in;
    c->node.n_out = c->n_out;
    c->node.op = ft_op_find("", c->node.op_type);
    assert_non_null(c->node.op);
    ft_op_ctx octx = {&c->node, c->n_in, c->n_out, c->in, c->out, &err};
    assert_int_equal(c->node.op->infer(&octx), FT_OK);
    memset(list, 0, sizeof *list);
    for (int i = 0; i < c->n_in && i < FC_MAX_IN && i < FT_MAX_IO; i++) list->in_hints[i] = c->in_hints[i];
    list->out_hints = c->out_hints;
    assert_int_equal(ft_registry_enumerate(&c->node, c->in, c->out, list, &err), FT_OK);
}

#endif
