/* isa.c - run-time instruction-set detection for the tuned kernels. */
#include "isa.h"

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

int ft_fast_isa_supported(int isa)
{
    switch (isa) {
    case FT_FAST_SCALAR:
        return 1;
#if defined(__x86_64__)
    /* libgcc and compiler-rt report a feature only when XCR0 says the OS saves its registers. */
    case FT_FAST_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case FT_FAST_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx2");
#endif
#if defined(__aarch64__)
    case FT_FAST_NEON:
#if defined(__linux__)
        return (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
#else
        return 1;
#endif
#endif
    default:
        return 0;
    }
}

int ft_fast_isa_best(void)
{
    for (int isa = FT_FAST_N_ISA - 1; isa > FT_FAST_SCALAR; isa--)
        if (ft_fast_isa_supported(isa)) return isa;
    return FT_FAST_SCALAR;
}

const char *ft_fast_isa_name(int isa)
{
    switch (isa) {
    case FT_FAST_SCALAR: return "scalar";
    case FT_FAST_AVX2: return "avx2";
    case FT_FAST_AVX512: return "avx512";
    case FT_FAST_NEON: return "neon";
    default: return "?";
    }
}
