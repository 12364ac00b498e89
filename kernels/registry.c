/* registry.c - layouts, candidate lists, the family table and the wrapped reference kernels. */
#include "registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

/* Family tables, each NULL-terminated, in order of preference for the default plan. */
extern const ft_kernel_family *const ft_families_linalg[];   /* kernels/fast/linalg.c */
extern const ft_kernel_family *const ft_families_eltwise[];  /* kernels/fast/eltwise.c */
extern const ft_kernel_family *const ft_families_movement[]; /* kernels/fast/movement.c */
extern const ft_kernel_family *const ft_families_pool[];     /* kernels/fast/pool.c */
static const ft_kernel_family *const *const family_tables[] = {ft_families_linalg, ft_families_eltwise,
                                                               ft_families_movement, ft_families_pool};

void ft_layout_identity(ft_layout *l, int rank)
{
    memset(l, 0, sizeof *l);
    l->rank = rank;
    for (int i = 0; i < rank && i < FT_MAX_RANK; i++) l->perm[i] = (uint8_t)i;
}

int ft_layout_is_identity(const ft_layout *l)
{
    if (ft_layout_blocked(l)) return 0;
    for (int i = 0; i < l->rank; i++)
        if (l->perm[i] != i) return 0;
    return 1;
}

int ft_layout_equal(const ft_layout *a, const ft_layout *b)
{
    if (a->rank != b->rank || ft_layout_blocked(a) != ft_layout_blocked(b)) return 0;
    if (ft_layout_blocked(a) && (a->block != b->block || a->block_axis != b->block_axis)) return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->perm[i] != b->perm[i]) return 0;
    return 1;
}

int ft_layout_fits(const ft_layout *l, const ft_shape *s)
{
    unsigned seen = 0;
    if (l->rank != s->rank || l->rank < 0 || l->rank > FT_MAX_RANK) return 0;
    for (int i = 0; i < l->rank; i++) {
        if (l->perm[i] >= l->rank || (seen & (1u << l->perm[i]))) return 0;
        seen |= 1u << l->perm[i];
    }
    if (!ft_layout_blocked(l)) return 1;
    return l->block_axis < l->rank && l->rank < FT_MAX_RANK && s->dims[l->block_axis] > 0 &&
           s->dims[l->block_axis] % l->block == 0;
}

void ft_layout_strides(const ft_layout *l, const ft_shape *s, int64_t *strides)
{
    int64_t st = 1;
    for (int p = l->rank - 1; p >= 0; p--) {
        int ax = l->perm[p];
        strides[ax] = st;
        st *= s->dims[ax] > 0 ? s->dims[ax] : 1;
    }
}

int ft_layout_split(const ft_layout *l, const ft_shape *s, int axis, int block, ft_layout *l2, ft_shape *s2)
{
    if (ft_layout_blocked(l)) {
        axis = l->block_axis;
        block = l->block;
    }
    if (axis < 0 || axis >= s->rank || block < 1 || s->rank + 1 > FT_MAX_RANK || l->rank != s->rank ||
        s->dims[axis] <= 0 || s->dims[axis] % block != 0)
        return -1;
    memset(l2, 0, sizeof *l2);
    memset(s2, 0, sizeof *s2);
    s2->rank = s->rank + 1;
    for (int a = 0, b = 0; a < s->rank; a++) {
        s2->dims[b++] = a == axis ? s->dims[a] / block : s->dims[a];
        if (a == axis) s2->dims[b++] = block;
    }
    l2->rank = s2->rank;
    int q = 0;
    for (int p = 0; p < l->rank && q < FT_MAX_RANK; p++) {
        int ax = l->perm[p], ax2 = ax > axis ? ax + 1 : ax;
        l2->perm[q++] = (uint8_t)ax2;
        if (ax == axis && !ft_layout_blocked(l) && q < FT_MAX_RANK) l2->perm[q++] = (uint8_t)(axis + 1);
    }
    if (ft_layout_blocked(l) && q < FT_MAX_RANK) l2->perm[q++] = (uint8_t)(axis + 1);
    return q == l2->rank ? 0 : -1;
}

