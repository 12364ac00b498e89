/* executor.c - runs a prepared graph under a plan: one arena, each node's chosen candidate. */
#include "executor.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops.h"

#define FT_ARENA_ALIGN 64

struct ft_session {
    const ft_graph *g;
    const ft_plan *plan;
    ft_plan *owned_plan; /* the default plan when the caller gave none */
    ft_tensor *t;        /* shallow copies of the graph's tensors with data pointing at run-time bytes */
    uint8_t *arena;
    void **state;        /* per node, from the family's prepare */
    void *scratch;
    size_t scratch_bytes;
    ft_tensor **ptrs;    /* per-node in/out pointer scratch, sized for the widest node */
    size_t freed_constant_bytes;
    double *profile;     /* per node seconds, the caller's; NULL: not profiling */
};

static void bind_io(ft_session *s, const ft_node *n, ft_tensor ***in, ft_tensor ***out)
{
    *in = s->ptrs;
    *out = s->ptrs + n->n_in;
    for (int j = 0; j < n->n_in; j++) (*in)[j] = n->in[j] >= 0 ? &s->t[n->in[j]] : NULL;
    for (int j = 0; j < n->n_out; j++) (*out)[j] = n->out[j] >= 0 ? &s->t[n->out[j]] : NULL;
}

int ft_session_create(const ft_graph *g, ft_session **out, ft_error *err)
{
    ft_plan *p = NULL;
    int rc = ft_plan_default(g, &p, err);
    if (rc != FT_OK) return rc;
    rc = ft_session_create_with_plan(g, p, out, err);
    if (rc != FT_OK) {
        ft_plan_destroy(p);
        return rc;
    }
    (*out)->owned_plan = p;
    return FT_OK;
}

static int create(const ft_graph *g, ft_graph *mutable_g, const ft_plan *p, ft_session **out, ft_error *err);

int ft_session_create_with_plan(const ft_graph *g, const ft_plan *p, ft_session **out, ft_error *err)
{
    return create(g, NULL, p, out, err);
}

int ft_session_create_ex(ft_graph *g, const ft_plan *p, unsigned flags, ft_session **out, ft_error *err)
{
    return create(g, (flags & FT_SESSION_FREE_REPACKED) ? g : NULL, p, out, err);
}

size_t ft_session_freed_constant_bytes(const ft_session *s)
{
    return s->freed_constant_bytes;
}

static int create(const ft_graph *g, ft_graph *mutable_g, const ft_plan *p, ft_session **out, ft_error *err)
{
    *out = NULL;
    if (p->n_nodes != g->n_nodes || p->n_tensors != g->n_tensors)
        return ft_fail(err, FT_ERR_INPUT, "the plan has %d nodes and %d tensors, the graph %d and %d", p->n_nodes,
                       p->n_tensors, g->n_nodes, g->n_tensors);
    ft_session *s = calloc(1, sizeof *s);
    if (!s) return ft_fail(err, FT_ERR_NOMEM, "out of memory creating a session");
    s->g = g;
    s->plan = p;
    int max_io = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].n_in + g->nodes[i].n_out > max_io) max_io = g->nodes[i].n_in + g->nodes[i].n_out;
    s->t = calloc((size_t)g->n_tensors + 1, sizeof *s->t);
    s->state = calloc((size_t)g->n_nodes + 1, sizeof *s->state);
    s->ptrs = calloc((size_t)max_io + 1, sizeof *s->ptrs);
    s->arena = aligned_alloc(FT_ARENA_ALIGN, p->arena_bytes ? (p->arena_bytes + FT_ARENA_ALIGN - 1) & ~(size_t)(FT_ARENA_ALIGN - 1)
                                                            : FT_ARENA_ALIGN);
    if (!s->t || !s->state || !s->ptrs || !s->arena) {
        ft_session_destroy(s);
        return ft_fail(err, FT_ERR_NOMEM, "out of memory: the activations need %zu bytes", p->arena_bytes);
    }
    for (int i = 0; i < g->n_tensors; i++) {
        s->t[i] = g->tensors[i];
        if (g->tensors[i].flags & FT_T_CONST) continue;
        int root = ft_plan_root(p, i);
        size_t off = p->offset[root];
        if (off == FT_NO_OFFSET) {
            s->t[i].data = root == i ? NULL : g->tensors[root].data;
            if (root != i && !(g->tensors[root].flags & FT_T_CONST) && (g->tensors[i].producer >= 0)) {
                ft_session_destroy(s);
                return ft_fail(err, FT_ERR_INPUT, "plan: tensor '%s' has no arena offset", g->tensors[root].name);
            }
            continue;
        }
        if (off + ft_tensor_nbytes(&g->tensors[root]) > p->arena_bytes) {
            ft_session_destroy(s);
            return ft_fail(err, FT_ERR_INPUT, "plan: tensor '%s' at offset %zu does not fit the %zu-byte arena",
                           g->tensors[root].name, off, p->arena_bytes);
        }
        s->t[i].data = s->arena + off;
    }
    /* prepare: pre-pack constant operands once, size one shared scratch buffer; with a mutable graph,
     * free each constant once its last reader has re-laid it out */
    size_t scratch = 0;
    int *readers = NULL, *released = NULL;
    if (mutable_g) {
        readers = calloc((size_t)g->n_tensors + 1, sizeof *readers);
        released = calloc((size_t)g->n_tensors + 1, sizeof *released);
        if (!readers || !released) {
            free(readers);
            free(released);
            ft_session_destroy(s);
            return ft_fail(err, FT_ERR_NOMEM, "out of memory creating a session");
        }
        for (int i = 0; i < g->n_nodes; i++)
            for (int j = 0; j < g->nodes[i].n_in; j++)
                if (g->nodes[i].in[j] >= 0) readers[g->nodes[i].in[j]]++;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const ft_node *n = &g->nodes[i];
        const ft_candidate *c = &p->cand[i];
        if (!c->family) {
            ft_session_destroy(s);
            return ft_fail(err, FT_ERR_INPUT, "plan: node '%s' has no kernel", n->name);
        }
        if (!c->family->prepare) continue;
        ft_tensor **in, **outs;
        bind_io(s, n, &in, &outs);
        ft_kernel_ctx ctx = {n, n->n_in, n->n_out, in, outs, c, NULL, NULL, err, 0};
        size_t need = 0;
        int rc = c->family->prepare(&ctx, &s->state[i], &need);
        if (rc != FT_OK) {
            free(readers);
            free(released);
            ft_session_destroy(s);
            return rc;
        }
        if (need > scratch) scratch = need;
        for (int j = 0; mutable_g && j < n->n_in && j < 32; j++) {
            int t = n->in[j];
            if (t < 0 || !(ctx.released & (1u << j))) continue;
            ft_tensor *gt = &mutable_g->tensors[t];
            if (!(gt->flags & FT_T_CONST) || (gt->flags & FT_T_OUTPUT) || ++released[t] != readers[t]) continue;
            s->freed_constant_bytes += ft_tensor_nbytes(gt);
            free(gt->data);
            gt->data = NULL;
            s->t[t].data = NULL;
        }
    }
    free(readers);
    free(released);
    if (scratch) {
        s->scratch = aligned_alloc(FT_ARENA_ALIGN, (scratch + FT_ARENA_ALIGN - 1) & ~(size_t)(FT_ARENA_ALIGN - 1));
        if (!s->scratch) {
            ft_session_destroy(s);
            return ft_fail(err, FT_ERR_NOMEM, "out of memory for %zu bytes of kernel scratch", scratch);
        }
        s->scratch_bytes = scratch;
    }
    *out = s;
    return FT_OK;
}

