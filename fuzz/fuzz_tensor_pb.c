/* fuzz_tensor_pb.c - libFuzzer harness: TensorProto .pb files through ft_tensor_read_pb, and every
 * tensor it accepts back through ft_tensor_write_pb and a second read, which must give the same tensor. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "graph.h"
#include "tensor_io.h"

static volatile uint8_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ft_error err = {0};
    ft_tensor t;
    memset(&t, 0, sizeof t);
    int rc = ft_tensor_read_pb(fz_memfile(data, size), &t, &err);
    fz_check_error(rc, &err, "ft_tensor_read_pb");
    if (rc != FT_OK) return 0;
    fz_require(t.name != NULL, "a read tensor has a name");
    fz_require(t.shape.rank >= 0 && t.shape.rank <= FT_MAX_RANK, "rank within 0..FT_MAX_RANK");
    int64_t numel = ft_shape_numel(&t.shape);
    fz_require(numel >= 0, "a read tensor has a static shape");
    size_t nbytes = ft_tensor_nbytes(&t);
    fz_require(nbytes == (size_t)numel * ft_dtype_size(t.dtype), "nbytes is numel times the element size");
    fz_require(t.data != NULL, "a read tensor has data");
    /* Touch every byte so ASan sees a buffer shorter than the shape says. */
    for (size_t i = 0; i < nbytes; i++) sink ^= ((const uint8_t *)t.data)[i];
    if (t.dtype == FT_BOOL)
        for (size_t i = 0; i < nbytes; i++) fz_require(((const uint8_t *)t.data)[i] <= 1, "bools are 0 or 1");

    char path[4200];
    snprintf(path, sizeof path, "%s/round_trip.pb", fz_scratch_dir());
    rc = ft_tensor_write_pb(path, &t, &err);
    fz_check_error(rc, &err, "ft_tensor_write_pb");
    fz_require(rc == FT_OK, "a tensor that was read can be written");
    ft_tensor u;
    memset(&u, 0, sizeof u);
    rc = ft_tensor_read_pb(path, &u, &err);
    fz_check_error(rc, &err, "ft_tensor_read_pb (round trip)");
    fz_require(rc == FT_OK, "a written tensor reads back");
    fz_require(strcmp(u.name, t.name) == 0, "round trip keeps the name");
    fz_require(u.dtype == t.dtype, "round trip keeps the dtype");
    fz_require(ft_shape_equal(&u.shape, &t.shape), "round trip keeps the shape");
    fz_require(nbytes == 0 || memcmp(u.data, t.data, nbytes) == 0, "round trip keeps the bytes");
    ft_tensor_clear(&u);
    ft_tensor_clear(&t);
    return 0;
}
