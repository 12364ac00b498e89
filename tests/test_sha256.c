/* test_sha256.c - SHA-256 matches FIPS 180-4 vectors and is the same streamed or in one piece. */
#include "testutil.h"
#include "sha256.h"

#include <stdlib.h>
#include <string.h>

static void expect_hex(const uint8_t d[32], const char *want)
{
    char hex[65];
    assert_string_equal(ft_sha256_hex(d, hex), want);
}

static void digest_matches_fips_vectors(void **state)
{
    (void)state;
    uint8_t d[32];
    ft_sha256("", 0, d);
    expect_hex(d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ft_sha256(NULL, 0, d);
    expect_hex(d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ft_sha256("abc", 3, d);
    expect_hex(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    ft_sha256(m448, strlen(m448), d);
    expect_hex(d, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    ft_sha256(m896, strlen(m896), d);
    expect_hex(d, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void million_a_streamed_in_odd_pieces(void **state)
{
    (void)state;
    char chunk[997];
    memset(chunk, 'a', sizeof chunk);
    ft_sha256_ctx c;
    ft_sha256_init(&c);
    size_t left = 1000000;
    while (left) {
        size_t n = left < sizeof chunk ? left : sizeof chunk;
        ft_sha256_update(&c, chunk, n);
        left -= n;
    }
    uint8_t d[32];
    ft_sha256_final(&c, d);
    expect_hex(d, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Lengths around the 55/56-byte padding boundary and whole blocks, digests from Python's hashlib. */
static void padding_boundaries_match_hashlib(void **state)
{
    (void)state;
    static const struct {
        size_t n;
        const char *hex;
    } v[] = {
        {55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b"},
        {56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27"},
        {63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055"},
        {64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241"},
        {65, "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e"},
        {119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e"},
        {120, "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5"},
        {128, "d2742f1f4ac6bb7ca2b239ee18402ba8b3f9f8e652d2a72973c2b9ba11c08cf6"},
    };
    uint8_t buf[128];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(i * 7 + 3);
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
        uint8_t d[32];
        ft_sha256(buf, v[k].n, d);
        expect_hex(d, v[k].hex);
    }
}

static void every_split_point_gives_the_one_shot_digest(void **state)
{
    (void)state;
    uint8_t buf[200], want[32], got[32];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(i * 131 + 17);
    ft_sha256(buf, sizeof buf, want);
    for (size_t cut = 0; cut <= sizeof buf; cut++) {
        ft_sha256_ctx c;
        ft_sha256_init(&c);
        ft_sha256_update(&c, buf, cut);
        ft_sha256_update(&c, buf + cut, sizeof buf - cut);
        ft_sha256_final(&c, got);
        assert_memory_equal(got, want, 32);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(digest_matches_fips_vectors),
        cmocka_unit_test(million_a_streamed_in_odd_pieces),
        cmocka_unit_test(padding_boundaries_match_hashlib),
        cmocka_unit_test(every_split_point_gives_the_one_shot_digest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
