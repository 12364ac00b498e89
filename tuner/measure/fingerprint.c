/* fingerprint.c - machine fingerprint from /proc/cpuinfo, sysfs, sysconf and uname; build fingerprint. */
#include "fingerprint.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

#include "sha256.h"

#ifndef FT_BUILD_FLAGS
#define FT_BUILD_FLAGS "unknown (FT_BUILD_FLAGS not defined by the build)"
#endif

#if defined(__clang__)
#define FT_COMPILER_STRING __VERSION__ /* "Debian Clang 14.0.6" names the compiler itself */
#elif defined(__GNUC__)
#define FT_COMPILER_STRING "gcc " __VERSION__
#else
#define FT_COMPILER_STRING "unknown C compiler"
#endif

/* The features kernels are specialised for. The order is part of the machine id: append only. */
static const struct {
    const char *name; /* as fluidtune spells it */
    const char *x86;  /* the /proc/cpuinfo "flags" word on x86, NULL if none */
    const char *arm;  /* the /proc/cpuinfo "Features" word on ARM, NULL if none */
} isa_features[] = {
    {"sse4.2", "sse4_2", NULL},
    {"avx", "avx", NULL},
    {"avx2", "avx2", NULL},
    {"fma", "fma", NULL},
    {"f16c", "f16c", NULL},
    {"avx512f", "avx512f", NULL},
    {"avx512bw", "avx512bw", NULL},
    {"avx512vl", "avx512vl", NULL},
    {"avx512dq", "avx512dq", NULL},
    {"avx512_vnni", "avx512_vnni", NULL},
    {"avx512_bf16", "avx512_bf16", NULL},
    {"avx_vnni", "avx_vnni", NULL},
    {"amx_tile", "amx_tile", NULL},
    {"neon", NULL, "asimd"},
    {"asimddp", NULL, "asimddp"},
    {"i8mm", NULL, "i8mm"},
    {"bf16", NULL, "bf16"},
    {"sve", NULL, "sve"},
    {"sve2", NULL, "sve2"},
};

static const struct {
    unsigned code;
    const char *name;
} arm_implementers[] = {
    {0x41, "ARM"},    {0x42, "Broadcom"}, {0x43, "Cavium"},  {0x46, "Fujitsu"}, {0x48, "HiSilicon"},
    {0x4e, "NVIDIA"}, {0x51, "Qualcomm"}, {0x53, "Samsung"}, {0x61, "Apple"},   {0xc0, "Ampere"},
};

static void copy_trimmed(char *dst, size_t n, const char *src, size_t len)
{
    while (len && isspace((unsigned char)*src)) src++, len--;
    while (len && isspace((unsigned char)src[len - 1])) len--;
    if (len >= n) len = n - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static void copy_str(char *dst, size_t n, const char *src)
{
    copy_trimmed(dst, n, src, strlen(src));
}

/* The value of "key : value" in the first processor block of cpuinfo text, trimmed; NULL if absent. */
static const char *cpuinfo_field(const char *text, const char *key, char *out, size_t n)
{
    size_t klen = strlen(key);
    const char *line = text;
    while (line && *line) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        /* A blank line before the next "processor" ends the first block (old ARM kernels put shared
         * fields after the last block, without a following "processor"). */
        if (len == 0 && eol && strncmp(eol + 1, "processor", 9) == 0) break;
        if (len > klen && strncmp(line, key, klen) == 0) {
            const char *p = line + klen;
            while (p < line + len && (*p == ' ' || *p == '\t')) p++;
            if (p < line + len && *p == ':') {
                p++;
                copy_trimmed(out, n, p, (size_t)(line + len - p));
                return out;
            }
        }
        line = eol ? eol + 1 : NULL;
    }
    return NULL;
}

static int has_word(const char *list, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += wl) {
        int starts = p == list || p[-1] == ' ' || p[-1] == '\t';
        int ends = p[wl] == '\0' || p[wl] == ' ' || p[wl] == '\t';
        if (starts && ends) return 1;
    }
    return 0;
}

