// Fuzzes csr_matrix::pack: nonzeros, mask, magnitude; 16-bit indices up to 65536 columns,
// 32-bit past that (the input reader's wide cases).
#include "fuzz_pack.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sieve_fuzz;
    input_reader in(data, size);
    run_pack_case(
        in, "csr pack",
        [](const weights& w, const selection_case& s) {
            auto packed = sieve::csr_matrix<>::pack(w.view(), s.how);
            if (packed.ok()) {
                const auto want = w.cols > (std::size_t{1} << 16) ? sieve::index_width::u32 : sieve::index_width::u16;
                require(packed->width() == want, "csr pack: %zu columns stored with %d-byte indices", w.cols,
                        static_cast<int>(packed->width()));
            }
            return packed;
        },
        any_keep_set,
        [](const weights& w, const selection_case& s, const std::vector<float>& unpacked) {
            require_block_ranking("csr magnitude", w, s, unpacked, 1, 1);
        });
    return 0;
}
