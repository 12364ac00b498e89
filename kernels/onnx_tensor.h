/* onnx_tensor.h - onnx.TensorProto to ft_tensor: the decoding shared by model initializers,
 * tensor attributes and single-tensor .pb files.
 *
 * Internal to kernels/: it exposes protobuf-c types, so only the importer and tensor I/O include it.
 */
#ifndef FT_ONNX_TENSOR_H
#define FT_ONNX_TENSOR_H

#include "ft_common.h"
#include "onnx/onnx.pb-c.h"

/* Maps an ONNX TensorProto.DataType to ft_dtype. FT_ERR_UNSUPPORTED (string, complex, bfloat16,
 * float8, 4-bit types) or FT_ERR_INPUT (undefined or unknown value); *name gets a printable name. */
int ft_onnx_dtype(int32_t data_type, ft_dtype *out, const char **name);

/* Decodes tp's dtype, shape and data into t (t->name is left alone, flags get FT_T_CONST and
 * FT_T_EXTERNAL when read from an external file). Data comes from raw_data (little-endian), the
 * typed field that fits the dtype, or external data resolved against dir, which must stay inside
 * dir after symlinks are resolved; dir NULL refuses external data. file and label name the source in
 * messages ("model.onnx", "tensor 'W'"). tp's raw_data buffer may be taken over instead of copied,
 * so tp is not const. On failure t's dtype, shape and data are untouched. */
int ft_onnx_tensor_decode(Onnx__TensorProto *tp, const char *file, const char *label,
                          const char *dir, ft_tensor *t, ft_error *err);

/* Copies n elements of elsize bytes between little-endian and host order (a memcpy on
 * little-endian hosts). */
void ft_onnx_copy_le(void *dst, const void *src, size_t n, size_t elsize);

#endif
