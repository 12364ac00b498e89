/* conv_geom.c - reads a 2-D Conv node's attributes into the geometry the tuned Conv families use. */
#include "conv_geom.h"

#include <stdint.h>
#include <string.h>

#include "fast_util.h"

int ft_conv2d_geom_of(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, ft_conv2d_geom *g)
{
    memset(g, 0, sizeof *g);
    if (n->n_in < 2 || !in[0] || !in[1] || !out[0]) return -1;
    const ft_tensor *x = in[0], *w = in[1], *b = n->n_in > 2 ? in[2] : NULL, *y = out[0];
    if (x->dtype != FT_FLOAT || w->dtype != FT_FLOAT || y->dtype != FT_FLOAT || (b && b->dtype != FT_FLOAT)) return -1;
    if (x->shape.rank != 4 || w->shape.rank != 4 || y->shape.rank != 4) return -1;
    if (ft_shape_numel(&x->shape) < 0 || ft_shape_numel(&w->shape) < 0 || ft_shape_numel(&y->shape) < 0) return -1;
    g->n = x->shape.dims[0];
    g->c = x->shape.dims[1];
    g->h = x->shape.dims[2];
    g->w = x->shape.dims[3];
    g->m = w->shape.dims[0];
    g->kh = w->shape.dims[2];
    g->kw = w->shape.dims[3];
    g->group = ft_attr_int(n, "group", 1);
    if (g->group < 1 || g->c < 1 || g->c % g->group || g->m % g->group || w->shape.dims[1] * g->group != g->c)
        return -1;
    if (g->kh < 1 || g->kw < 1) return -1;
    if (b && (b->shape.rank != 1 || b->shape.dims[0] != g->m)) return -1;
    g->has_bias = b != NULL;
    int64_t ks[2], st[2], dil[2], pads[4];
    if (ft_fast_ints_attr(n, "kernel_shape", 2, 0, 1, INT64_MAX, ks)) return -1;
    if (ft_node_attr(n, "kernel_shape") && (ks[0] != g->kh || ks[1] != g->kw)) return -1;
    if (ft_fast_ints_attr(n, "strides", 2, 1, 1, INT64_MAX, st) ||
        ft_fast_ints_attr(n, "dilations", 2, 1, 1, INT64_MAX, dil) ||
        ft_fast_ints_attr(n, "pads", 4, 0, 0, INT64_MAX, pads))
        return -1;
    const char *ap = ft_attr_string(n, "auto_pad", "NOTSET");
    int upper = strcmp(ap, "SAME_UPPER") == 0, lower = strcmp(ap, "SAME_LOWER") == 0, valid = strcmp(ap, "VALID") == 0;
    if (!upper && !lower && !valid && strcmp(ap, "NOTSET") != 0) return -1;
    const int64_t in_sz[2] = {g->h, g->w}, k[2] = {g->kh, g->kw};
    int64_t o[2], pb[2];
    for (int i = 0; i < 2; i++) {
        int64_t eff = dil[i] * (k[i] - 1) + 1;
        if (upper || lower) {
            o[i] = (in_sz[i] + st[i] - 1) / st[i];
            int64_t total = (o[i] - 1) * st[i] + eff - in_sz[i];
            if (total < 0) total = 0;
            pb[i] = upper ? total / 2 : total - total / 2;
            continue;
        }
        pb[i] = valid ? 0 : pads[i];
        int64_t span = in_sz[i] + pb[i] + (valid ? 0 : pads[2 + i]) - eff;
        if (span < 0) return -1;
        o[i] = span / st[i] + 1;
    }
    g->oh = o[0];
    g->ow = o[1];
    g->sh = st[0];
    g->sw = st[1];
    g->dh = dil[0];
    g->dw = dil[1];
    g->ph = pb[0];
    g->pw = pb[1];
    const int64_t *yd = y->shape.dims;
    if (yd[0] != g->n || yd[1] != g->m || yd[2] != g->oh || yd[3] != g->ow) return -1;
    return 0;
}

void ft_conv_valid_range(int64_t off, int64_t stride, int64_t n_in, int64_t n_out, int64_t *lo, int64_t *hi)
{
    int64_t l = off >= 0 ? 0 : (-off + stride - 1) / stride;
    int64_t h = n_in - off > 0 ? (n_in - off + stride - 1) / stride : 0;
    if (h > n_out) h = n_out;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}
