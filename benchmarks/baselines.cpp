// Library baselines, each present only when CMake found it (SIEVE_BENCH_HAVE_<NAME>):
//   openblas   cblas_sgemv / cblas_sgemm                      dense fp32 reference
//   onednn     dnnl_sgemm                                     dense fp32 reference
//              dnnl_gemm_u8s8s32, dtype w8a8                  the dense int8 baseline
//   eigen      Eigen dense product                            dense fp32 reference
//   eigen-csr  Eigen's sparse CSR product (the peer), from the same pruned weights as csr
// Every library runs one thread, as sieve does. The dense ones share one cold set of plain
// row-major copies of the shape's source matrix.
#include "baselines.hpp"

#include "cases.hpp"
#include "eigen_native.hpp"
#include "measure.hpp"

#include <fmt/format.h>

#include <dlfcn.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>

#if SIEVE_BENCH_HAVE_OPENBLAS
#include <cblas.h>
#endif
#if SIEVE_BENCH_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

namespace bench {
namespace {

// Y[N x M] = X[N x K] W^T with W row-major M x K; N = 1 is the GEMV y = W x.
using dense_fn = sieve::status (*)(const raw_matrix& w, const float* x, std::size_t n, float* y);

// Copy 0 is the shape's source matrix itself (it lives as long as this set: both change only
// when the shape does).
cold_set<raw_matrix>& raw_weights(shape s) {
    return cached<cold_set<raw_matrix>>(fmt::format("raw/fp32/{}x{}", s.rows, s.cols), [s] {
        const std::vector<float>& source = dense_source(s);
        return make_cold(raw_matrix{source.data(), s.rows, s.cols}, nullptr, source.size() * sizeof(float),
                         source.size());
    });
}

format_entry dense_entry(std::string library, dense_fn fn, std::string label) {
    format_entry e{std::move(library), "fp32", {0}, {}};
    e.body = [fn, label](benchmark::State& state, const case_id& id) {
        measure(state, id, raw_weights(id.s),
                [&](const raw_matrix& w, const float* x, float* y) { return fn(w, x, id.batch, y); });
        state.SetLabel(label);
    };
    return e;
}

#if SIEVE_BENCH_HAVE_DNNL
// oneDNN's integer GEMM: int8 weights (the source rounded to -127..127), u8 activations
// prepared once, int32 out. It times the integer product alone: the activations' quantization
// and the outputs' dequantization that sieve's gemv_w8a8 / gemm_w8a8 include are not in it.
cold_set<raw_int8_matrix>& raw_int8_weights(shape s) {
    return cached<cold_set<raw_int8_matrix>>(fmt::format("raw/int8/{}x{}", s.rows, s.cols), [s] {
        const std::vector<float>& source = dense_source(s);
        auto values = std::make_shared<std::vector<std::int8_t>>(source.size());
        for (std::size_t i = 0; i < source.size(); ++i) (*values)[i] = static_cast<std::int8_t>(std::lrint(source[i] * 127));
        return make_cold(raw_int8_matrix{values->data(), s.rows, s.cols}, values, values->size(), values->size());
    });
}

format_entry onednn_int8_entry() {
    format_entry e{"onednn", "w8a8", {0}, {}};
    e.body = [](benchmark::State& state, const case_id& id) {
        const auto n = static_cast<dnnl_dim_t>(id.batch), m = static_cast<dnnl_dim_t>(id.s.rows),
                   k = static_cast<dnnl_dim_t>(id.s.cols);
        std::vector<std::uint8_t> x(id.batch * id.s.cols);
        const std::vector<float> source = random_vector(x.size(), 7);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<std::uint8_t>(std::lrint(source[i] * 127) + 128);
        std::vector<std::int32_t> y(id.batch * id.s.rows);
        const std::int32_t no_offset = 0;
        measure(state, id, raw_int8_weights(id.s), [&](const raw_int8_matrix& w, const float*, float*) {
            // Row-major: C[N x M] = A[N x K] B^T with B = W (M x K); no zero points.
            if (dnnl_gemm_u8s8s32('N', 'T', 'F', n, m, k, 1.0f, x.data(), k, 0, w.values, k, 0, 0.0f, y.data(), m,
                                  &no_offset) != dnnl_success)
                return sieve::status::error(sieve::errc::bad_argument, "dnnl_gemm_u8s8s32 failed");
            return sieve::status{};
        });
        state.SetLabel("oneDNN u8s8s32");
    };
    return e;
}
#endif

#if SIEVE_BENCH_HAVE_EIGEN
// Eigen's compressed rows: int32 row pointers and column indices, then the values.
struct eigen_csr_arrays {
    const int* row_ptr = nullptr;
    const int* col = nullptr;
    const float* values = nullptr;
    std::size_t rows = 0, cols = 0, nnz = 0;
    eigen_native::csr csr() const { return {row_ptr, col, values, rows, cols, nnz}; }
};
template <class F> void for_each_array(eigen_csr_arrays& v, F&& f) {
    f(v.row_ptr, (v.rows + 1) * sizeof(int));
    f(v.col, v.nnz * sizeof(int));
    f(v.values, v.nnz * sizeof(float));
}

// The kept weights of csr at the case's sparsity (the same magnitude pruning), in Eigen's form.
cold_set<eigen_csr_arrays> eigen_csr_weights(const case_id& id) {
    auto packed = sieve::csr_matrix<>::pack(source_view(id.s), sieve::selection::magnitude(id.sparsity / 100.0));
    if (!packed.ok()) {
        cold_set<eigen_csr_arrays> failed;
        failed.error = packed.message();
        return failed;
    }
    const sieve::csr_view<float> v = packed->view();
    const std::size_t nnz = v.nnz();
    auto ints = std::make_shared<std::vector<int>>(v.rows + 1 + nnz);
    auto values = std::make_shared<std::vector<float>>(v.values, v.values + nnz);
    for (std::size_t r = 0; r <= v.rows; ++r) (*ints)[r] = static_cast<int>(v.row_ptr[r]);
    for (std::size_t i = 0; i < nnz; ++i) (*ints)[v.rows + 1 + i] = static_cast<int>(v.col(i));
    eigen_csr_arrays arrays{ints->data(), ints->data() + v.rows + 1, values->data(), v.rows, v.cols, nnz};
    auto owner = std::make_shared<std::pair<decltype(ints), decltype(values)>>(ints, values);
    const std::size_t bytes = (v.rows + 1 + nnz) * sizeof(int) + nnz * sizeof(float);
    return make_cold(arrays, owner, bytes, nnz);
}
#endif

}  // namespace

void single_threaded_baselines() {
    setenv("OMP_NUM_THREADS", "1", 0);
#if SIEVE_BENCH_HAVE_OPENBLAS
    openblas_set_num_threads(1);
#endif
    // oneDNN's OpenMP runtime read OMP_NUM_THREADS when it was loaded, before main: set it
    // through the runtime itself when one is loaded.
    using set_threads_fn = void (*)(int);
    if (void* fn = dlsym(RTLD_DEFAULT, "omp_set_num_threads")) reinterpret_cast<set_threads_fn>(fn)(1);
}

std::string baseline_versions() {
    std::vector<std::string> found;
#if SIEVE_BENCH_HAVE_OPENBLAS
    found.push_back(fmt::format("OpenBLAS ({}, {} kernels)", openblas_get_config(), openblas_get_corename()));
#endif
#if SIEVE_BENCH_HAVE_DNNL
    const dnnl_version_t* v = dnnl_version();
    found.push_back(fmt::format("oneDNN {}.{}.{}", v->major, v->minor, v->patch));
#endif
#if SIEVE_BENCH_HAVE_EIGEN
    found.push_back(fmt::format("Eigen {} ({})", eigen_native::version(), eigen_native::simd()));
#endif
    return found.empty() ? "none found" : fmt::format("{}", fmt::join(found, ", "));
}

std::vector<format_entry> dense_baseline_entries() {
    std::vector<format_entry> out;
#if SIEVE_BENCH_HAVE_OPENBLAS
    out.push_back(dense_entry("openblas", [](const raw_matrix& w, const float* x, std::size_t n, float* y) {
        const int m = static_cast<int>(w.rows), k = static_cast<int>(w.cols), nn = static_cast<int>(n);
        if (n == 1)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, m, k, 1.0f, w.values, k, x, 1, 0.0f, y, 1);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nn, m, k, 1.0f, x, k, w.values, k, 0.0f, y, m);
        return sieve::status{};
    }, "OpenBLAS"));
