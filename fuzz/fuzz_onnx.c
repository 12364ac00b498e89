/* fuzz_onnx.c - libFuzzer harness: ONNX model bytes through import, prepare and the default plan.
 *
 * External data resolves against a scratch model folder that holds a weights file, a subfolder, a
 * symlink inside, a symlink and a relative path leading out, a folder and a FIFO, so the confinement
 * and the "is it a regular file" checks see every kind of target. Seeds built by scripts/fuzz.sh use
 * these names.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "onnx_import.h"
#include "plan.h"
#include "prepare.h"

static char model_dir[4200];

static void write_file(const char *path, size_t n)
{
    FILE *f = fopen(path, "wb");
    fz_require(f != NULL, "create a file in the model folder");
    for (size_t i = 0; i < n; i++) fputc((int)(i * 7 + 3) & 0xff, f);
    fz_require(fclose(f) == 0, "write a file in the model folder");
}

static void make_model_dir(void)
{
    const char *root = fz_scratch_dir();
    char p[4400], outside[4400];
    snprintf(outside, sizeof outside, "%s/outside.bin", root);
    write_file(outside, 64);
    snprintf(model_dir, sizeof model_dir, "%s/model", root);
    fz_require(mkdir(model_dir, 0700) == 0, "mkdir model folder");
    snprintf(p, sizeof p, "%s/weights.bin", model_dir);
    write_file(p, 4096);
    snprintf(p, sizeof p, "%s/sub", model_dir);
    fz_require(mkdir(p, 0700) == 0, "mkdir sub");
    snprintf(p, sizeof p, "%s/sub/w.bin", model_dir);
    write_file(p, 256);
    snprintf(p, sizeof p, "%s/link_in.bin", model_dir);
    fz_require(symlink("weights.bin", p) == 0, "symlink inside");
    snprintf(p, sizeof p, "%s/link_out.bin", model_dir);
    fz_require(symlink(outside, p) == 0, "symlink outside");
    snprintf(p, sizeof p, "%s/adir", model_dir);
    fz_require(mkdir(p, 0700) == 0, "mkdir adir");
    snprintf(p, sizeof p, "%s/pipe", model_dir);
    fz_require(mkfifo(p, 0600) == 0, "mkfifo");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!model_dir[0]) make_model_dir();
    ft_error err = {0};
    ft_graph *g = (ft_graph *)1;
    int rc = ft_onnx_load_buffer(data, size, "fuzz.onnx", model_dir, &g, &err);
    fz_check_error(rc, &err, "ft_onnx_load_buffer");
    if (rc != FT_OK) {
        fz_require(g == NULL, "a failed import leaves *out NULL");
        return 0;
    }
    rc = ft_graph_prepare(g, &err);
    fz_check_error(rc, &err, "ft_graph_prepare");
    if (rc == FT_OK) {
        ft_plan *p = NULL;
        rc = ft_plan_default(g, &p, &err);
        fz_check_error(rc, &err, "ft_plan_default");
        ft_plan_destroy(p);
    }
    ft_graph_destroy(g);
    return 0;
}
