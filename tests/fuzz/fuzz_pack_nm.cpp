// Fuzzes nm_matrix::pack over every N:M pattern (and illegal ones): an explicit keep set
// that breaks the pattern must give not_nm_sparse, an illegal pattern bad_argument.
#include "fuzz_pack.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sieve_fuzz;
    input_reader in(data, size);
    const sieve::nm_pattern p = read_nm_pattern(in);
    if (!nm_pattern_legal(p)) {
        const weights w = read_weights(in);
        const selection_case s = read_selection(in, w);
        auto packed = sieve::nm_matrix<>::pack(w.view(), p, s.how);
        require(!packed.ok() && packed.error().code() == sieve::errc::bad_argument,
                "nm pack accepted pattern %u:%u", p.n, p.m);
        return 0;
    }
    run_pack_case(
        in, "nm pack",
        [p](const weights& w, const selection_case& s) {
            auto packed = sieve::nm_matrix<>::pack(w.view(), p, s.how);
            if (packed.ok())
                require(packed->pattern().n == p.n && packed->pattern().m == p.m, "nm pack changed the pattern");
            return packed;
        },
        [p](const weights& w, const std::vector<std::uint8_t>& keep) { return nm_structural_error(p, w, keep); },
        [p](const weights& w, const selection_case&, const std::vector<float>& unpacked) {
            require_nm_ranking(p, w, unpacked);
        },
        /*nm=*/true);
    return 0;
}
