// Fuzzes channel_pruned_matrix::pack: rows and columns with no kept weight are removed;
// magnitude(s) removes the fraction s of input channels (columns) of smallest sum |w|.
#include "fuzz_pack.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sieve_fuzz;
    input_reader in(data, size);
    run_pack_case(
        in, "channel pack",
        [](const weights& w, const selection_case& s) {
            auto packed = sieve::channel_pruned_matrix<>::pack(w.view(), s.how);
            if (packed.ok() && !is_magnitude(s)) {
                // Exactly the rows and columns holding a kept weight survive.
                const auto keep = explicit_keep(w, s);
                std::size_t rows = 0, cols = 0;
                for (std::size_t r = 0; r < w.rows; ++r)
                    rows += std::any_of(keep.begin() + static_cast<std::ptrdiff_t>(r * w.cols),
                                        keep.begin() + static_cast<std::ptrdiff_t>((r + 1) * w.cols),
                                        [](std::uint8_t k) { return k != 0; });
                for (std::size_t c = 0; c < w.cols; ++c) {
                    bool any = false;
                    for (std::size_t r = 0; r < w.rows && !any; ++r) any = keep[r * w.cols + c] != 0;
                    cols += any;
                }
                require(packed->kept_outputs().size == rows && packed->kept_inputs().size == cols,
                        "channel pack kept %zu x %zu channels, %zu x %zu hold kept weights",
                        packed->kept_outputs().size, packed->kept_inputs().size, rows, cols);
            }
            return packed;
        },
        any_keep_set,
        [](const weights& w, const selection_case& s, const std::vector<float>& unpacked) {
            require_block_ranking("channel magnitude", w, s, unpacked, w.rows == 0 ? 1 : w.rows, 1);
        });
    return 0;
}
