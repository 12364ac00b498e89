/* test_fingerprint.c - machine and build fingerprints: filled in, stable, and sensitive to what matters. */
#include "testutil.h"
#include "fingerprint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_hex64(const char *s)
{
    if (strlen(s) != 64) return 0;
    for (; *s; s++)
        if (!strchr("0123456789abcdef", *s)) return 0;
    return 1;
}

static void fingerprint_fields_are_filled_on_this_machine(void **state)
{
    (void)state;
    ft_error err = {0};
    ft_machine m;
    assert_int_equal(ft_machine_fingerprint(&m, &err), FT_OK);
    assert_true(m.arch[0]);
    assert_true(m.vendor[0]);
    assert_true(m.model_name[0]);
    assert_true(m.kernel[0]);
    assert_true(m.n_cpus >= 1);
    assert_true(m.cache_source[0]);
    assert_true(is_hex64(m.id));
#if defined(__x86_64__)
    assert_string_equal(m.arch, "x86_64");
    assert_true(m.family > 0);
    assert_true(m.model >= 0);
    /* Every x86-64 CPU fluidtune's AVX2 kernels target has SSE4.2; the Debian baseline VM does. */
    assert_non_null(strstr(m.isa, "sse4.2"));
    assert_true(m.l1d_bytes > 0);
#endif
}

static void machine_id_is_stable_across_calls(void **state)
{
    (void)state;
    ft_error err = {0};
    ft_machine a, b;
    assert_int_equal(ft_machine_fingerprint(&a, &err), FT_OK);
    assert_int_equal(ft_machine_fingerprint(&b, &err), FT_OK);
    assert_string_equal(a.id, b.id);
    char before[FT_ID_HEX];
    memcpy(before, a.id, sizeof before);
    ft_machine_update_id(&a);
    assert_string_equal(a.id, before);
}

static void machine_id_changes_with_each_stable_field(void **state)
{
    (void)state;
    ft_error err = {0};
    ft_machine base;
    assert_int_equal(ft_machine_fingerprint(&base, &err), FT_OK);
    for (int field = 0; field < 13; field++) {
        ft_machine m = base;
        switch (field) {
        case 0: strcat(m.isa, " amx_tile_x"); break;
        case 1: m.n_cpus++; break;
        case 2: m.l2_bytes += 1024; break;
        case 3: m.hypervisor = !m.hypervisor; break;
        case 4: m.emulated = !m.emulated; break;
        case 5: m.family++; break;
        case 6: m.model++; break;
        case 7: m.stepping++; break;
        case 8: strcat(m.vendor, "x"); break;
        case 9: strcat(m.model_name, "x"); break;
        case 10: m.l1d_bytes += 1024; break;
        case 11: m.l3_bytes += 1024; break;
        default: strcpy(m.arch, "riscv64"); break;
        }
        ft_machine_update_id(&m);
        assert_string_not_equal(m.id, base.id);
    }
}

static void machine_id_ignores_the_os_kernel_release(void **state)
{
    (void)state;
    ft_error err = {0};
    ft_machine m;
    assert_int_equal(ft_machine_fingerprint(&m, &err), FT_OK);
    char before[FT_ID_HEX];
    memcpy(before, m.id, sizeof before);
    strcpy(m.kernel, "Linux 9.9.9-after-an-update");
    strcpy(m.cache_source, "none");
    ft_machine_update_id(&m);
    assert_string_equal(m.id, before);
}

static const char x86_cpuinfo[] =
    "processor\t: 0\n"
    "vendor_id\t: GenuineIntel\n"
    "cpu family\t: 6\n"
    "model\t\t: 143\n"
    "model name\t: Intel(R) Xeon(R) Platinum 8480+  \n"
    "stepping\t: 8\n"
    "flags\t\t: fpu sse4_1 sse4_2 avx avx2 fma avx512f avx512dq avx512bw avx512vl avx512_vnni amx_tile\n"
    "\n"
    "processor\t: 1\n"
    "vendor_id\t: SomethingElse\n"
    "flags\t\t: fpu\n";

static const char arm_cpuinfo[] =
    "processor\t: 0\n"
    "BogoMIPS\t: 50.00\n"
    "Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp asimddp sve i8mm bf16\n"
    "CPU implementer\t: 0x41\n"
    "CPU architecture: 8\n"
    "CPU variant\t: 0x1\n"
    "CPU part\t: 0xd40\n"
    "CPU revision\t: 1\n"
    "\n";

static void cpuinfo_of_x86_gives_vendor_model_and_isa(void **state)
{
    (void)state;
    ft_machine m;
    memset(&m, 0, sizeof m);
    ft_machine_parse_cpuinfo(&m, x86_cpuinfo, "x86_64");
    assert_string_equal(m.vendor, "GenuineIntel");
    assert_string_equal(m.model_name, "Intel(R) Xeon(R) Platinum 8480+");
    assert_int_equal(m.family, 6);
    assert_int_equal(m.model, 143);
    assert_int_equal(m.stepping, 8);
    assert_string_equal(m.isa, "sse4.2 avx avx2 fma avx512f avx512bw avx512vl avx512dq avx512_vnni amx_tile");
    assert_int_equal(m.hypervisor, 0);
    assert_int_equal(m.emulated, 0);
}

