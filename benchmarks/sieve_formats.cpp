// sieve's formats as benchmark entries: how each is packed (magnitude pruning of the shared
// random source to the case's sparsity) and which sparsities it is measured at.
//
// fp32 today. The int8 modes are a second, short table: the same packers followed by
// sieve::quantize, dtype "int8" (weight-only: the same gemv/gemm call) and "w8a8"
// (gemv_w8a8/gemm_w8a8), plus oneDNN's u8s8s32 GEMM as their dense baseline.
#include "cases.hpp"
#include "measure.hpp"

#include <sieve/sieve.hpp>

#include <fmt/format.h>

namespace bench {
namespace {

// Runs the case's operation through sieve's public API, on a view of the packed weights.
struct sieve_call {
    const case_id& id;
    template <class View>
    sieve::status operator()(const View& w, const float* x, float* y) const {
        const std::size_t n = id.batch, m = id.s.rows, k = id.s.cols;
        if (id.op == "gemv") return sieve::gemv(w, {x, k}, {y, m});
        return sieve::gemm(w, sieve::matrix_view<const float>(x, n, k), sieve::matrix_view<float>(y, n, m));
    }
};

// An entry for one format: `pack(weights, sparsity)` returns a sieve::result<Matrix>.
template <class Pack>
format_entry sieve_entry(std::string format, std::vector<int> sparsities, Pack pack) {
    format_entry e{std::move(format), "fp32", std::move(sparsities), true, true, {}};
    e.body = [pack](benchmark::State& state, const case_id& id) {
        using set_type = decltype(make_cold(pack(source_view(id.s), 0.0)));
        auto& weights = cached<set_type>(id.weights_key(), [&] {
            return make_cold(pack(source_view(id.s), id.sparsity / 100.0));
        });
        measure(state, id, weights, sieve_call{id});
        state.SetLabel(sieve::to_string(sieve::active_isa()));
    };
    return e;
}

const std::vector<int> sweep = {50, 70, 80, 90, 95};  // unstructured and block formats

template <std::size_t R, std::size_t C>
format_entry bsr_entry() {
    return sieve_entry(fmt::format("bsr{}x{}", R, C), sweep, [](sieve::matrix_view<const float> w, double s) {
        return sieve::bsr_matrix<float, R, C>::pack(w, sieve::selection::magnitude(s));
    });
}

format_entry nm_entry(std::uint32_t n, std::uint32_t m) {
    const int sparsity = static_cast<int>(100 - 100 * n / m);
    return sieve_entry(fmt::format("nm{}:{}", n, m), {sparsity}, [n, m](sieve::matrix_view<const float> w, double) {
        return sieve::nm_matrix<>::pack(w, {n, m}, sieve::selection::magnitude());
    });
}

}  // namespace

std::vector<format_entry> sieve_entries() {
    using sieve::selection;
    return {
        sieve_entry("dense", {0}, [](sieve::matrix_view<const float> w, double) { return sieve::dense_matrix<>::pack(w); }),
        nm_entry(2, 4),
        nm_entry(4, 8),
        nm_entry(1, 4),
        sieve_entry("csr", sweep,
                    [](sieve::matrix_view<const float> w, double s) { return sieve::csr_matrix<>::pack(w, selection::magnitude(s)); }),
        // Every block shape with runtime-dispatched kernels: 1xC along K (GEMV), Rx1 along M
        // (GEMM), 4x4 for both.
        bsr_entry<1, 4>(),
        bsr_entry<1, 8>(),
        bsr_entry<1, 16>(),
        bsr_entry<4, 1>(),
        bsr_entry<8, 1>(),
        bsr_entry<16, 1>(),
        bsr_entry<4, 4>(),
    };
}

}  // namespace bench
