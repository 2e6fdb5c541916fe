// sieve's formats as benchmark entries: how each is packed (magnitude pruning of the shared
// random source to the case's sparsity), the sparsities it is measured at, and the call that
// runs it through sieve's public API. Every format comes in three dtypes (add_format):
//   fp32   the packed fp32 weights; gemv / gemm
//   int8   the same weights through sieve::quantize (per-row scales, the default), fp32
//          activations: weight-only int8, the same gemv / gemm
//   int8g128  the same with a scale per group of 128 K positions (as GPTQ and AWQ
//          checkpoints come), the same gemv / gemm
//   w8a8   the same int8 weights, activations quantized per token on the fly:
//          gemv_w8a8 / gemm_w8a8
#include "cases.hpp"
#include "measure.hpp"
#include "threads.hpp"

#include <sieve/sieve.hpp>

#include <fmt/format.h>

namespace bench {
namespace {

// fp32 activations in and out through gemv / gemm, on a view of the packed weights (fp32,
// or int8 weight-only), on the case's thread count.
struct sieve_call {
    const case_id& id;
    sieve::executor exec = executor_for(id.threads);
    template <class View>
    sieve::status operator()(const View& w, const float* x, float* y) const {
        const std::size_t n = id.batch, m = id.s.rows, k = id.s.cols;
        if (id.op == "gemv") return sieve::gemv(w, {x, k}, {y, m}, {}, exec);
        return sieve::gemm(w, sieve::matrix_view<const float>(x, n, k), sieve::matrix_view<float>(y, n, m), {}, exec);
    }
};

// The same through gemv_w8a8 / gemm_w8a8 (int8 weights; fp32 in and out, int8 inside).
struct w8a8_call {
    const case_id& id;
    sieve::executor exec = executor_for(id.threads);
    template <class View>
    sieve::status operator()(const View& w, const float* x, float* y) const {
        const std::size_t n = id.batch, m = id.s.rows, k = id.s.cols;
        if (id.op == "gemv") return sieve::gemv_w8a8(w, {x, k}, {y, m}, {}, exec);
        return sieve::gemm_w8a8(w, sieve::matrix_view<const float>(x, n, k), sieve::matrix_view<float>(y, n, m), {},
                                exec);
    }
};

// A packer followed by sieve::quantize (per-row scales unless given a group).
template <class Pack>
auto quantized(Pack pack, sieve::quant_config config = sieve::quant_config::per_row()) {
    return [pack, config](sieve::matrix_view<const float> w, double sparsity) {
        auto packed = pack(w, sparsity);
        using int8_result = decltype(sieve::quantize(*packed));
        if (!packed.ok()) return int8_result(packed.error());
        return sieve::quantize(*packed, config);
    };
}

// An entry for one format in one dtype: `pack(weights, sparsity)` returns a
// sieve::result<Matrix>; Call (constructed from the case) runs one GEMV or GEMM on a view.
// Entries whose packers make the same weights name the same `weights_dtype`: they share them.
template <class Call, class Pack>
format_entry sieve_entry(std::string format, std::string dtype, std::string weights_dtype,
                         std::vector<int> sparsities, Pack pack) {
    format_entry e{std::move(format), std::move(dtype), std::move(sparsities), {}, true};
    e.body = [pack, weights_dtype](benchmark::State& state, const case_id& id) {
        using set_type = decltype(make_cold(pack(source_view(id.s), 0.0)));
        case_id packed_as = id;
        packed_as.dtype = weights_dtype;
        auto& weights = cached<set_type>(packed_as.weights_key(), [&] {
            return make_cold(pack(source_view(id.s), id.sparsity / 100.0));
        });
        measure(state, id, weights, Call{id});
        state.SetLabel(sieve::to_string(sieve::active_isa()));
    };
    return e;
}

// Every dtype a format is measured in (see the head of this file).
template <class Pack>
void add_format(std::vector<format_entry>& out, const std::string& format, const std::vector<int>& sparsities,
                Pack pack) {
    out.push_back(sieve_entry<sieve_call>(format, "fp32", "fp32", sparsities, pack));
    out.push_back(sieve_entry<sieve_call>(format, "int8", "int8", sparsities, quantized(pack)));
    out.push_back(sieve_entry<sieve_call>(format, "int8g128", "int8g128", sparsities,
                                          quantized(pack, sieve::quant_config::per_group(128))));
    out.push_back(sieve_entry<w8a8_call>(format, "w8a8", "int8", sparsities, quantized(pack)));
}

const std::vector<int> sweep = {50, 70, 80, 90, 95};  // unstructured and block formats

template <std::size_t R, std::size_t C>
void add_bsr(std::vector<format_entry>& out) {
    add_format(out, fmt::format("bsr{}x{}", R, C), sweep, [](sieve::matrix_view<const float> w, double s) {
        return sieve::bsr_matrix<float, R, C>::pack(w, sieve::selection::magnitude(s));
    });
}

void add_nm(std::vector<format_entry>& out, std::uint32_t n, std::uint32_t m) {
    const int sparsity = static_cast<int>(100 - 100 * n / m);
    add_format(out, fmt::format("nm{}:{}", n, m), {sparsity}, [n, m](sieve::matrix_view<const float> w, double) {
        return sieve::nm_matrix<>::pack(w, {n, m}, sieve::selection::magnitude());
    });
}

}  // namespace

std::vector<format_entry> sieve_entries() {
    std::vector<format_entry> out;
    add_format(out, "dense", {0}, [](sieve::matrix_view<const float> w, double) { return sieve::dense_matrix<>::pack(w); });
    add_nm(out, 2, 4);
    add_nm(out, 4, 8);
    add_nm(out, 1, 4);
    add_format(out, "csr", sweep, [](sieve::matrix_view<const float> w, double s) {
        return sieve::csr_matrix<>::pack(w, sieve::selection::magnitude(s));
    });
    add_format(out, "bitmap", sweep, [](sieve::matrix_view<const float> w, double s) {
        return sieve::bitmap_matrix<>::pack(w, sieve::selection::magnitude(s));
    });
    // Every block shape with runtime-dispatched kernels: 1xC along K (GEMV), Rx1 along M
    // (GEMM), 4x4 for both.
    add_bsr<1, 4>(out);
    add_bsr<1, 8>(out);
    add_bsr<1, 16>(out);
    add_bsr<4, 1>(out);
    add_bsr<8, 1>(out);
    add_bsr<16, 1>(out);
    add_bsr<4, 4>(out);
    return out;
}

}  // namespace bench
