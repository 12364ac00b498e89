/* build_info.c - the identity of this kernel build, which plan files are bound to. */
#include "build_info.h"

#include "ft_build_id.h"

const char *ft_kernel_build_id(void)
{
    return FT_KERNEL_BUILD_ID;
}

const char *ft_kernel_compiler(void)
{
    return FT_KERNEL_COMPILER;
}

const char *ft_kernel_flags(void)
{
    return FT_KERNEL_FLAGS;
}
