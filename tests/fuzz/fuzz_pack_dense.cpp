// Fuzzes dense_matrix::pack (nonzeros, mask, magnitude per row / per matrix).
#include "fuzz_pack.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sieve_fuzz;
    input_reader in(data, size);
    run_pack_case(
        in, "dense pack", [](const weights& w, const selection_case& s) { return sieve::dense_matrix<>::pack(w.view(), s.how); },
        any_keep_set,
        [](const weights& w, const selection_case& s, const std::vector<float>& unpacked) {
            require_block_ranking("dense magnitude", w, s, unpacked, 1, 1);
        });
    return 0;
}