int64_t ft_layout_offset(const ft_layout *l, const ft_shape *s, const int64_t *idx)
{
    int64_t st[FT_MAX_RANK];
    if (!ft_layout_blocked(l)) {
        ft_layout_strides(l, s, st);
        int64_t off = 0;
        for (int a = 0; a < s->rank; a++) off += idx[a] * st[a];
        return off;
    }
    ft_layout l2;
    ft_shape s2;
    int64_t i2[FT_MAX_RANK];
    if (ft_layout_split(l, s, 0, 0, &l2, &s2) != 0) return -1;
    int ax = l->block_axis;
    for (int a = 0, b = 0; a < s->rank; a++) {
        i2[b++] = a == ax ? idx[a] / l->block : idx[a];
        if (a == ax) i2[b++] = idx[a] % l->block;
    }
    ft_layout_strides(&l2, &s2, st);
    int64_t off = 0;
    for (int a = 0; a < s2.rank; a++) off += i2[a] * st[a];
    return off;
}

char *ft_layout_str(const ft_layout *l, char *buf, size_t n)
{
    if (n == 0) return buf;
    if (l->rank == 0) {
        snprintf(buf, n, "-");
        return buf;
    }
    size_t o = 0;
    for (int p = 0; p < l->rank && o + 1 < n; p++) buf[o++] = (char)(l->perm[p] < 10 ? '0' + l->perm[p] : 'a' + l->perm[p] - 10);
    buf[o] = 0;
    if (ft_layout_blocked(l) && o < n) snprintf(buf + o, n - o, "b%dx%d", l->block_axis, l->block);
    return buf;
}

static int equivalent_plain(const ft_layout *a, const ft_layout *b, const ft_shape *s)
{
    if (a->rank != b->rank) return 0;
    int pa = 0, pb = 0;
    for (;;) {
        while (pa < a->rank && s->dims[a->perm[pa]] == 1) pa++;
        while (pb < b->rank && s->dims[b->perm[pb]] == 1) pb++;
        if (pa == a->rank || pb == b->rank) return pa == a->rank && pb == b->rank;
        if (a->perm[pa] != b->perm[pb]) return 0;
        pa++;
        pb++;
    }
}

int ft_layout_equivalent(const ft_layout *a, const ft_layout *b, const ft_shape *s)
{
    if (a->rank != b->rank) return 0;
    if (!ft_layout_blocked(a) && !ft_layout_blocked(b)) return equivalent_plain(a, b, s);
    /* compare both as permutations of one split shape; blocks at different places never agree */
    const ft_layout *blk = ft_layout_blocked(a) ? a : b;
    if (ft_layout_blocked(a) && ft_layout_blocked(b) && (a->block != b->block || a->block_axis != b->block_axis))
        return ft_layout_equal(a, b);
    ft_layout a2, b2;
    ft_shape s2, t2;
    if (ft_layout_split(a, s, blk->block_axis, blk->block, &a2, &s2) != 0 ||
        ft_layout_split(b, s, blk->block_axis, blk->block, &b2, &t2) != 0)
        return ft_layout_equal(a, b);
    return equivalent_plain(&a2, &b2, &s2);
}

void ft_layout_after_transpose(const ft_layout *in, const int64_t *perm, ft_layout *out)
{
    int inv[FT_MAX_RANK] = {0};
    for (int j = 0; j < in->rank; j++) inv[perm[j]] = j;
    ft_layout r;
    memset(&r, 0, sizeof r);
    r.rank = in->rank;
    for (int p = 0; p < in->rank && p < FT_MAX_RANK; p++) r.perm[p] = (uint8_t)inv[in->perm[p]];
    *out = r;
}

int ft_candidate_list_push(ft_candidate_list *l, const ft_candidate *c)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->items[i].key, c->key) == 0) return 0;
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        ft_candidate *items = realloc(l->items, (size_t)cap * sizeof *items);
        if (!items) return -1;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n++] = *c;
    return 0;
}

