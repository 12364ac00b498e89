/* onnx_import.h - reads an ONNX ModelProto (protobuf-c, onnx.proto from libonnx-dev) into an ft_graph.
 *
 * What it does: graph inputs (initializers excluded) with their dtypes and possibly dynamic dims,
 * outputs, initializers (raw_data and the typed fields, external data confined to the model's
 * folder, symlinks resolved), Constant nodes turned into constant tensors (value, value_float(s),
 * value_int(s)), nodes in a topological order (a cycle is an error), and the SHA-256 of the file.
 * It checks that every node input names a tensor that exists and that every tensor's data size
 * agrees with its shape. Operator support and shapes are ft_graph_prepare's business.
 */
#ifndef FT_ONNX_IMPORT_H
#define FT_ONNX_IMPORT_H

#include "graph.h"

/* Loads the model at path. On failure returns FT_ERR_INPUT (malformed, truncated, inconsistent:
 * the message names the file and the tensor or node) or FT_ERR_FAIL (I/O), and *out is NULL. */
int ft_onnx_load(const char *path, ft_graph **out, ft_error *err);
/* The same from bytes in memory; dir is the folder external data is resolved against (may be
 * NULL: then external data is refused). name is used in messages. */
int ft_onnx_load_buffer(const uint8_t *buf, size_t len, const char *name, const char *dir,
                        ft_graph **out, ft_error *err);

#endif
