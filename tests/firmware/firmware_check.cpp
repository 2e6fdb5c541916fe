// Firmware check: sieve's headers compile and work the way an edge build uses them, with
// -fno-exceptions -fno-rtti and warnings as errors, kernels chosen statically by the
// compiler flags. Built and run by ctest as `firmware_no_exceptions_no_rtti`; exit code 0
// means every check passed.
#include <sieve/sieve.hpp>

#include "golden_blob.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <utility>

#if SIEVE_HAS_EXCEPTIONS
#error "firmware_check must be compiled with -fno-exceptions"
#endif
#if defined(__GXX_RTTI) || defined(__cpp_rtti)
#error "firmware_check must be compiled with -fno-rtti"
#endif

namespace {

int failures = 0;

void expect(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "firmware_check: FAILED: %s\n", what);
        ++failures;
    }
}

// A caller-side API in the style firmware writes: status out, no exceptions.
sieve::status scale_rows(sieve::matrix_view<float> m, sieve::span<const float> factors) {
    if (m.data == nullptr) return sieve::status::error(sieve::errc::null_pointer, "matrix is null");
    if (factors.size != m.rows)
        return sieve::status::error(sieve::errc::shape_mismatch, "%zu factors for %zu rows",
                                    factors.size, m.rows);
    for (std::size_t r = 0; r < m.rows; ++r)
        for (std::size_t c = 0; c < m.cols; ++c) m(r, c) *= factors[r];
    return {};
}

sieve::status scale_twice(sieve::matrix_view<float> m, sieve::span<const float> factors) {
    SIEVE_TRY(scale_rows(m, factors));
    SIEVE_TRY(scale_rows(m, factors));
    return {};
}

void check_status() {
    sieve::status ok;
    expect(ok.ok() && ok.code() == sieve::errc::ok, "default status is ok");
    sieve::status bad = sieve::status::error(sieve::errc::shape_mismatch, "x has %d elements", 17);
    expect(!bad.ok(), "error status is not ok");
    expect(bad.code() == sieve::errc::shape_mismatch, "error keeps its code");
    expect(std::strcmp(bad.message(), "x has 17 elements") == 0, "error formats its message");
    expect(std::strcmp(sieve::to_string(bad.code()), "shape mismatch") == 0, "errc names");
}

void check_buffer_and_views() {
    // A 3 x 5 matrix stored with a leading dimension of 8.
    sieve::aligned_buffer<float> storage;
    expect(storage.allocate(3 * 8).ok(), "allocate 24 floats");
    expect(storage.size() == 24 && storage.bytes() == 24 * sizeof(float), "buffer size");
    expect(reinterpret_cast<std::uintptr_t>(storage.data()) % sieve::storage_alignment == 0,
           "buffer is 64-byte aligned");
    bool zero = true;
    for (std::size_t i = 0; i < storage.size(); ++i) zero = zero && storage[i] == 0.0f;
    expect(zero, "buffer is zero-initialised");

    sieve::matrix_view<float> m(storage.data(), 3, 5, 8);
    for (std::size_t r = 0; r < m.rows; ++r)
        for (std::size_t c = 0; c < m.cols; ++c) m(r, c) = 1.0f;
    const float factors[3] = {1.0f, 2.0f, 3.0f};
    expect(scale_twice(m, sieve::span<const float>(factors, 3)).ok(), "SIEVE_TRY passes success on");
    expect(m(2, 4) == 9.0f && m(1, 0) == 4.0f, "strided view writes the right elements");
    expect(storage[5] == 0.0f && storage[8 + 7] == 0.0f, "padding columns untouched");

    sieve::status s = scale_twice(m, sieve::span<const float>(factors, 2));
    expect(s.code() == sieve::errc::shape_mismatch, "SIEVE_TRY returns the first error");

    sieve::matrix_view<const float> cm = m;  // view<T> -> view<const T>
    expect(cm.row(1) == storage.data() + 8 && !cm.empty(), "const view shares the storage");

    sieve::aligned_buffer<float> moved(std::move(storage));
    expect(moved.size() == 24 && storage.size() == 0 && storage.data() == nullptr,
           "move transfers ownership");

    sieve::aligned_buffer<double> huge;
    expect(huge.allocate(~std::size_t{0}).code() == sieve::errc::size_overflow,
           "oversized allocation is a status, not a crash");
}

}  // namespace