void ft_candidate_list_free(ft_candidate_list *l)
{
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* --- the reference kernel of any op, as a family with row-major layouts only --- */

static void lower_case(char *dst, const char *src, size_t n)
{
    size_t i = 0;
    for (; src[i] && i + 1 < n; i++) dst[i] = (char)(src[i] >= 'A' && src[i] <= 'Z' ? src[i] - 'A' + 'a' : src[i]);
    dst[i] = 0;
}

void ft_candidate_init(ft_candidate *c, const ft_kernel_family *f, const ft_node *n, ft_tensor *const *in,
                       ft_tensor *const *out)
{
    memset(c, 0, sizeof *c);
    c->family = f;
    c->n_in = n->n_in < FT_MAX_IO ? n->n_in : FT_MAX_IO;
    for (int i = 0; i < c->n_in; i++) ft_layout_identity(&c->in_layout[i], in[i] ? in[i]->shape.rank : 0);
    ft_layout_identity(&c->out_layout, out[0]->shape.rank);
}

static int ref_enumerate(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, ft_candidate_list *list,
                         ft_error *err)
{
    ft_candidate c;
    char op[64];
    ft_candidate_init(&c, &ft_family_reference, n, in, out);
    lower_case(op, n->op_type, sizeof op);
    snprintf(c.key, sizeof c.key, "%s/ref", op);
    if (ft_candidate_list_push(list, &c) != 0) return ft_fail(err, FT_ERR_NOMEM, "out of memory");
    return FT_OK;
}

static int ref_run(ft_kernel_ctx *ctx)
{
    const ft_op_def *op = ctx->node->op;
    if (op->flags & FT_OP_VIEW) return FT_OK;
    ft_op_ctx oc = {ctx->node, ctx->n_in, ctx->n_out, ctx->in, ctx->out, ctx->err};
    return op->run(&oc);
}

const ft_kernel_family ft_family_reference = {"reference", "*", ref_enumerate, NULL, NULL, ref_run, 0};

/* --- the registry --- */

static int applies(const ft_kernel_family *f, const ft_node *n)
{
    return strcmp(f->op_type, n->op_type) == 0;
}

int ft_registry_enumerate(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, ft_candidate_list *list,
                          ft_error *err)
{
    ft_candidate def;
    int rc = ft_registry_default(n, in, out, &def, err);
    if (rc != FT_OK) return rc;
    if (ft_candidate_list_push(list, &def) != 0) return ft_fail(err, FT_ERR_NOMEM, "out of memory");
    for (size_t t = 0; t < sizeof family_tables / sizeof family_tables[0]; t++)
        for (const ft_kernel_family *const *f = family_tables[t]; *f; f++) {
            if (!applies(*f, n)) continue;
            rc = (*f)->enumerate(n, in, out, list, err);
            if (rc != FT_OK) return rc;
        }
    return FT_OK;
}

int ft_registry_default(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, ft_candidate *out_cand,
                        ft_error *err)
{
    ft_candidate_list l = {0};
    for (size_t t = 0; t < sizeof family_tables / sizeof family_tables[0]; t++)
        for (const ft_kernel_family *const *f = family_tables[t]; *f; f++) {
            if (!applies(*f, n)) continue;
            l.n = 0;
            int rc = (*f)->enumerate(n, in, out, &l, err);
            if (rc != FT_OK) {
                ft_candidate_list_free(&l);
                return rc;
            }
            for (int i = 0; i < l.n; i++) {
                int identity = ft_layout_is_identity(&l.items[i].out_layout);
                for (int j = 0; j < l.items[i].n_in; j++) identity &= ft_layout_is_identity(&l.items[i].in_layout[j]);
                if (identity) {
                    *out_cand = l.items[i];
                    ft_candidate_list_free(&l);
                    return FT_OK;
                }
            }
        }
    ft_candidate_list_free(&l);
    ft_candidate_list tmp = {0};
    int rc = ref_enumerate(n, in, out, &tmp, err);
    if (rc == FT_OK) *out_cand = tmp.items[0];
    ft_candidate_list_free(&tmp);
    return rc;
}

const ft_kernel_family *ft_registry_family(const char *name)
{
    if (strcmp(name, ft_family_reference.name) == 0) return &ft_family_reference;
    for (size_t t = 0; t < sizeof family_tables / sizeof family_tables[0]; t++)
        for (const ft_kernel_family *const *f = family_tables[t]; *f; f++)
            if (strcmp((*f)->name, name) == 0) return *f;
    return NULL;
}
