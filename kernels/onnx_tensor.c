/* onnx_tensor.c - decodes onnx.TensorProto (raw, typed fields or confined external data) into ft_tensor. */
#include "onnx_tensor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ft_onnx_dtype(int32_t data_type, ft_dtype *out, const char **name)
{
    static const char *const unsupported[] = {
        "complex64", "complex128", "bfloat16", "float8e4m3fn", "float8e4m3fnuz", "float8e5m2",
        "float8e5m2fnuz", "uint4", "int4", "float4e2m1"};
    switch (data_type) {
    case FT_FLOAT: case FT_UINT8: case FT_INT8: case FT_UINT16: case FT_INT16: case FT_INT32:
    case FT_INT64: case FT_BOOL: case FT_FLOAT16: case FT_DOUBLE: case FT_UINT32: case FT_UINT64:
        *out = (ft_dtype)data_type;
        *name = ft_dtype_name(*out);
        return FT_OK;
    case FT_STRING:
        *name = "string";
        return FT_ERR_UNSUPPORTED;
    default:
        break;
    }
    if (data_type >= 14 && data_type < 14 + (int32_t)(sizeof unsupported / sizeof unsupported[0])) {
        *name = unsupported[data_type - 14];
        return FT_ERR_UNSUPPORTED;
    }
    *name = data_type == 0 ? "undefined" : "unknown";
    return FT_ERR_INPUT;
}

void ft_onnx_copy_le(void *dst, const void *src, size_t n, size_t elsize)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    const uint8_t *s = src;
    uint8_t *d = dst, tmp[16];
    for (size_t i = 0; i < n; i++) {
        /* through tmp so that dst == src swaps in place */
        for (size_t b = 0; b < elsize; b++) tmp[b] = s[i * elsize + elsize - 1 - b];
        memcpy(d + i * elsize, tmp, elsize);
    }
#else
    if (n && dst != src) memcpy(dst, src, n * elsize);
#endif
}

/* Parses a non-negative decimal integer that fills the whole string. */
static int parse_u63(const char *s, int64_t *out)
{
    int64_t v = 0;
    if (!s || !*s) return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        if (v > (INT64_MAX - (*s - '0')) / 10) return -1;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return 0;
}

/* Whether a relative path climbs above its starting folder by its '..' components alone. */
static int path_climbs_out(const char *p)
{
    int depth = 0;
    while (*p) {
        while (*p == '/') p++;
        const char *c = p;
        while (*p && *p != '/') p++;
        size_t n = (size_t)(p - c);
        if (n == 0 || (n == 1 && c[0] == '.')) continue;
        if (n == 2 && c[0] == '.' && c[1] == '.') {
            if (--depth < 0) return 1;
        } else {
            depth++;
        }
    }
    return 0;
}

/* Reads nbytes of external data into a buffer it allocates (*out) only once the file is known to
 * hold them, so a shape that claims gigabytes against a small or forbidden file allocates nothing. */
