/* linalg.c - tuned kernel families (the table fills as the families land). */
#include "registry.h"

const ft_kernel_family *const ft_families_linalg[] = {NULL};
