/* isa.h - which instruction sets the tuned kernels of kernels/fast may use on this CPU.
 *
 * The avx2 and avx512 kernel files exist only in x86-64 builds (CMake drops them elsewhere), so
 * everything that names them is guarded by __x86_64__; scalar kernels are portable C11.
 */
#ifndef FT_FAST_ISA_H
#define FT_FAST_ISA_H

typedef enum ft_fast_isa {
    FT_FAST_SCALAR = 0, /* portable C */
    FT_FAST_AVX2 = 1,   /* AVX2 + FMA */
    FT_FAST_AVX512 = 2, /* AVX-512 F, VL, BW, DQ + FMA (what the avx512 files are compiled for) */
    FT_FAST_NEON = 3,   /* AArch64 Advanced SIMD (the neon files exist only in aarch64 builds) */
    FT_FAST_N_ISA = 4
} ft_fast_isa;

/* 1 if this build contains kernels for isa and the CPU and OS can run them. */
int ft_fast_isa_supported(int isa);
/* The widest supported ISA. */
int ft_fast_isa_best(void);
/* "scalar", "avx2", "avx512", "neon", or "?" */
const char *ft_fast_isa_name(int isa);

#endif
