// The one program every consumer project builds (find_package, add_subdirectory,
// vendored): it proves <sieve/sieve.hpp> compiles and links in that setup and does a little
// real work. tools/check-consumers.sh builds and runs all three.
#include <sieve/sieve.hpp>

#include <cstdio>
#include <cstring>

int main() {
    sieve::status s = sieve::status::error(sieve::errc::shape_mismatch, "x has %d elements", 17);
    if (s.ok() || s.code() != sieve::errc::shape_mismatch ||
        std::strcmp(s.message(), "x has 17 elements") != 0) {
        std::fprintf(stderr, "consumer: status round trip failed\n");
        return 1;
    }

    sieve::aligned_buffer<float> buffer;
    if (!buffer.allocate(1000).ok()) {
        std::fprintf(stderr, "consumer: allocation failed\n");
        return 1;
    }
    sieve::matrix_view<float> m(buffer.data(), 10, 100);
    m(9, 99) = 2.5f;
    if (buffer[999] != 2.5f) {
        std::fprintf(stderr, "consumer: matrix view addresses the wrong element\n");
        return 1;
    }

    // A 2:4 layer packed and run: the kernels link in this setup (static or runtime dispatch).
    float w[4 * 8], x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, y[4];
    for (int i = 0; i < 32; ++i) w[i] = static_cast<float>(i % 4 < 2 ? i + 1 : 0);
    auto packed = sieve::nm_matrix<>::pack(sieve::matrix_view<const float>(w, 4, 8), {2, 4});
    if (!packed.ok() || !sieve::gemv(*packed, sieve::span<const float>(x, 8), sieve::span<float>(y, 4)).ok()) {
        std::fprintf(stderr, "consumer: 2:4 pack or gemv failed\n");
        return 1;
    }
    // Row 0 keeps w = 1, 2 at x = 1, 2 and w = 5, 6 at x = 5, 6: 1 + 4 + 25 + 36 = 66.
    if (y[0] != 66.0f) {
        std::fprintf(stderr, "consumer: gemv gave %g, expected 66\n", static_cast<double>(y[0]));
        return 1;
    }

    std::printf("consumer ok: sieve %d.%d.%d on %s\n", SIEVE_VERSION_MAJOR, SIEVE_VERSION_MINOR,
                SIEVE_VERSION_PATCH, sieve::to_string(sieve::active_isa()));
    return 0;
}