static int read_external(const Onnx__TensorProto *tp, const char *file, const char *label,
                         const char *dir, size_t nbytes, void **out, ft_error *err)
{
    const char *location = NULL, *s_offset = NULL, *s_length = NULL;
    for (size_t i = 0; i < tp->n_external_data; i++) {
        const Onnx__StringStringEntryProto *kv = tp->external_data[i];
        if (!kv->key) return ft_fail(err, FT_ERR_INPUT, "%s: %s: external_data entry without a key", file, label);
        if (strcmp(kv->key, "location") == 0) location = kv->value;
        else if (strcmp(kv->key, "offset") == 0) s_offset = kv->value;
        else if (strcmp(kv->key, "length") == 0) s_length = kv->value;
    }
    if (!location || !*location)
        return ft_fail(err, FT_ERR_INPUT, "%s: %s: external data without a location", file, label);
    if (location[0] == '/')
        return ft_fail(err, FT_ERR_INPUT,
                       "%s: %s: external data path '%s' is absolute; it must be relative to the model's folder",
                       file, label, location);
    if (path_climbs_out(location))
        return ft_fail(err, FT_ERR_INPUT, "%s: %s: external data path '%s' leaves the model's folder", file, label,
                       location);
    if (!dir)
        return ft_fail(err, FT_ERR_INPUT,
                       "%s: %s: external data '%s' is not allowed here (no model folder to resolve it in)",
                       file, label, location);
    int64_t offset = 0, length = -1;
    if (s_offset && parse_u63(s_offset, &offset) != 0)
        return ft_fail(err, FT_ERR_INPUT, "%s: %s: external data offset '%s' is not a non-negative integer",
                       file, label, s_offset);
    if (s_length && parse_u63(s_length, &length) != 0)
        return ft_fail(err, FT_ERR_INPUT, "%s: %s: external data length '%s' is not a non-negative integer",
                       file, label, s_length);

    int rc = FT_OK, fd = -1;
    char *joined = NULL, *rdir = NULL, *rfile = NULL;
    uint8_t *dst = NULL;
    size_t jn = strlen(dir) + strlen(location) + 2;
    joined = malloc(jn);
    if (!joined) return ft_fail(err, FT_ERR_NOMEM, "%s: %s: out of memory", file, label);
    snprintf(joined, jn, "%s/%s", dir, location);
    rdir = realpath(dir, NULL);
    if (!rdir) {
        rc = ft_fail(err, FT_ERR_FAIL, "%s: %s: cannot resolve the model folder '%s': %s", file, label, dir,
                     strerror(errno));
        goto done;
    }
    rfile = realpath(joined, NULL);
    if (!rfile) {
        rc = ft_fail(err, FT_ERR_INPUT, "%s: %s: external data file '%s' cannot be opened: %s", file, label,
                     location, strerror(errno));
        goto done;
    }
    /* Symlinks are resolved by realpath, so a link pointing out of the folder is caught here too. */
    size_t rl = strlen(rdir);
    int inside = strcmp(rdir, "/") == 0 || (strncmp(rfile, rdir, rl) == 0 && rfile[rl] == '/');
    if (!inside) {
        rc = ft_fail(err, FT_ERR_INPUT, "%s: %s: external data path '%s' resolves to '%s', outside the model's folder '%s'",
                     file, label, location, rfile, rdir);
        goto done;
    }
    /* O_NONBLOCK: a FIFO in the model's folder would block the open forever; it is refused below. */
    fd = open(rfile, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        rc = ft_fail(err, FT_ERR_INPUT, "%s: %s: external data file '%s' cannot be opened: %s", file, label,
                     location, strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = ft_fail(err, FT_ERR_INPUT, "%s: %s: external data '%s' is not a regular file", file, label, location);
        goto done;
    }
    int64_t size = (int64_t)st.st_size;
    if (offset > size) {
        rc = ft_fail(err, FT_ERR_INPUT, "%s: %s: external data offset %lld is beyond the end of '%s' (%lld bytes)",
                     file, label, (long long)offset, location, (long long)size);
        goto done;
    }
    if (length >= 0 && length > size - offset) {
        rc = ft_fail(err, FT_ERR_INPUT,
                     "%s: %s: external data offset %lld + length %lld is beyond the end of '%s' (%lld bytes)",
                     file, label, (long long)offset, (long long)length, location, (long long)size);
        goto done;
    }
    if (length < 0) length = size - offset;
    if ((uint64_t)length != (uint64_t)nbytes) {
        rc = ft_fail(err, FT_ERR_INPUT, "%s: %s: external data in '%s' has %lld bytes, the shape needs %zu",
                     file, label, location, (long long)length, nbytes);
        goto done;
    }
    dst = malloc(nbytes ? nbytes : 1);
    if (!dst) {
        rc = ft_fail(err, FT_ERR_NOMEM, "%s: %s: out of memory (%zu bytes)", file, label, nbytes);
        goto done;
    }
    for (size_t got = 0; got < nbytes;) {
        ssize_t r = pread(fd, dst + got, nbytes - got, (off_t)(offset + (int64_t)got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            rc = ft_fail(err, r < 0 ? FT_ERR_FAIL : FT_ERR_INPUT, "%s: %s: reading external data '%s': %s", file,
                         label, location, r < 0 ? strerror(errno) : "file shrank while reading");
            goto done;
        }
        got += (size_t)r;
    }
done:
    if (fd >= 0) close(fd);
    free(joined);
    free(rdir);
    free(rfile);
    if (rc == FT_OK) *out = dst;
    else free(dst);
    return rc;
}

/* Converts the values of one typed field into dst, narrowing as ONNX stores them (int32_data
 * carries the 8/16-bit types and float16 bits, uint64_data carries uint32). */
static void convert_typed(const Onnx__TensorProto *tp, ft_dtype dt, void *dst, size_t n)
{
    if (n == 0) return; /* the field's array is NULL then */
    switch (dt) {
    case FT_FLOAT: memcpy(dst, tp->float_data, n * sizeof(float)); break;
    case FT_DOUBLE: memcpy(dst, tp->double_data, n * sizeof(double)); break;
    case FT_INT64: memcpy(dst, tp->int64_data, n * sizeof(int64_t)); break;
    case FT_INT32: memcpy(dst, tp->int32_data, n * sizeof(int32_t)); break;
    case FT_UINT64: memcpy(dst, tp->uint64_data, n * sizeof(uint64_t)); break;
    case FT_UINT32:
        for (size_t i = 0; i < n; i++) ((uint32_t *)dst)[i] = (uint32_t)tp->uint64_data[i];
        break;
    case FT_INT16:
        for (size_t i = 0; i < n; i++) ((int16_t *)dst)[i] = (int16_t)tp->int32_data[i];
        break;
    case FT_UINT16: case FT_FLOAT16:
        for (size_t i = 0; i < n; i++) ((uint16_t *)dst)[i] = (uint16_t)tp->int32_data[i];
        break;
    case FT_INT8:
        for (size_t i = 0; i < n; i++) ((int8_t *)dst)[i] = (int8_t)tp->int32_data[i];
        break;
    case FT_UINT8:
        for (size_t i = 0; i < n; i++) ((uint8_t *)dst)[i] = (uint8_t)tp->int32_data[i];
        break;
    case FT_BOOL:
        for (size_t i = 0; i < n; i++) ((uint8_t *)dst)[i] = tp->int32_data[i] != 0;
        break;
    default: break;
    }
}

/* The typed field a dtype's values belong in, and its element count. */
static const char *typed_field(const Onnx__TensorProto *tp, ft_dtype dt, size_t *count)
{
    switch (dt) {
    case FT_FLOAT: *count = tp->n_float_data; return "float_data";
    case FT_DOUBLE: *count = tp->n_double_data; return "double_data";
    case FT_INT64: *count = tp->n_int64_data; return "int64_data";
    case FT_UINT32: case FT_UINT64: *count = tp->n_uint64_data; return "uint64_data";
    default: *count = tp->n_int32_data; return "int32_data";
    }
}

int ft_onnx_tensor_decode(Onnx__TensorProto *tp, const char *file, const char *label, const char *dir,
                          ft_tensor *t, ft_error *err)
{
    ft_dtype dt = FT_UNDEFINED;
    const char *dname;
    if (!tp->has_data_type)
        return ft_fail(err, FT_ERR_INPUT, "%s: %s: no data_type", file, label);
    int rc = ft_onnx_dtype(tp->data_type, &dt, &dname);
    if (rc == FT_ERR_UNSUPPORTED)
        return ft_fail(err, rc, "%s: %s: %s tensors are not supported", file, label, dname);
    if (rc != FT_OK)
        return ft_fail(err, rc, "%s: %s: invalid data_type %d", file, label, (int)tp->data_type);
    if (tp->segment)
        return ft_fail(err, FT_ERR_UNSUPPORTED, "%s: %s: segmented tensors are not supported", file, label);
    if (tp->n_dims > FT_MAX_RANK)
        return ft_fail(err, FT_ERR_INPUT, "%s: %s: rank %zu exceeds the maximum of %d", file, label, tp->n_dims,
                       FT_MAX_RANK);
    ft_shape shape = {(int)tp->n_dims, {0}};
    for (size_t i = 0; i < tp->n_dims; i++) {
        if (tp->dims[i] < 0)
            return ft_fail(err, FT_ERR_INPUT, "%s: %s: negative dimension %lld", file, label,
                           (long long)tp->dims[i]);
        shape.dims[i] = tp->dims[i];
    }
    int64_t numel = ft_shape_numel(&shape);
    char sbuf[200];
    if (numel < 0)
        return ft_fail(err, FT_ERR_INPUT, "%s: %s: shape %s has more than %lld elements", file, label,
                       ft_shape_str(&shape, sbuf, sizeof sbuf), (long long)FT_MAX_NUMEL);
    size_t es = ft_dtype_size(dt);
    if ((uint64_t)numel > SIZE_MAX / es)
        return ft_fail(err, FT_ERR_INPUT, "%s: %s: shape %s is too large for this machine", file, label,
                       ft_shape_str(&shape, sbuf, sizeof sbuf));
    size_t n = (size_t)numel, nbytes = n * es;

    if (tp->has_data_location && tp->data_location != ONNX__TENSOR_PROTO__DATA_LOCATION__DEFAULT &&
        tp->data_location != ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return ft_fail(err, FT_ERR_INPUT, "%s: %s: invalid data_location %d", file, label, (int)tp->data_location);
    int external = tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    size_t n_typed_fields = (tp->n_float_data > 0) + (tp->n_int32_data > 0) + (tp->n_string_data > 0) +
                            (tp->n_int64_data > 0) + (tp->n_double_data > 0) + (tp->n_uint64_data > 0);
    int raw = tp->has_raw_data && !external;
    if ((external && (tp->has_raw_data || n_typed_fields)) || (raw && n_typed_fields) || n_typed_fields > 1)
        return ft_fail(err, FT_ERR_INPUT, "%s: %s: holds its values in more than one place "
                       "(raw_data, typed fields, external data)", file, label);
    size_t count = 0;
    const char *field = typed_field(tp, dt, &count);
    if (!raw && !external && n_typed_fields && !count)
        return ft_fail(err, FT_ERR_INPUT, "%s: %s: values in a field that does not fit a %s tensor (%s expected)",
                       file, label, dname, field);

    void *data = NULL;
    unsigned flags = FT_T_CONST;
    if (raw) {
        if (tp->raw_data.len != nbytes)
            return ft_fail(err, FT_ERR_INPUT, "%s: %s: raw_data has %zu bytes, shape %s of %s needs %zu", file,
                           label, tp->raw_data.len, ft_shape_str(&shape, sbuf, sizeof sbuf), dname, nbytes);
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_BIG_ENDIAN__
        /* protobuf-c gives every bytes field its own malloc'ed buffer (freed with free() by
         * free_unpacked): taking it over instead of copying halves peak memory for large weights. */
        if (nbytes > 0 && dt != FT_BOOL) {
            data = tp->raw_data.data;
            tp->raw_data.data = NULL;
            tp->raw_data.len = 0;
        }
#endif
        if (!data) {
            data = malloc(nbytes ? nbytes : 1);
            if (!data) return ft_fail(err, FT_ERR_NOMEM, "%s: %s: out of memory (%zu bytes)", file, label, nbytes);
            ft_onnx_copy_le(data, tp->raw_data.data, n, es);
            if (dt == FT_BOOL)
                for (size_t i = 0; i < n; i++) ((uint8_t *)data)[i] = ((uint8_t *)data)[i] != 0;
        }
    } else {
        if (!external && count != n)
            return ft_fail(err, FT_ERR_INPUT, "%s: %s: %s has %zu values, shape %s needs %zu", file, label, field,
                           count, ft_shape_str(&shape, sbuf, sizeof sbuf), n);
        if (external) {
            rc = read_external(tp, file, label, dir, nbytes, &data, err);
            if (rc != FT_OK) return rc;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
            ft_onnx_copy_le(data, data, n, es);
#endif
            if (dt == FT_BOOL)
                for (size_t i = 0; i < n; i++) ((uint8_t *)data)[i] = ((uint8_t *)data)[i] != 0;
            flags |= FT_T_EXTERNAL;
        } else {
            data = malloc(nbytes ? nbytes : 1);
            if (!data) return ft_fail(err, FT_ERR_NOMEM, "%s: %s: out of memory (%zu bytes)", file, label, nbytes);
            convert_typed(tp, dt, data, n);
        }
    }
    free(t->data);
    t->data = data;
    t->dtype = dt;
    t->shape = shape;
    t->flags |= flags;
    return FT_OK;
}
