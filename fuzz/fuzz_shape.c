/* fuzz_shape.c - libFuzzer harness: --shape arguments (one per input line) through ft_cli_parse_shape.
 * Each accepted shape must be what the parser promises: a name, at most FT_MAX_RANK dims in 0..2^31,
 * a countable element total, no name twice. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    fz_require(text != NULL, "malloc");
    memcpy(text, data, size);
    text[size] = 0;
    ft_cli_shapes *shapes = calloc(1, sizeof *shapes);
    fz_require(shapes != NULL, "calloc");
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        ft_error err = {0};
        int before = shapes->n;
        int rc = ft_cli_parse_shape(line, shapes, &err);
        fz_check_error(rc, &err, "ft_cli_parse_shape");
        if (rc != FT_OK) {
            fz_require(shapes->n == before, "a refused --shape adds nothing");
            continue;
        }
        fz_require(shapes->n == before + 1, "an accepted --shape adds one entry");
        const ft_cli_shape *s = &shapes->s[before];
        fz_require(s->name_len > 0 && strlen(s->name) == s->name_len, "a shape has a non-empty name");
        fz_require(s->shape.rank >= 0 && s->shape.rank <= FT_MAX_RANK, "rank within 0..FT_MAX_RANK");
        for (int d = 0; d < s->shape.rank; d++)
            fz_require(s->shape.dims[d] >= 0 && s->shape.dims[d] <= ((int64_t)1 << 31), "dims within 0..2^31");
        fz_require(ft_shape_numel(&s->shape) >= 0, "an accepted shape has a countable element total");
        for (int i = 0; i < before; i++) fz_require(strcmp(shapes->names[i], s->name) != 0, "no name twice");
    }
    free(shapes);
    free(text);
    return 0;
}
