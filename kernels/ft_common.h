/* ft_common.h - status codes, errors, element types, shapes and tensors shared by every module.
 *
 * Library code never prints or exits: it returns an ft_status and fills an ft_error whose message
 * names the file, node or tensor at fault. Only the CLI turns that into stderr text and an exit code.
 */
#ifndef FT_COMMON_H
#define FT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define FT_MAX_RANK 8
/* Refuse element counts above this (2^34 elements = 64 GiB of fp32): an absurd shape is bad input. */
#define FT_MAX_NUMEL ((int64_t)1 << 34)

typedef enum ft_status {
    FT_OK = 0,
    FT_ERR_FAIL = 1,        /* an internal failure: I/O error, allocation failure */
    FT_ERR_INPUT = 2,       /* the user's input is wrong: malformed file, bad shape, missing tensor */
    FT_ERR_UNSUPPORTED = 3, /* well-formed input that fluidtune does not implement (op, dtype, attribute) */
    FT_ERR_NOMEM = 4
} ft_status;

typedef struct ft_error {
    int code;
    char msg[1024];
} ft_error;

/* Sets err (if non-NULL) and returns code, so callers can `return ft_fail(err, FT_ERR_INPUT, ...)`. */
int ft_fail(ft_error *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Values match onnx.TensorProto.DataType. */
typedef enum ft_dtype {
    FT_UNDEFINED = 0,
    FT_FLOAT = 1,
    FT_UINT8 = 2,
    FT_INT8 = 3,
    FT_UINT16 = 4,
    FT_INT16 = 5,
    FT_INT32 = 6,
    FT_INT64 = 7,
    FT_STRING = 8,
    FT_BOOL = 9, /* stored as one uint8_t per element, 0 or 1 */
    FT_FLOAT16 = 10,
    FT_DOUBLE = 11,
    FT_UINT32 = 12,
    FT_UINT64 = 13
} ft_dtype;

/* Bytes per element, 0 for types without a fixed size (string, undefined). */
size_t ft_dtype_size(ft_dtype t);
const char *ft_dtype_name(ft_dtype t);

typedef struct ft_shape {
    int rank;
    int64_t dims[FT_MAX_RANK]; /* -1 = not yet known (a dynamic dim) */
} ft_shape;

/* Product of dims; 1 for rank 0. Returns -1 when a dim is unknown or negative, or the product
 * would exceed FT_MAX_NUMEL (checked without overflow). */
int64_t ft_shape_numel(const ft_shape *s);
int ft_shape_equal(const ft_shape *a, const ft_shape *b);
/* Formats as "[1,128,768]" into buf; returns buf. */
char *ft_shape_str(const ft_shape *s, char *buf, size_t n);
/* Row-major strides in elements. */
void ft_shape_strides(const ft_shape *s, int64_t *strides);

enum {
    FT_T_CONST = 1u << 0,  /* value known at load time (initializer, Constant, folded) */
    FT_T_INPUT = 1u << 1,  /* graph input fed at run time */
    FT_T_OUTPUT = 1u << 2, /* graph output */
    FT_T_VIEW = 1u << 3,   /* same bytes as tensor alias_of (Reshape, Squeeze, Identity, ...) */
    FT_T_EXTERNAL = 1u << 4 /* data was read from an external file */
};

typedef struct ft_tensor {
    char *name;
    ft_dtype dtype;
    ft_shape shape;
    /* Row-major contiguous elements. Owned by the graph for FT_T_CONST tensors; at run time the
     * executor points it into its buffers. */
    void *data;
    unsigned flags;
    int producer;  /* index of the node that writes it, -1 for inputs and constants */
    int alias_of;  /* for FT_T_VIEW: index of the tensor whose bytes it shares (never itself a view) */
    int n_consumers;
    /* Symbolic names of dynamic dims of a graph input (dim_param), NULL where none. */
    char *dim_param[FT_MAX_RANK];
} ft_tensor;

/* Bytes of t's data (numel * dtype size), or 0 if unknown. */
size_t ft_tensor_nbytes(const ft_tensor *t);

#endif