static void append_word(char *dst, size_t n, const char *word)
{
    size_t used = strlen(dst);
    snprintf(dst + used, n - used, "%s%s", used ? " " : "", word);
}

static int parse_int_auto(const char *s, int fallback)
{
    char *end;
    long v = strtol(s, &end, 0);
    return end == s ? fallback : (int)v;
}

static int arch_is_x86(const char *a)
{
    return strcmp(a, "x86_64") == 0 || (a[0] == 'i' && strcmp(a + 2, "86") == 0);
}

static int arch_is_arm(const char *a)
{
    return strncmp(a, "aarch64", 7) == 0 || strncmp(a, "arm", 3) == 0;
}

void ft_machine_parse_cpuinfo(ft_machine *m, const char *cpuinfo, const char *uname_machine)
{
    char v[4096];
    m->vendor[0] = m->model_name[0] = m->isa[0] = '\0';
    m->family = m->model = m->stepping = -1;
    int x86_text = cpuinfo_field(cpuinfo, "vendor_id", v, sizeof v) != NULL;
    if (x86_text) {
        copy_str(m->vendor, sizeof m->vendor, v);
        if (cpuinfo_field(cpuinfo, "model name", v, sizeof v)) copy_str(m->model_name, sizeof m->model_name, v);
        if (cpuinfo_field(cpuinfo, "cpu family", v, sizeof v)) m->family = parse_int_auto(v, -1);
        if (cpuinfo_field(cpuinfo, "model", v, sizeof v)) m->model = parse_int_auto(v, -1);
        if (cpuinfo_field(cpuinfo, "stepping", v, sizeof v)) m->stepping = parse_int_auto(v, -1);
        if (!cpuinfo_field(cpuinfo, "flags", v, sizeof v)) v[0] = '\0';
        for (size_t i = 0; i < sizeof isa_features / sizeof isa_features[0]; i++)
            if (isa_features[i].x86 && has_word(v, isa_features[i].x86))
                append_word(m->isa, sizeof m->isa, isa_features[i].name);
        m->hypervisor = has_word(v, "hypervisor");
    }
    int arm_text = !x86_text && cpuinfo_field(cpuinfo, "CPU implementer", v, sizeof v) != NULL;
    if (arm_text) {
        unsigned impl = (unsigned)parse_int_auto(v, 0);
        const char *name = NULL;
        for (size_t i = 0; i < sizeof arm_implementers / sizeof arm_implementers[0]; i++)
            if (arm_implementers[i].code == impl) name = arm_implementers[i].name;
        if (name)
            copy_str(m->vendor, sizeof m->vendor, name);
        else
            snprintf(m->vendor, sizeof m->vendor, "ARM implementer 0x%02x", impl);
        if (cpuinfo_field(cpuinfo, "CPU architecture", v, sizeof v)) m->family = parse_int_auto(v, -1);
        if (cpuinfo_field(cpuinfo, "CPU part", v, sizeof v)) m->model = parse_int_auto(v, -1);
        if (cpuinfo_field(cpuinfo, "CPU revision", v, sizeof v)) m->stepping = parse_int_auto(v, -1);
        char variant[64] = "";
        cpuinfo_field(cpuinfo, "CPU variant", variant, sizeof variant);
        if (cpuinfo_field(cpuinfo, "model name", v, sizeof v))
            copy_str(m->model_name, sizeof m->model_name, v);
        else
            snprintf(m->model_name, sizeof m->model_name, "part 0x%03x variant %s", (unsigned)m->model,
                     variant[0] ? variant : "?");
        if (!cpuinfo_field(cpuinfo, "Features", v, sizeof v)) v[0] = '\0';
        for (size_t i = 0; i < sizeof isa_features / sizeof isa_features[0]; i++)
            if (isa_features[i].arm && has_word(v, isa_features[i].arm))
                append_word(m->isa, sizeof m->isa, isa_features[i].name);
    }
    /* qemu-user passes the host's /proc/cpuinfo through while uname reports the guest architecture. */
    m->emulated = (x86_text && arch_is_arm(uname_machine)) || (arm_text && arch_is_x86(uname_machine));
}

