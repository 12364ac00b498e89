/* shape_ops.c - reference kernels (placeholder table until the ops land). */
#include "ops.h"

const ft_op_def ft_ops_shape[] = {{0}};
