/* executor.c - the default plan: one arena, one slot per activation (no reuse), reference kernels. */
#include "executor.h"

#include <stdlib.h>
#include <string.h>

#include "ops.h"

#define FT_ARENA_ALIGN 64

struct ft_session {
    const ft_graph *g;
    ft_tensor *t;     /* shallow copies of the graph's tensors with data pointing at run-time bytes */
    uint8_t *arena;
    size_t arena_bytes;
    ft_tensor **ptrs; /* per-node in/out pointer scratch, sized for the widest node */
    int max_io;
};

static size_t align_up(size_t x)
{
    return (x + FT_ARENA_ALIGN - 1) & ~(size_t)(FT_ARENA_ALIGN - 1);
}

int ft_session_create(const ft_graph *g, ft_session **out, ft_error *err)
{
    *out = NULL;
    ft_session *s = calloc(1, sizeof *s);
    if (!s) return ft_fail(err, FT_ERR_NOMEM, "out of memory creating a session");
    s->g = g;
    s->t = calloc((size_t)g->n_tensors + 1, sizeof *s->t);
    if (!s->t) {
        ft_session_destroy(s);
        return ft_fail(err, FT_ERR_NOMEM, "out of memory creating a session");
    }
    size_t *offset = calloc((size_t)g->n_tensors + 1, sizeof *offset);
    if (!offset) {
        ft_session_destroy(s);
        return ft_fail(err, FT_ERR_NOMEM, "out of memory creating a session");
    }
    size_t total = 0;
    for (int i = 0; i < g->n_tensors; i++) {
        const ft_tensor *gt = &g->tensors[i];
        s->t[i] = *gt;
        if ((gt->flags & (FT_T_CONST | FT_T_VIEW)) || (gt->producer < 0 && !(gt->flags & FT_T_INPUT))) continue;
        offset[i] = total;
        total += align_up(ft_tensor_nbytes(gt));
    }
    s->arena_bytes = total;
    s->arena = aligned_alloc(FT_ARENA_ALIGN, total ? total : FT_ARENA_ALIGN);
    if (!s->arena) {
        free(offset);
        ft_session_destroy(s);
        return ft_fail(err, FT_ERR_NOMEM, "out of memory: the activations need %zu bytes", total);
    }
    for (int i = 0; i < g->n_tensors; i++) {
        const ft_tensor *gt = &g->tensors[i];
        if (gt->flags & FT_T_CONST) continue;
        if (!(gt->flags & FT_T_VIEW) && (gt->producer >= 0 || (gt->flags & FT_T_INPUT)))
            s->t[i].data = s->arena + offset[i];
    }
    for (int i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].flags & FT_T_VIEW) s->t[i].data = s->t[g->tensors[i].alias_of].data;
    free(offset);
    for (int i = 0; i < g->n_nodes; i++) {
        int io = g->nodes[i].n_in + g->nodes[i].n_out;
        if (io > s->max_io) s->max_io = io;
    }
    s->ptrs = calloc((size_t)s->max_io + 1, sizeof *s->ptrs);
    if (!s->ptrs) {
        ft_session_destroy(s);
        return ft_fail(err, FT_ERR_NOMEM, "out of memory creating a session");
    }
    *out = s;
    return FT_OK;
}

void ft_session_destroy(ft_session *s)
{
    if (!s) return;
    free(s->arena);
    free(s->t);
    free(s->ptrs);
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
    memcpy(t->data, value->data, ft_tensor_nbytes(t));
    return FT_OK;
}

int ft_session_run(ft_session *s, ft_error *err)
{
    const ft_graph *g = s->g;
    for (int i = 0; i < g->n_nodes; i++) {
        const ft_node *n = &g->nodes[i];
        if (n->op->flags & FT_OP_VIEW) continue;
        ft_tensor **in = s->ptrs, **out = s->ptrs + n->n_in;
        for (int j = 0; j < n->n_in; j++) in[j] = n->in[j] >= 0 ? &s->t[n->in[j]] : NULL;
        for (int j = 0; j < n->n_out; j++) out[j] = &s->t[n->out[j]];
        ft_op_ctx ctx = {n, n->n_in, n->n_out, in, out, err};
        int rc = n->op->run(&ctx);
        if (rc != FT_OK) return rc;
    }
    return FT_OK;
}

const ft_tensor *ft_session_output(const ft_session *s, int i)
{
    if (i < 0 || i >= s->g->n_outputs) return NULL;
    return &s->t[s->g->outputs[i]];
}

size_t ft_session_arena_bytes(const ft_session *s)
{
    return s->arena_bytes;
}