/* Bytes from a sysfs cache size such as "48K" or "32M"; 0 when unreadable. */
static int64_t parse_cache_size(const char *s)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || v < 0) return 0;
    if (*end == 'K')
        v *= 1024;
    else if (*end == 'M')
        v *= 1024 * 1024;
    else if (*end == 'G')
        v *= 1024LL * 1024 * 1024;
    return v;
}

static int read_small_file(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t got = fread(buf, 1, n - 1, f);
    fclose(f);
    buf[got] = '\0';
    while (got && isspace((unsigned char)buf[got - 1])) buf[--got] = '\0';
    return got > 0;
}

static int caches_from_sysfs(ft_machine *m)
{
    const char *base = "/sys/devices/system/cpu/cpu0/cache";
    DIR *d = opendir(base);
    if (!d) return 0;
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "index", 5) != 0) continue;
        char path[512], level[32], type[32], size[32];
        snprintf(path, sizeof path, "%s/%s/level", base, e->d_name);
        if (!read_small_file(path, level, sizeof level)) continue;
        snprintf(path, sizeof path, "%s/%s/type", base, e->d_name);
        if (!read_small_file(path, type, sizeof type)) continue;
        snprintf(path, sizeof path, "%s/%s/size", base, e->d_name);
        if (!read_small_file(path, size, sizeof size)) continue;
        int64_t bytes = parse_cache_size(size);
        if (bytes <= 0 || strcmp(type, "Instruction") == 0) continue;
        int lv = atoi(level);
        if (lv == 1)
            m->l1d_bytes = bytes;
        else if (lv == 2)
            m->l2_bytes = bytes;
        else if (lv == 3)
            m->l3_bytes = bytes;
        else
            continue;
        found = 1;
    }
    closedir(d);
    return found;
}

static int caches_from_sysconf(ft_machine *m)
{
    /* glibc answers these from CPUID on x86 and usually with 0 on ARM. */
    long l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE), l2 = sysconf(_SC_LEVEL2_CACHE_SIZE), l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
    m->l1d_bytes = l1 > 0 ? l1 : 0;
    m->l2_bytes = l2 > 0 ? l2 : 0;
    m->l3_bytes = l3 > 0 ? l3 : 0;
    return l1 > 0 || l2 > 0 || l3 > 0;
}

/* /proc/cpuinfo has no size to stat; read until EOF. Returns a malloc'd string ("" on failure). */
static char *read_cpuinfo(void)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    if (!buf) return NULL;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        size_t got;
        while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
            len += got;
            if (cap - len - 1 == 0) {
                char *nb = realloc(buf, cap * 2);
                if (!nb) break;
                buf = nb;
                cap *= 2;
            }
        }
        fclose(f);
    }
    buf[len] = '\0';
    return buf;
}

static int file_nonempty(const char *path)
{
    char buf[64];
    return read_small_file(path, buf, sizeof buf);
}

void ft_machine_update_id(ft_machine *m)
{
    char text[1024];
    int n =
        snprintf(text, sizeof text,
                 "fluidtune-machine-1\narch=%s\nvendor=%s\nmodel_name=%s\nfamily=%d\nmodel=%d\nstepping=%d\n"
                 "isa=%s\nn_cpus=%d\nl1d=%lld\nl2=%lld\nl3=%lld\nhypervisor=%d\nemulated=%d\n",
                 m->arch, m->vendor, m->model_name, m->family, m->model, m->stepping, m->isa, m->n_cpus,
                 (long long)m->l1d_bytes, (long long)m->l2_bytes, (long long)m->l3_bytes, m->hypervisor, m->emulated);
    uint8_t d[32];
    ft_sha256(text, n < (int)sizeof text ? (size_t)n : sizeof text - 1, d);
    ft_sha256_hex(d, m->id);
}

