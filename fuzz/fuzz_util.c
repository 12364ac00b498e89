/* fuzz_util.c - memfd-backed input files, scratch folders and invariant checks for the harnesses. */
#include "fuzz_util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int memfd = -1;
static char memfd_path[64];
static char scratch[4096];

const char *fz_memfile(const uint8_t *data, size_t size)
{
    if (memfd < 0) {
        memfd = memfd_create("fuzz-input", MFD_CLOEXEC);
        fz_require(memfd >= 0, "memfd_create");
        snprintf(memfd_path, sizeof memfd_path, "/proc/self/fd/%d", memfd);
    }
    fz_require(ftruncate(memfd, 0) == 0, "ftruncate");
    for (size_t off = 0; off < size;) {
        ssize_t w = pwrite(memfd, data + off, size - off, (off_t)off);
        fz_require(w > 0, "pwrite");
        off += (size_t)w;
    }
    return memfd_path;
}

static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        fz_empty_dir(path);
        rmdir(path);
    } else {
        unlink(path);
    }
}

void fz_empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[8192];
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        remove_tree(p);
    }
    closedir(d);
}

static void remove_scratch(void)
{
    if (scratch[0]) remove_tree(scratch);
}

const char *fz_scratch_dir(void)
{
    if (scratch[0]) return scratch;
    const char *tmp = getenv("TMPDIR");
    snprintf(scratch, sizeof scratch, "%s/ftfuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    fz_require(mkdtemp(scratch) != NULL, "mkdtemp");
    atexit(remove_scratch);
    return scratch;
}

void fz_check_error(int rc, const ft_error *err, const char *what)
{
    if (rc == FT_OK) return;
    if (rc < FT_ERR_FAIL || rc > FT_ERR_NOMEM) {
        fprintf(stderr, "%s: unknown status %d\n", what, rc);
        abort();
    }
    if (err->code != rc) {
        fprintf(stderr, "%s: returned status %d but the error says %d (%s)\n", what, rc, err->code, err->msg);
        abort();
    }
    if (err->msg[0] == 0) {
        fprintf(stderr, "%s: failed with status %d and no message\n", what, rc);
        abort();
    }
}

void fz_require(int cond, const char *what)
{
    if (cond) return;
    fprintf(stderr, "fuzz invariant broken: %s\n", what);
    abort();
}