void ft_session_destroy(ft_session *s)
{
    if (!s) return;
    if (s->state && s->plan)
        for (int i = 0; i < s->g->n_nodes; i++)
            if (s->state[i] && s->plan->cand[i].family && s->plan->cand[i].family->release)
                s->plan->cand[i].family->release(s->state[i]);
    free(s->state);
    free(s->arena);
    free(s->scratch);
    free(s->t);
    free(s->ptrs);
    ft_plan_destroy(s->owned_plan);
    free(s);
}

int ft_session_set_input(ft_session *s, int i, const ft_tensor *value, ft_error *err)
{
    char want[128], got[128];
    if (i < 0 || i >= s->g->n_inputs) return ft_fail(err, FT_ERR_INPUT, "input index %d out of range", i);
    ft_tensor *t = &s->t[s->g->inputs[i]];
    if (value->dtype != t->dtype)
        return ft_fail(err, FT_ERR_INPUT, "input '%s': got %s, the model expects %s", t->name,
                       ft_dtype_name(value->dtype), ft_dtype_name(t->dtype));
    if (!ft_shape_equal(&value->shape, &t->shape))
        return ft_fail(err, FT_ERR_INPUT, "input '%s': got shape %s, the model was prepared for %s", t->name,
                       ft_shape_str(&value->shape, got, sizeof got), ft_shape_str(&t->shape, want, sizeof want));
    if (!ft_layout_is_identity(&s->plan->layout[s->g->inputs[i]]))
        return ft_fail(err, FT_ERR_INPUT, "input '%s': the plan stores it in a non-row-major layout", t->name);
    memcpy(t->data, value->data, ft_tensor_nbytes(t));
    return FT_OK;
}

int ft_session_run(ft_session *s, ft_error *err)
{
    const ft_graph *g = s->g;
    for (int i = 0; i < g->n_nodes; i++) {
        const ft_node *n = &g->nodes[i];
        ft_tensor **in, **out;
        bind_io(s, n, &in, &out);
        ft_kernel_ctx ctx = {n, n->n_in, n->n_out, in, out, &s->plan->cand[i], s->state[i], s->scratch, err, 0};
        struct timespec t0, t1;
        if (s->profile) clock_gettime(CLOCK_MONOTONIC, &t0);
        int rc = s->plan->cand[i].family->run(&ctx);
        if (rc != FT_OK) return rc;
        if (s->profile) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            s->profile[i] += (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
        }
    }
    return FT_OK;
}

void ft_session_set_profile(ft_session *s, double *node_seconds)
{
    s->profile = node_seconds;
}

const ft_tensor *ft_session_output(const ft_session *s, int i)
{
    if (i < 0 || i >= s->g->n_outputs) return NULL;
    return &s->t[s->g->outputs[i]];
}

size_t ft_session_arena_bytes(const ft_session *s)
{
    return s->plan->arena_bytes;
}
