/* pool.h - the geometry of a 2-D float32 pool and the MaxPool kernels compiled per ISA (pool_impl.h),
 * shared by the pooling families of pool.c and the ISA files that compile the kernels. */
#ifndef FT_FAST_POOL_H
#define FT_FAST_POOL_H

#include <stdint.h>

/* The layouts a pooling candidate reads its input and writes its output in (the same for both). */
enum { FT_POOL_NCHW = 0, FT_POOL_NHWC = 1, FT_POOL_NCHW16C = 2 };

typedef struct ft_pool_geom {
    int64_t n, c, h, w, oh, ow;
    int64_t kh, kw, sh, sw, dh, dw;
    int64_t ph, pw, pe_h, pe_w; /* padding before and after each spatial dim */
    int count_pad;              /* AveragePool count_include_pad */
} ft_pool_geom;

/* MaxPool of x into y, both in `layout`, exactly as the reference computes it. */
void ft_f32_maxpool_scalar(const ft_pool_geom *g, int layout, const float *x, float *y);
#if defined(__x86_64__)
void ft_f32_maxpool_avx2(const ft_pool_geom *g, int layout, const float *x, float *y);
#endif

#endif
