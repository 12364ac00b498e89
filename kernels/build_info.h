/* build_info.h - the identity of this kernel build: a digest of the kernel sources, compiler and flags. */
#ifndef FT_BUILD_INFO_H
#define FT_BUILD_INFO_H

const char *ft_kernel_build_id(void); /* 16 hex digits */
const char *ft_kernel_compiler(void);
const char *ft_kernel_flags(void);

#endif
