/* families.h - the tuned kernel families defined in one kernels/fast file and listed in another's
 * table (registry.c reads the tables: ft_families_eltwise in eltwise.c, ft_families_movement in
 * movement.c). */
#ifndef FT_FAST_FAMILIES_H
#define FT_FAST_FAMILIES_H

#include "registry.h"

/* normalize.c */
extern const ft_kernel_family ft_family_softmax;
extern const ft_kernel_family ft_family_logsoftmax;
extern const ft_kernel_family ft_family_layernorm;
extern const ft_kernel_family ft_family_reducesum;
extern const ft_kernel_family ft_family_reducemean;
extern const ft_kernel_family ft_family_reducemax;

#endif
