/* tensor_io.c - reads and writes single onnx.TensorProto files, ONNX's test data set format. */
#include "tensor_io.h"

#include "graph.h"
#include "onnx_tensor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A tensor file bigger than this is not test data; it also keeps the read buffer sane. */
#define TIO_MAX_FILE ((int64_t)1 << 36)

static int read_file(const char *path, uint8_t **out, size_t *len, ft_error *err)
{
    /* O_NONBLOCK: opening a FIFO without a writer would wait forever; it is refused below instead. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return ft_fail(err, errno == ENOENT || errno == ENOTDIR ? FT_ERR_INPUT : FT_ERR_FAIL, "%s: cannot open: %s",
                       path, strerror(errno));
    struct stat st;
    int rc = FT_OK;
    uint8_t *buf = NULL;
    if (fstat(fd, &st) != 0) {
        rc = ft_fail(err, FT_ERR_FAIL, "%s: cannot stat: %s", path, strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = ft_fail(err, FT_ERR_INPUT, "%s: not a regular file", path);
        goto done;
    }
    if ((int64_t)st.st_size > TIO_MAX_FILE || (uint64_t)st.st_size > SIZE_MAX - 1) {
        rc = ft_fail(err, FT_ERR_INPUT, "%s: %lld bytes is too large for a tensor file", path, (long long)st.st_size);
        goto done;
    }
    size_t n = (size_t)st.st_size;
    buf = malloc(n ? n : 1);
    if (!buf) {
        rc = ft_fail(err, FT_ERR_NOMEM, "%s: out of memory (%zu bytes)", path, n);
        goto done;
    }
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            rc = ft_fail(err, r < 0 ? FT_ERR_FAIL : FT_ERR_INPUT, "%s: read failed: %s", path,
                         r < 0 ? strerror(errno) : "file shrank while reading");
            goto done;
        }
        got += (size_t)r;
    }
    *out = buf;
    *len = n;
    buf = NULL;
done:
    free(buf);
    close(fd);
    return rc;
}

int ft_tensor_read_pb(const char *path, ft_tensor *t, ft_error *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = read_file(path, &buf, &len, err);
    if (rc) return rc;
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, buf);
    free(buf);
    if (!tp) return ft_fail(err, FT_ERR_INPUT, "%s: not a TensorProto (malformed or truncated protobuf)", path);
    ft_tensor v;
    memset(&v, 0, sizeof v);
    v.producer = -1;
    v.alias_of = -1;
    char label[300];
    snprintf(label, sizeof label, "tensor '%.256s'", tp->name ? tp->name : "");
    /* dir NULL: a test-data tensor has no model folder its external data could be confined to. */
    rc = ft_onnx_tensor_decode(tp, path, label, NULL, &v, err);
    if (rc == FT_OK) {
        v.flags = 0; /* a value read from a file, not a graph constant */
        v.name = strdup(tp->name ? tp->name : "");
        if (!v.name) rc = ft_fail(err, FT_ERR_NOMEM, "%s: out of memory", path);
    }
    onnx__tensor_proto__free_unpacked(tp, NULL);
    if (rc) {
        ft_tensor_clear(&v);
        return rc;
    }
    *t = v;
    return FT_OK;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int ft_tensor_write_pb(const char *path, const ft_tensor *t, ft_error *err)
{
    const char *tn = t->name ? t->name : "";
    size_t es = ft_dtype_size(t->dtype);
    if (es == 0)
        return ft_fail(err, FT_ERR_UNSUPPORTED, "%s: tensor '%s': cannot write %s tensors", path, tn,
                       ft_dtype_name(t->dtype));
    int64_t numel = ft_shape_numel(&t->shape);
    char sb[200];
    if (numel < 0)
        return ft_fail(err, FT_ERR_INPUT, "%s: tensor '%s': shape %s is not static", path, tn,
                       ft_shape_str(&t->shape, sb, sizeof sb));
    if (!t->data && numel > 0) return ft_fail(err, FT_ERR_INPUT, "%s: tensor '%s' has no data", path, tn);

    size_t nbytes = (size_t)numel * es;
    Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
    int64_t dims[FT_MAX_RANK];
    for (int i = 0; i < t->shape.rank; i++) dims[i] = t->shape.dims[i];
    tp.n_dims = (size_t)t->shape.rank;
    tp.dims = dims;
    tp.has_data_type = 1;
    tp.data_type = (int32_t)t->dtype;
    tp.name = (char *)tn;
    tp.has_raw_data = 1;
    tp.raw_data.len = nbytes;

    int rc = FT_OK, fd = -1, created = 0;
    uint8_t *raw = NULL, *packed = NULL;
    char *tmp = NULL;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    raw = malloc(nbytes ? nbytes : 1);
    if (!raw) {
        rc = ft_fail(err, FT_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    if (t->data) ft_onnx_copy_le(raw, t->data, (size_t)numel, es);
    tp.raw_data.data = raw;
#else
    static uint8_t no_bytes[1]; /* protobuf-c would memcpy from NULL for an empty tensor */
    tp.raw_data.data = t->data ? t->data : no_bytes;
#endif
    size_t plen = onnx__tensor_proto__get_packed_size(&tp);
    packed = malloc(plen ? plen : 1);
    size_t tlen = strlen(path) + 32;
    tmp = malloc(tlen);
    if (!packed || !tmp) {
        rc = ft_fail(err, FT_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    onnx__tensor_proto__pack(&tp, packed);
    /* Write beside the target and rename: readers see the old file or the whole new one. */
    snprintf(tmp, tlen, "%s.tmp.%ld", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = ft_fail(err, FT_ERR_FAIL, "%s: cannot create '%s': %s", path, tmp, strerror(errno));
        goto done;
    }
    created = 1;
    if (write_all(fd, packed, plen) != 0 || fsync(fd) != 0) {
        rc = ft_fail(err, FT_ERR_FAIL, "%s: cannot write '%s': %s", path, tmp, strerror(errno));
        goto done;
    }
    int c = close(fd);
    fd = -1;
    if (c != 0) {
        rc = ft_fail(err, FT_ERR_FAIL, "%s: cannot write '%s': %s", path, tmp, strerror(errno));
        goto done;
    }
    if (rename(tmp, path) != 0) rc = ft_fail(err, FT_ERR_FAIL, "%s: cannot rename '%s' to it: %s", path, tmp, strerror(errno));
done:
    if (fd >= 0) close(fd);
    if (rc != FT_OK && created) unlink(tmp);
    free(tmp);
    free(packed);
    free(raw);
    return rc;
}