// The edge-build flow: weights packed at start-up, then every call runs with a
// caller-owned GEMM workspace, so the hot path never touches the heap.
void check_pack_and_run() {
    constexpr std::size_t M = 6, K = 12, N = 3;
    float w[M * K], x[N * K], y[N * M], reference[N * M];
    for (std::size_t i = 0; i < M * K; ++i) w[i] = static_cast<float>(static_cast<int>(i * 7 % 11) - 5);
    for (std::size_t i = 0; i < N * K; ++i) x[i] = static_cast<float>(static_cast<int>(i % 5) - 2) * 0.5f;
    auto packed = sieve::nm_matrix<>::pack(sieve::matrix_view<const float>(w, M, K), {2, 4},
                                           sieve::selection::magnitude());
    expect(packed.ok(), "2:4 pack by magnitude");
    if (!packed.ok()) return;
    auto refused = sieve::nm_matrix<>::pack(sieve::matrix_view<const float>(w, M, K), {2, 4});
    expect(!refused.ok() && refused.error().code() == sieve::errc::not_nm_sparse, "dense rows refused as 2:4");

    sieve::aligned_buffer<float> workspace;
    expect(workspace.allocate(sieve::gemm_workspace_size(K)).ok(), "workspace at start-up");
    const sieve::status s = sieve::gemm(*packed, sieve::matrix_view<const float>(x, N, K),
                                        sieve::matrix_view<float>(y, N, M), {},
                                        sieve::span<float>(workspace.data(), workspace.size()));
    expect(s.ok(), "gemm with a caller workspace");
    sieve::reference::gemm(packed->view(), sieve::matrix_view<const float>(x, N, K),
                           sieve::matrix_view<float>(reference, N, M), {});
    bool same = true;
    for (std::size_t i = 0; i < N * M; ++i) same = same && std::fabs(y[i] - reference[i]) <= 1e-4f;
    expect(same, "gemm matches the scalar reference");
    expect(!sieve::gemv(*packed, sieve::span<const float>(x, K - 1), sieve::span<float>(y, M)).ok(),
           "gemv refuses a short x");

    // int8: quantized at start-up, then weight-only and W8A8 calls with the same caller
    // workspace (it covers both: gemv_workspace_size(K) <= gemm_workspace_size(K)).
    auto w8 = sieve::quantize(*packed, sieve::quant_config::per_row());
    expect(w8.ok(), "2:4 quantized to int8");
    if (!w8.ok()) return;
    const sieve::span<float> scratch(workspace.data(), workspace.size());
    float y8[M], y8_ref[M];
    expect(sieve::gemv(*w8, sieve::span<const float>(x, K), sieve::span<float>(y8, M)).ok(), "int8 gemv");
    sieve::reference::gemv(w8->view(), x, y8_ref, {});
    same = true;
    for (std::size_t i = 0; i < M; ++i) same = same && std::fabs(y8[i] - y8_ref[i]) <= 1e-4f;
    expect(same, "int8 gemv matches the scalar reference");
    expect(sieve::gemv_w8a8(*w8, sieve::span<const float>(x, K), sieve::span<float>(y8, M), {}, scratch).ok(),
           "w8a8 gemv with a caller workspace");
    sieve::reference::gemv_w8a8(w8->view(), x, y8_ref, {});
    same = true;
    for (std::size_t i = 0; i < M; ++i) same = same && std::fabs(y8[i] - y8_ref[i]) <= 1e-4f;
    expect(same, "w8a8 gemv matches the scalar reference");
    expect(sieve::gemm_w8a8(*w8, sieve::matrix_view<const float>(x, N, K), sieve::matrix_view<float>(y, N, M), {},
                            scratch)
               .ok(),
           "w8a8 gemm with a caller workspace");
}

