/* linalg.c - the MatMul, Gemm and Conv kernel families, in order of preference for the default plan
 * (the direct depthwise Conv before im2col, which serves every group count but a depthwise one
 * poorly; the NHWC and NCHW16c Conv families last: they offer no row-major candidate, so they never
 * take the default). */
#include "linalg_internal.h"

const ft_kernel_family *const ft_families_linalg[] = {&ft_family_matmul_gemm, &ft_family_matmul_fused, &ft_family_gemm_gemm,
                                                      &ft_family_conv_direct_depthwise, &ft_family_conv_im2col,
                                                      &ft_family_conv_im2col_nhwc, &ft_family_conv_direct_nchwc, NULL};
