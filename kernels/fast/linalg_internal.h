/* linalg_internal.h - what the MatMul, Gemm and Conv kernel families share: how a GEMM schedule is
 * stored in a candidate's params[], which schedules are worth measuring for a problem, and the
 * family objects that kernels/fast/linalg.c lists. */
#ifndef FT_LINALG_INTERNAL_H
#define FT_LINALG_INTERNAL_H

#include "gemm/gemm.h"
#include "registry.h"

/* Indices into ft_candidate.params of every GEMM-based candidate. */
enum {
    FT_LP_ISA = 0,
    FT_LP_MR,
    FT_LP_NR,
    FT_LP_MC,
    FT_LP_KC,
    FT_LP_NC,
    FT_LP_LOOP,
    FT_LP_PACK_A,
    FT_LP_PACK_B,
    FT_LP_PREPACK, /* 1: op(B) is constant and packed once, in prepare */
    FT_LP_VARIANT  /* family-specific (Conv: which operand the weights are) */
};

/* A complete GEMM schedule (every field of q concrete) and whether B comes pre-packed. */
typedef struct ft_linalg_schedule {
    ft_gemm_params q;
    int prepack;
} ft_linalg_schedule;

/* One GEMM call as a node's kernel issues it (per batch, per image or per group). */
typedef struct ft_linalg_problem {
    int64_t M, N, K;
    int trans_a, trans_b;
    int can_prepack; /* op(B) is a constant the kernel may pack once */
} ft_linalg_problem;

#define FT_LINALG_MAX_SCHEDULES 40

/* The schedules worth measuring for p, the default first (ft_gemm_default_params, pre-packed when
 * B may be); at most FT_LINALG_MAX_SCHEDULES, pruned of tiles and blocks larger than the problem
 * and of knobs that change nothing. short_list keeps a handful (for layouts beyond row-major, so
 * a signature's candidates stay within what a sweep measures in minutes). Returns the count. */
int ft_linalg_schedules(const ft_linalg_problem *p, int short_list, ft_linalg_schedule *out);
void ft_linalg_schedule_store(const ft_linalg_schedule *s, int32_t *params);
void ft_linalg_schedule_load(const int32_t *params, ft_linalg_schedule *s);
/* "avx512/8x48/mc128kc384/aresident/Ainplace/Bprepack" (nc only where the loop order uses it). */
void ft_linalg_schedule_str(const ft_linalg_schedule *s, char *buf, size_t n);

/* Pushes one candidate of family f for node n per schedule worth measuring for p (row-major
 * layouts), keyed "<prefix>/<schedule>" or "<prefix>/<schedule>/<suffix>" when suffix is not NULL.
 * FT_OK, or FT_ERR_NOMEM through err. */
int ft_linalg_push_schedules(const ft_linalg_problem *p, const ft_kernel_family *f, const ft_node *n,
                             ft_tensor *const *in, ft_tensor *const *out, const char *prefix, const char *suffix,
                             ft_candidate_list *list, ft_error *err);

/* The bytes of scratch one call of s on p needs: with pb (B pre-packed for s) the packed call's,
 * otherwise ft_gemm_workspace_size's. FT_OK or the resolve error. */
int ft_linalg_workspace(const ft_linalg_schedule *s, const ft_linalg_problem *p, const ft_gemm_packed_b *pb,
                        size_t *bytes, ft_error *err);

extern const ft_kernel_family ft_family_matmul_gemm;          /* linalg_matmul.c */
extern const ft_kernel_family ft_family_matmul_fused;         /* linalg_matmul.c */
extern const ft_kernel_family ft_family_gemm_gemm;            /* linalg_gemm.c */
extern const ft_kernel_family ft_family_conv_im2col;          /* conv_im2col.c */
extern const ft_kernel_family ft_family_conv_direct_depthwise; /* conv_depthwise.c */
extern const ft_kernel_family ft_family_conv_im2col_nhwc;      /* conv_nhwc.c */
extern const ft_kernel_family ft_family_conv_direct_nchwc;     /* conv_nchwc.c */

#endif
