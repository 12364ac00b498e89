/* pool_avx2.c - the MaxPool kernel (pool_impl.h) compiled for AVX2: the compiler's 8-float vectors
 * halve the instructions of the channel loops, which brings NHWC and NCHW16c to memory speed. */
#define FT_POOL_MAX_FN ft_f32_maxpool_avx2
#include "pool_impl.h"