static void cpuinfo_of_arm_gives_neon_and_the_part(void **state)
{
    (void)state;
    ft_machine m;
    memset(&m, 0, sizeof m);
    ft_machine_parse_cpuinfo(&m, arm_cpuinfo, "aarch64");
    assert_string_equal(m.vendor, "ARM");
    assert_int_equal(m.family, 8);
    assert_int_equal(m.model, 0xd40);
    assert_int_equal(m.stepping, 1);
    assert_non_null(strstr(m.model_name, "0xd40"));
    assert_string_equal(m.isa, "neon asimddp i8mm bf16 sve");
    assert_int_equal(m.emulated, 0);
}

static void cpuinfo_of_another_architecture_means_emulation(void **state)
{
    (void)state;
    ft_machine m;
    memset(&m, 0, sizeof m);
    ft_machine_parse_cpuinfo(&m, x86_cpuinfo, "aarch64");
    assert_int_equal(m.emulated, 1);
    ft_machine_parse_cpuinfo(&m, arm_cpuinfo, "x86_64");
    assert_int_equal(m.emulated, 1);
}

static void hypervisor_flag_is_read_from_cpuinfo(void **state)
{
    (void)state;
    char text[sizeof x86_cpuinfo + 32];
    snprintf(text, sizeof text, "%s", x86_cpuinfo);
    char *p = strstr(text, "amx_tile");
    memcpy(p, "hypervis", 8); /* same length: "hypervis" is not the flag */
    ft_machine m;
    memset(&m, 0, sizeof m);
    ft_machine_parse_cpuinfo(&m, text, "x86_64");
    assert_int_equal(m.hypervisor, 0);
    snprintf(text, sizeof text, "vendor_id : AuthenticAMD\nflags : fpu hypervisor avx2\n");
    ft_machine_parse_cpuinfo(&m, text, "x86_64");
    assert_int_equal(m.hypervisor, 1);
    assert_string_equal(m.isa, "avx2");
}

static void emulated_flag_can_be_forced_from_the_environment(void **state)
{
    (void)state;
    ft_error err = {0};
    ft_machine native, emulated;
    setenv("FT_EMULATED", "0", 1);
    assert_int_equal(ft_machine_fingerprint(&native, &err), FT_OK);
    setenv("FT_EMULATED", "1", 1);
    assert_int_equal(ft_machine_fingerprint(&emulated, &err), FT_OK);
    unsetenv("FT_EMULATED");
    assert_int_equal(native.emulated, 0);
    assert_int_equal(emulated.emulated, 1);
    assert_string_not_equal(native.id, emulated.id);
}

static void build_fingerprint_names_compiler_flags_and_kernel_hash(void **state)
{
    (void)state;
    ft_error err = {0};
    ft_build a, b, c;
    assert_int_equal(ft_build_fingerprint(&a, "kernels-v1", &err), FT_OK);
    assert_int_equal(ft_build_fingerprint(&b, "kernels-v1", &err), FT_OK);
    assert_int_equal(ft_build_fingerprint(&c, "kernels-v2", &err), FT_OK);
    assert_true(a.compiler[0]);
    assert_true(a.flags[0]);
    assert_null(strstr(a.flags, "FT_BUILD_FLAGS not defined")); /* CMake passed the flags */
    assert_string_equal(a.kernel_hash, "kernels-v1");
    assert_true(is_hex64(a.id));
    assert_string_equal(a.id, b.id);
    assert_string_not_equal(a.id, c.id);
    strcat(b.flags, " -O0");
    ft_build_update_id(&b);
    assert_string_not_equal(a.id, b.id);
}

static void build_fingerprint_refuses_a_missing_or_long_kernel_hash(void **state)
{
    (void)state;
    ft_error err = {0};
    ft_build b;
    assert_int_equal(ft_build_fingerprint(&b, "", &err), FT_ERR_INPUT);
    assert_non_null(strstr(err.msg, "kernel code hash"));
    char longer[100];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    assert_int_equal(ft_build_fingerprint(&b, longer, &err), FT_ERR_INPUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fingerprint_fields_are_filled_on_this_machine),
        cmocka_unit_test(machine_id_is_stable_across_calls),
        cmocka_unit_test(machine_id_changes_with_each_stable_field),
        cmocka_unit_test(machine_id_ignores_the_os_kernel_release),
        cmocka_unit_test(cpuinfo_of_x86_gives_vendor_model_and_isa),
        cmocka_unit_test(cpuinfo_of_arm_gives_neon_and_the_part),
        cmocka_unit_test(cpuinfo_of_another_architecture_means_emulation),
        cmocka_unit_test(hypervisor_flag_is_read_from_cpuinfo),
        cmocka_unit_test(emulated_flag_can_be_forced_from_the_environment),
        cmocka_unit_test(build_fingerprint_names_compiler_flags_and_kernel_hash),
        cmocka_unit_test(build_fingerprint_refuses_a_missing_or_long_kernel_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