#endif
#if SIEVE_BENCH_HAVE_DNNL
    out.push_back(dense_entry("onednn", [](const raw_matrix& w, const float* x, std::size_t n, float* y) {
        const auto m = static_cast<dnnl_dim_t>(w.rows), k = static_cast<dnnl_dim_t>(w.cols),
                   nn = static_cast<dnnl_dim_t>(n);
        // Row-major: C[N x M] = A[N x K] B^T with B = W (M x K).
        if (dnnl_sgemm('N', 'T', nn, m, k, 1.0f, x, k, w.values, k, 0.0f, y, m) != dnnl_success)
            return sieve::status::error(sieve::errc::bad_argument, "dnnl_sgemm failed");
        return sieve::status{};
    }, "oneDNN"));
    out.push_back(onednn_int8_entry());
#endif
#if SIEVE_BENCH_HAVE_EIGEN
    out.push_back(dense_entry("eigen", [](const raw_matrix& w, const float* x, std::size_t n, float* y) {
        if (n == 1)
            eigen_native::dense_gemv(w.values, w.rows, w.cols, x, y);
        else
            eigen_native::dense_gemm(w.values, w.rows, w.cols, x, n, y);
        return sieve::status{};
    }, "Eigen"));
#endif
    return out;
}

std::vector<format_entry> peer_entries() {
    std::vector<format_entry> out;
#if SIEVE_BENCH_HAVE_EIGEN
    format_entry e{"eigen-csr", "fp32", {50, 70, 80, 90, 95}, {}};
    e.body = [](benchmark::State& state, const case_id& id) {
        auto& weights = cached<cold_set<eigen_csr_arrays>>(id.weights_key(), [&] { return eigen_csr_weights(id); });
        measure(state, id, weights, [&](const eigen_csr_arrays& w, const float* x, float* y) {
            if (id.op == "gemv")
                eigen_native::csr_gemv(w.csr(), x, y);
            else
                eigen_native::csr_gemm(w.csr(), x, id.batch, y);
            return sieve::status{};
        });
        state.SetLabel("Eigen sparse");
    };
    out.push_back(std::move(e));
#endif
    return out;
}

}  // namespace bench