// Weights packed offline and linked as a const array (golden_blob.hpp): opened in place,
// no copy, no heap; the views run bitwise like the same weights packed at start-up.
void check_zero_copy_blob() {
    using namespace sieve_golden;
    const sieve::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(blob), sizeof blob);
    auto opened = sieve::io::open_blob(bytes);
    expect(opened.ok(), "the linked blob opens in place");
    expect(sieve::io::open_blob(bytes, {/*verify_checksums=*/false}).ok(), "trusted flash: checksums skipped");
    if (!opened.ok()) return;
    auto down = opened->get<sieve::nm_view<float>>("mlp.down");
    auto up = opened->get<sieve::csr_view<std::int8_t>>("mlp.up");
    expect(down.ok() && up.ok(), "typed lookups by name");
    expect(opened->get<sieve::nm_view<float>>("mlp.gate").error().code() == sieve::errc::not_found, "missing name");
    expect(opened->get<sieve::csr_view<float>>("mlp.up").error().code() == sieve::errc::type_mismatch,
           "wrong dtype refused");
    if (!down.ok() || !up.ok()) return;
    const auto* begin = reinterpret_cast<const unsigned char*>(blob);
    const auto* values = reinterpret_cast<const unsigned char*>(down->values);
    expect(values > begin && values < begin + sizeof blob, "views point into the linked array");

    float w[rows * cols], x[cols], y_packed[rows], y_loaded[rows];
    for (std::size_t i = 0; i < cols; ++i) x[i] = static_cast<float>(static_cast<int>(i % 5) - 2) * 0.75f;
    down_weights(w);
    auto nm = sieve::nm_matrix<>::pack(sieve::matrix_view<const float>(w, rows, cols), {2, 4},
                                       sieve::selection::magnitude());
    up_weights(w);
    auto csr = sieve::csr_matrix<>::pack(sieve::matrix_view<const float>(w, rows, cols));
    expect(nm.ok() && csr.ok(), "pack the golden weights at start-up");
    if (!nm.ok() || !csr.ok()) return;
    auto csr8 = sieve::quantize(*csr, sieve::quant_config::per_row());
    expect(csr8.ok(), "quantize the golden CSR");
    if (!csr8.ok()) return;
    const sieve::span<const float> xs(x, cols);
    expect(sieve::gemv(*nm, xs, sieve::span<float>(y_packed, rows)).ok() &&
               sieve::gemv(*down, xs, sieve::span<float>(y_loaded, rows)).ok() &&
               std::memcmp(y_packed, y_loaded, sizeof y_packed) == 0,
           "2:4 gemv on the loaded view is bitwise the packed one");
    alignas(64) static float workspace[64];
    const sieve::span<float> scratch(workspace, 64);
    expect(sieve::gemv_w8a8(*csr8, xs, sieve::span<float>(y_packed, rows), {}, scratch).ok() &&
               sieve::gemv_w8a8(*up, xs, sieve::span<float>(y_loaded, rows), {}, scratch).ok() &&
               std::memcmp(y_packed, y_loaded, sizeof y_packed) == 0,
           "int8 w8a8 gemv on the loaded view is bitwise the packed one");

    // A corrupted copy is refused, with its own error code.
    alignas(64) static unsigned char copy[sizeof blob];
    std::memcpy(copy, blob, sizeof blob);
    copy[sieve::io::layout::header_size + 2 * sieve::io::layout::entry_size] ^= 0x40;  // first section
    const auto bad = sieve::io::open_blob({reinterpret_cast<const std::byte*>(copy), sizeof copy});
    expect(bad.error().code() == sieve::errc::checksum_mismatch, "a corrupted blob is refused");
    expect(sieve::io::open_blob({reinterpret_cast<const std::byte*>(copy), 100}).error().code() ==
               sieve::errc::truncated,
           "a truncated blob is refused");
}

int main() {
    check_status();
    check_buffer_and_views();
    check_pack_and_run();
    check_zero_copy_blob();
    if (failures != 0) {
        std::fprintf(stderr, "firmware_check: %d check(s) failed\n", failures);
        return 1;
    }
    std::printf("firmware_check: ok (sieve %d.%d.%d, no exceptions, no RTTI)\n",
                SIEVE_VERSION_MAJOR, SIEVE_VERSION_MINOR, SIEVE_VERSION_PATCH);
    return 0;
}
