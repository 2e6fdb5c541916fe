// Fuzzes bsr_matrix<float, R, C>::pack for each block shape sieve has kernels for.
#include "fuzz_pack.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sieve_fuzz;
    input_reader in(data, size);
    with_block_shape(in.byte(), [&](auto r, auto c) {
        constexpr std::size_t R = decltype(r)::value, C = decltype(c)::value;
        run_pack_case(
            in, "bsr pack",
            [](const weights& w, const selection_case& s) {
                auto packed = sieve::bsr_matrix<float, R, C>::pack(w.view(), s.how);
                if (packed.ok()) {
                    const bool wide = (w.cols + C - 1) / C > (std::size_t{1} << 16);
                    require(packed->view().width == (wide ? sieve::index_width::u32 : sieve::index_width::u16),
                            "bsr pack: index width does not fit %zu block columns", (w.cols + C - 1) / C);
                }
                return packed;
            },
            any_keep_set,
            [](const weights& w, const selection_case& s, const std::vector<float>& unpacked) {
                require_block_ranking("bsr magnitude", w, s, unpacked, R, C);
            });
    });
    return 0;
}