int ft_machine_fingerprint(ft_machine *m, ft_error *err)
{
    memset(m, 0, sizeof *m);
    struct utsname u;
    if (uname(&u) != 0) return ft_fail(err, FT_ERR_FAIL, "machine fingerprint: uname failed");
    copy_str(m->arch, sizeof m->arch, u.machine);
    copy_str(m->kernel, sizeof m->kernel, u.sysname);
    append_word(m->kernel, sizeof m->kernel, u.release);

    char *cpuinfo = read_cpuinfo();
    if (!cpuinfo) return ft_fail(err, FT_ERR_NOMEM, "machine fingerprint: out of memory reading /proc/cpuinfo");
    ft_machine_parse_cpuinfo(m, cpuinfo, u.machine);
    free(cpuinfo);
    /* Hypervisors that hide the x86 flag, and ARM guests, still show up here. */
    if (file_nonempty("/sys/hypervisor/type") || access("/proc/device-tree/hypervisor", F_OK) == 0) m->hypervisor = 1;
    const char *emu = getenv("FT_EMULATED");
    if (emu && (strcmp(emu, "0") == 0 || strcmp(emu, "1") == 0)) m->emulated = emu[0] == '1';
#if defined(__aarch64__) && defined(__linux__)
    /* Under qemu-user /proc/cpuinfo is the host's x86 one: the features the emulated CPU offers are
     * the ones the kernel's auxiliary vector (which qemu fills for the guest) reports. */
    if (m->emulated) {
        static const struct {
            int hwcap2;
            unsigned long bit;
            const char *name;
        } hw[] = {{0, 1ul << 1, "neon"}, {0, 1ul << 20, "asimddp"}, {2, 1ul << 13, "i8mm"},
                  {2, 1ul << 14, "bf16"}, {0, 1ul << 22, "sve"},    {2, 1ul << 1, "sve2"}};
        unsigned long h1 = getauxval(AT_HWCAP), h2 = getauxval(AT_HWCAP2);
        m->isa[0] = '\0';
        for (size_t i = 0; i < sizeof hw / sizeof hw[0]; i++)
            if ((hw[i].hwcap2 ? h2 : h1) & hw[i].bit) append_word(m->isa, sizeof m->isa, hw[i].name);
    }
#endif

    long n = sysconf(_SC_NPROCESSORS_ONLN);
    m->n_cpus = n > 0 ? (int)n : 1;
    if (caches_from_sysfs(m))
        snprintf(m->cache_source, sizeof m->cache_source, "sysfs");
    else if (caches_from_sysconf(m))
        snprintf(m->cache_source, sizeof m->cache_source, "sysconf");
    else
        snprintf(m->cache_source, sizeof m->cache_source, "none");
    ft_machine_update_id(m);
    return FT_OK;
}

void ft_build_update_id(ft_build *b)
{
    char text[1024];
    int n = snprintf(text, sizeof text, "fluidtune-build-1\ncompiler=%s\nflags=%s\nkernel_hash=%s\n", b->compiler,
                     b->flags, b->kernel_hash);
    uint8_t d[32];
    ft_sha256(text, n < (int)sizeof text ? (size_t)n : sizeof text - 1, d);
    ft_sha256_hex(d, b->id);
}

int ft_build_fingerprint(ft_build *b, const char *kernel_hash, ft_error *err)
{
    memset(b, 0, sizeof *b);
    if (!kernel_hash || !kernel_hash[0] || strlen(kernel_hash) >= sizeof b->kernel_hash)
        return ft_fail(err, FT_ERR_INPUT, "build fingerprint: kernel code hash must be 1 to %zu characters, got %zu",
                       sizeof b->kernel_hash - 1, kernel_hash ? strlen(kernel_hash) : (size_t)0);
    copy_str(b->compiler, sizeof b->compiler, FT_COMPILER_STRING);
    copy_str(b->flags, sizeof b->flags, FT_BUILD_FLAGS);
    copy_str(b->kernel_hash, sizeof b->kernel_hash, kernel_hash);
    ft_build_update_id(b);
    return FT_OK;
}
