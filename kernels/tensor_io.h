/* tensor_io.h - single ONNX TensorProto files (.pb), as ONNX's test data sets store inputs and outputs. */
#ifndef FT_TENSOR_IO_H
#define FT_TENSOR_IO_H

#include "ft_common.h"

/* Reads one TensorProto from path into *t (name, dtype, shape, data malloc'ed and owned by t;
 * free with ft_tensor_clear). Errors name the file. */
int ft_tensor_read_pb(const char *path, ft_tensor *t, ft_error *err);
/* Writes t (data required) as one TensorProto with raw_data, via a temporary file and rename so
 * a crash never leaves a half-written file. */
int ft_tensor_write_pb(const char *path, const ft_tensor *t, ft_error *err);

#endif
