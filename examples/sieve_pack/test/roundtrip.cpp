// Checks a blob sieve-pack wrote against packing the same tensors in memory: takes
// sieve-pack's own arguments, packs every selected tensor again (same code, same options),
// opens the blob with the owning loader, and requires GEMV (and, for int8, W8A8 GEMV) on the
// blob's view and on the in-memory matrix to agree bitwise; also that the blob holds exactly
// the selected tensors. Built with runtime dispatch: the check runs on every ISA the CPU has.
//
//   sieve_pack_roundtrip IN.safetensors OUT.sieve [sieve-pack options]
#include <fmt/format.h>

#include <cstring>
#include <sieve/io/blob_file.hpp>
#include <sieve/sieve.hpp>
#include <string>
#include <type_traits>
#include <vector>

#include "../cli.hpp"
#include "../safetensors.hpp"

namespace {

using namespace sieve_pack;

// y = W x (W8A8 when asked: int8 weights only) for a deterministic x of mixed signs and sizes.
template <bool W8A8, class Weights>
status run_gemv(const Weights& w, std::size_t k, std::size_t m, std::vector<float>& y) {
    std::vector<float> x(k);
    for (std::size_t i = 0; i < k; ++i) x[i] = static_cast<float>((i * 37) % 23) * 0.125f - 1.25f;
    y.assign(m, -1.0f);
    if constexpr (W8A8)
        return sieve::gemv_w8a8(w, sieve::span<const float>(x), sieve::span<float>(y));
    return sieve::gemv(w, sieve::span<const float>(x), sieve::span<float>(y));
}

// The GEMV of the blob's view and of the in-memory matrix agree bitwise, on every ISA this
// program has kernels for and this CPU runs (the blob's views must suit every kernel).
template <bool W8A8, class View, class Matrix>
status same_gemv(const std::string& name, const View& from_blob, const Matrix& in_memory,
                 std::size_t m, std::size_t k) {
    std::vector<float> a, b;
    for (sieve::isa level : sieve::available_isas()) {
        sieve::set_isa_cap(level);
        SIEVE_TRY(run_gemv<W8A8>(from_blob, k, m, a));
        SIEVE_TRY(run_gemv<W8A8>(in_memory, k, m, b));
        if (std::memcmp(a.data(), b.data(), m * sizeof(float)) != 0)
            return status::error(
                errc::corrupt_data,
                "tensor '%s': %s on %s from the blob differs from in-memory packing", name.c_str(),
                W8A8 ? "gemv_w8a8" : "gemv", sieve::to_string(level));
    }
    sieve::clear_isa_cap();
    return {};
}

}  // namespace

int main(int argc, char** argv) {
    auto cl = parse_command_line(argc, argv);
    if (!cl.ok() || cl->help || !cl->inspect.empty()) {
        fmt::print(stderr,
                   "usage: sieve_pack_roundtrip IN.safetensors OUT.sieve [sieve-pack options]\n");
        return 2;
    }
    auto file = safetensors_file::open(cl->input);
    auto blob = sieve::io::load_blob_file(cl->output.c_str());
    if (!file.ok() || !blob.ok()) {
        fmt::print(stderr, "roundtrip: {} / {}\n", file.message(), blob.message());
        return 1;
    }
    int failures = 0;
    std::size_t checked = 0;
    std::vector<float> values;
    for (const tensor_info& t : file->tensors()) {
        if (skip_reason(t, *cl) != nullptr) continue;
        if (!file->read_f32(t, values).ok()) return 1;
        const std::size_t m = static_cast<std::size_t>(t.shape[0]),
                          k = static_cast<std::size_t>(t.shape[1]);
        const sieve::matrix_view<const float> w(values.data(), m, k);
        status s =
            pack_tensor(t.name, w, cl->options, [&](auto& matrix, const sieve::quant_report&) {
                using view_type = std::decay_t<decltype(matrix.view())>;
                auto view = blob->get<view_type>(t.name);
                if (!view.ok()) return view.error();
                SIEVE_TRY(same_gemv<false>(t.name, *view, matrix, m, k));
                using value_type =
                    std::remove_cv_t<std::remove_pointer_t<decltype(view_type::values)>>;
                if constexpr (sieve::is_int8_weight<value_type>)
                    SIEVE_TRY(same_gemv<true>(t.name, *view, matrix, m, k));
                return status{};
            });
        if (!s.ok()) {
            fmt::print(stderr, "roundtrip: {}\n", s.message());
            ++failures;
        }
        ++checked;
    }
    if (checked != blob->reader().size()) {
        fmt::print(stderr, "roundtrip: the blob holds {} matrices, {} tensors were selected\n",
                   blob->reader().size(), checked);
        ++failures;
    }
    std::string isas;
    for (sieve::isa level : sieve::available_isas())
        isas += std::string(" ") + sieve::to_string(level);
    fmt::print("roundtrip: {} matrices checked on{}, {} failed\n", checked, isas, failures);
    return failures == 0 && checked != 0 ? 0 : 1;
}
