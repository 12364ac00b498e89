/* conv_geom.h - the geometry of a 2-D float32 Conv in NCHW, shared by the tuned Conv families. */
#ifndef FT_CONV_GEOM_H
#define FT_CONV_GEOM_H

#include "graph.h"

typedef struct ft_conv2d_geom {
    int64_t n, c, h, w;     /* input */
    int64_t m, kh, kw;      /* weights [m, c / group, kh, kw] */
    int64_t oh, ow;         /* output spatial size */
    int64_t sh, sw, dh, dw; /* strides and dilations */
    int64_t ph, pw;         /* padding before the first row and column */
    int64_t group;
    int has_bias;
} ft_conv2d_geom;

/* 0 when node n is a 2-D float32 Conv whose attributes and shapes agree with its output's shape
 * (auto_pad, pads, strides, dilations, group, optional bias [m]); -1 otherwise: the reference
 * kernel serves or reports everything else (1-D and 3-D Conv, other types, bad attributes). */
int ft_conv2d_geom_of(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, ft_conv2d_geom *g);

/* For output positions o in [0, n_out), the input index o * stride + off lies in [0, n_in)
 * exactly for o in [*lo, *hi). */
void ft_conv_valid_range(int64_t off, int64_t stride, int64_t n_in, int64_t n_out, int64_t *lo, int64_t *hi);

#endif
