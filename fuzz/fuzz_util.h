/* fuzz_util.h - what the libFuzzer harnesses share: inputs as files, scratch folders, invariants. */
#ifndef FT_FUZZ_UTIL_H
#define FT_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "ft_common.h"

/* Writes the bytes to an in-memory file (memfd) and returns a path that opens it, so readers that
 * only take a path see the input without touching the disk. The same file is reused by every call. */
const char *fz_memfile(const uint8_t *data, size_t size);

/* A fresh folder under $TMPDIR (or /tmp), made once per process and removed at exit. */
const char *fz_scratch_dir(void);

/* Removes everything inside dir (not dir itself). */
void fz_empty_dir(const char *dir);

/* Aborts, so libFuzzer records the input, when a failing call left no message or an unknown code:
 * every refusal must say what is wrong. */
void fz_check_error(int rc, const ft_error *err, const char *what);

/* Aborts with a message when cond is false. */
void fz_require(int cond, const char *what);

#endif
