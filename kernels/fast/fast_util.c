/* fast_util.c - layout choices, reduction views and candidate helpers shared by the tuned families. */
#include "fast_util.h"

#include <stdarg.h>
#include <stdio.h>

#include "isa.h"

static int layout_choices(const ft_shape *s, const ft_layout_set *const *sets, int n_sets, ft_layout *out, int max,
                          int blocked)
{
    int n = 0;
    if (max < 1) return 0;
    ft_layout_identity(&out[n++], s->rank);
    for (int k = 0; k < n_sets; k++) {
        if (!sets[k]) continue;
        for (int i = 0; i < sets[k]->n && i < 6; i++) {
            const ft_layout *l = &sets[k]->l[i];
            if (l->rank != s->rank || n == max || (ft_layout_blocked(l) && (!blocked || !ft_layout_fits(l, s))))
                continue;
            int dup = 0;
            for (int j = 0; j < n && !dup; j++) dup = ft_layout_equivalent(&out[j], l, s);
            if (!dup) out[n++] = *l;
        }
    }
    return n;
}

int ft_fast_layout_choices(const ft_shape *s, const ft_layout_set *const *sets, int n_sets, ft_layout *out, int max)
{
    return layout_choices(s, sets, n_sets, out, max, 0);
}

int ft_fast_layout_choices_blocked(const ft_shape *s, const ft_layout_set *const *sets, int n_sets, ft_layout *out,
                                   int max)
{
    return layout_choices(s, sets, n_sets, out, max, 1);
}

int ft_fast_block_view(const ft_layout *l, const ft_shape *s, unsigned mask, int64_t *outer, int64_t *n,
                       int64_t *inner)
{
    int first = -1, last = -1;
    int64_t o = 1, k = 1, in = 1;
    for (int p = 0; p < l->rank; p++) {
        int ax = l->perm[p];
        if (s->dims[ax] == 1 || !(mask & (1u << ax))) continue;
        if (first < 0) first = p;
        last = p;
    }
    for (int p = 0; p < l->rank; p++) {
        int ax = l->perm[p];
        int64_t d = s->dims[ax];
        if (mask & (1u << ax)) {
            k *= d;
        } else if (d != 1) {
            if (first >= 0 && p > first && p < last) return 0; /* a kept axis splits the block */
            if (first >= 0 && p > last) in *= d;
            else o *= d;
        }
    }
    *outer = o;
    *n = k;
    *inner = in;
    return 1;
}

int ft_fast_ints_attr(const ft_node *node, const char *name, int n, int64_t def, int64_t min, int64_t max,
                      int64_t *v)
{
    const int64_t *a;
    int k = ft_attr_ints(node, name, &a);
    for (int i = 0; i < n; i++) v[i] = def;
    if (k < 0) return 0;
    if (k != n) return -1;
    for (int i = 0; i < n; i++) {
        if (a[i] < min || a[i] > max) return -1;
        v[i] = a[i];
    }
    return 0;
}

int ft_fast_isas(int *isas)
{
    int n = 0;
    for (int isa = FT_FAST_N_ISA - 1; isa >= 0; isa--)
        if (ft_fast_isa_supported(isa)) isas[n++] = isa;
    return n;
}

int ft_fast_push(ft_candidate_list *list, ft_candidate *c, ft_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->key, sizeof c->key, fmt, ap);
    va_end(ap);
    if (ft_candidate_list_push(list, c) != 0) return ft_fail(err, FT_ERR_NOMEM, "out of memory listing candidates");
    return FT_OK;
}

int ft_fast_fail_callee(const ft_kernel_ctx *ctx, int rc, int with_key)
{
    char msg[sizeof ctx->err->msg];
    snprintf(msg, sizeof msg, "%s", ctx->err ? ctx->err->msg : "");
    if (with_key)
        return ft_fail(ctx->err, rc, "node '%s' (%s): candidate %s: %.700s", ctx->node->name, ctx->node->op_type,
                       ctx->cand->key, msg);
    return ft_fail(ctx->err, rc, "node '%s' (%s): %.900s", ctx->node->name, ctx->node->op_type, msg);
}
