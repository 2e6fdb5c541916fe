// int8 quantization of packed fp32 weights, for every format.
//
//   auto w8 = sieve::quantize(*w, sieve::quant_config::per_group(64), &report);
//
// Symmetric: a scale s per output row (or per row and group of K positions) maps the kept
// weights of that row or group onto -127..127, q = round(w / s) with s = max|w| / 127, so
// the largest weight lands exactly on +-127 and nothing saturates. Only stored values are
// quantized: structural zeros stay structural, the structure (indices, masks, blocks) is
// copied unchanged. A row or group with no nonzero weight gets scale 0 and produces 0,
// never NaN. NaN or Inf in the weights is an error. Packing may allocate; this does too.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../formats/bitmap.hpp"
#include "../formats/bsr.hpp"
#include "../formats/csr.hpp"
#include "../formats/dense.hpp"
#include "../formats/nm.hpp"

namespace sieve {

// The error quantization introduced, over the stored weights.
struct quant_report {
    std::size_t values = 0;         // weights quantized (stored positions inside the matrix)
    double max_abs_error = 0.0;     // max |w - q * s|; at most s / 2 per weight
    double rms_error = 0.0;         // sqrt(mean (w - q * s)^2)
    double relative_error = 0.0;    // ||W - Wq||_F / ||W||_F (0 for an all-zero matrix)
};

namespace detail {

// Calls fn(m, k, i) for every stored value i of a view that lies inside the matrix (k < K,
// m < M: N:M fill past K and BSR edge padding are skipped, they stay zero).
template <class T, class Fn>
void for_each_stored(const dense_view<T>& v, Fn&& fn) {
    for (std::size_t m = 0; m < v.rows; ++m)
        for (std::size_t k = 0; k < v.cols; ++k) fn(m, k, m * v.ld + k);
}
template <class T, class Fn>
void for_each_stored(const csr_view<T>& v, Fn&& fn) {
    for (std::size_t m = 0; m < v.rows; ++m)
        for (std::size_t i = v.row_ptr[m]; i < v.row_ptr[m + 1]; ++i) fn(m, std::size_t{v.col(i)}, i);
}
template <class T, class Fn>
void for_each_stored(const nm_view<T>& v, Fn&& fn) {
    for (std::size_t m = 0; m < v.rows; ++m) {
        std::size_t slot = m * v.values_ld;
        for (std::size_t g = 0; g < v.groups; ++g)
            for (std::uint32_t bits = v.group_mask(m, g); bits != 0; bits &= bits - 1, ++slot) {
                const std::size_t k = g * v.pattern.m + static_cast<std::size_t>(__builtin_ctz(bits));
                if (k < v.cols) fn(m, k, slot);
            }
    }
}
template <class T, class Fn>
void for_each_stored(const bitmap_view<T>& v, Fn&& fn) {
    for (std::size_t m = 0; m < v.rows; ++m) {
        std::size_t i = v.row_ptr[m];
        for (std::size_t k = 0; k < v.cols; ++k)
            if (v.kept(m, k)) fn(m, k, i++);
    }
}
template <class T, std::size_t R, std::size_t C, class Fn>
void for_each_stored(const bsr_view<T, R, C>& v, Fn&& fn) {
    for (std::size_t bi = 0; bi < v.row_blocks; ++bi)
        for (std::size_t i = v.block_row_ptr[bi]; i < v.block_row_ptr[bi + 1]; ++i)
            for (std::size_t r = 0; r < R && bi * R + r < v.rows; ++r)
                for (std::size_t c = 0; c < C && std::size_t{v.col_block(i)} * C + c < v.cols; ++c)
                    fn(bi * R + r, std::size_t{v.col_block(i)} * C + c, i * R * C + r * C + c);
}

struct quantizer {
    // Fills `scales` (rows x ld) and `out` from the fp32 view `src`; `place(i)` maps a value
    // index of src to its index in out.
    template <class View, class Place>
    static status quantize_values(const char* op, const View& src, quant_config cfg, aligned_buffer<float>& scales,
                                  std::int8_t* out, Place&& place, quant_report* report) {
        const std::size_t ld = scales_per_row(src.cols, cfg.group);
        std::size_t count = 0;
        if (!checked_mul(src.rows, ld, count))
            return status::error(errc::size_overflow, "%s: %zu x %zu scales overflow", op, src.rows, ld);
        SIEVE_TRY(scales.allocate(count));
        const auto slot = [&](std::size_t m, std::size_t k) { return m * ld + (cfg.group == 0 ? 0 : k / cfg.group); };

        status bad{};
        for_each_stored(src, [&](std::size_t m, std::size_t k, std::size_t i) {
            const float w = src.values[i];
            if (!std::isfinite(w)) {
                if (bad.ok())
                    bad = status::error(errc::non_finite, "%s: weight (%zu, %zu) is %g", op, m, k, static_cast<double>(w));
                return;
            }
            float& amax = scales[slot(m, k)];
            amax = std::fabs(w) > amax ? std::fabs(w) : amax;
        });
        if (!bad.ok()) return bad;
        for (std::size_t i = 0; i < count; ++i) {
            scales[i] /= 127.0f;
            // 127 * scale must stay finite: a max |w| near FLT_MAX would dequantize to Inf.
            while (std::isinf(scales[i] * 127.0f)) scales[i] = std::nextafter(scales[i], 0.0f);
        }

        double err_sq = 0.0, norm_sq = 0.0, err_max = 0.0;
        std::size_t values = 0;
        for_each_stored(src, [&](std::size_t m, std::size_t k, std::size_t i) {
            const float w = src.values[i], s = scales[slot(m, k)];
            float q = s == 0.0f ? 0.0f : std::nearbyint(w / s);
            q = q > 127.0f ? 127.0f : (q < -127.0f ? -127.0f : q);
            out[place(i)] = static_cast<std::int8_t>(q);
            const double e = static_cast<double>(w) - static_cast<double>(q) * static_cast<double>(s);
            err_sq += e * e;
            norm_sq += static_cast<double>(w) * w;
            err_max = std::fabs(e) > err_max ? std::fabs(e) : err_max;
            ++values;
        });
        if (report != nullptr) {
            report->values = values;
            report->max_abs_error = err_max;
            report->rms_error = values == 0 ? 0.0 : std::sqrt(err_sq / static_cast<double>(values));
            report->relative_error = norm_sq == 0.0 ? 0.0 : std::sqrt(err_sq / norm_sq);
        }
        return {};
    }

    static status check(const char* op, quant_config cfg) noexcept { return check_quant_group(op, cfg.group); }

    static result<dense_matrix<std::int8_t>> run(const dense_matrix<float>& w, quant_config cfg, quant_report* report) {
        const char* op = "quantize dense";
        SIEVE_TRY(check(op, cfg));
        dense_matrix<std::int8_t> out;
        out.rows_ = w.rows_;
        out.cols_ = w.cols_;
        out.group_ = cfg.group;
        constexpr std::size_t align = dense_matrix<std::int8_t>::row_alignment;
        out.ld_ = (w.cols_ + align - 1) / align * align;
        SIEVE_TRY(out.values_.allocate(out.rows_ * out.ld_));
        const std::size_t src_ld = w.ld_, dst_ld = out.ld_;
        SIEVE_TRY(quantize_values(op, w.view(), cfg, out.scales_, out.values_.data(),
                                  [&](std::size_t i) { return i / src_ld * dst_ld + i % src_ld; }, report));
        return out;
    }

    static result<csr_matrix<std::int8_t>> run(const csr_matrix<float>& w, quant_config cfg, quant_report* report) {
        const char* op = "quantize csr";
        SIEVE_TRY(check(op, cfg));
        csr_matrix<std::int8_t> out;
        out.rows_ = w.rows_;
        out.cols_ = w.cols_;
        out.group_ = cfg.group;
        SIEVE_TRY(copy(out.row_ptr_, w.row_ptr_));
        SIEVE_TRY(copy(out.col_index_, w.col_index_));
        SIEVE_TRY(out.values_.allocate(w.values_.size()));
        SIEVE_TRY(quantize_values(op, w.view(), cfg, out.scales_, out.values_.data(), same_place, report));
        return out;
    }

    static result<nm_matrix<std::int8_t>> run(const nm_matrix<float>& w, quant_config cfg, quant_report* report) {
        const char* op = "quantize nm";
        SIEVE_TRY(check(op, cfg));
        nm_matrix<std::int8_t> out;
        out.rows_ = w.rows_;
        out.cols_ = w.cols_;
        out.pattern_ = w.pattern_;
        out.groups_ = w.groups_;
        out.values_ld_ = w.values_ld_;
        out.meta_ld_ = w.meta_ld_;
        out.group_ = cfg.group;
        SIEVE_TRY(copy(out.meta_, w.meta_));
        SIEVE_TRY(out.values_.allocate(w.values_.size()));
        SIEVE_TRY(quantize_values(op, w.view(), cfg, out.scales_, out.values_.data(), same_place, report));
        return out;
    }

    static result<bitmap_matrix<std::int8_t>> run(const bitmap_matrix<float>& w, quant_config cfg,
                                                   quant_report* report) {
        const char* op = "quantize bitmap";
        SIEVE_TRY(check(op, cfg));
        bitmap_matrix<std::int8_t> out;
        out.rows_ = w.rows_;
        out.cols_ = w.cols_;
        out.words_ = w.words_;
        out.group_ = cfg.group;
        SIEVE_TRY(copy(out.mask_, w.mask_));
        SIEVE_TRY(copy(out.row_ptr_, w.row_ptr_));
        SIEVE_TRY(out.values_.allocate(w.values_.size()));
        SIEVE_TRY(quantize_values(op, w.view(), cfg, out.scales_, out.values_.data(), same_place, report));
        return out;
    }

    template <std::size_t R, std::size_t C>
    static result<bsr_matrix<std::int8_t, R, C>> run(const bsr_matrix<float, R, C>& w, quant_config cfg,
                                                      quant_report* report) {
        const char* op = "quantize bsr";
        SIEVE_TRY(check(op, cfg));
        if (cfg.group % C != 0)
            return status::error(errc::bad_argument, "%s: scale groups of %zu would split %zu-column blocks", op,
                                 cfg.group, C);
        bsr_matrix<std::int8_t, R, C> out;
        out.rows_ = w.rows_;
        out.cols_ = w.cols_;
        out.row_blocks_ = w.row_blocks_;
        out.col_blocks_ = w.col_blocks_;
        out.group_ = cfg.group;
        SIEVE_TRY(copy(out.block_row_ptr_, w.block_row_ptr_));
        SIEVE_TRY(copy(out.block_col_, w.block_col_));
        SIEVE_TRY(out.values_.allocate(w.values_.size()));
        SIEVE_TRY(quantize_values(op, w.view(), cfg, out.scales_, out.values_.data(), same_place, report));
        return out;
    }

private:
    static std::size_t same_place(std::size_t i) noexcept { return i; }

    template <class U>
    static status copy(aligned_buffer<U>& to, const aligned_buffer<U>& from) noexcept {
        SIEVE_TRY(to.allocate(from.size()));
        if (from.size() != 0) std::memcpy(to.data(), from.data(), from.bytes());
        return {};
    }
    static status copy(index_array& to, const index_array& from) noexcept {
        SIEVE_TRY(to.allocate(from.size(), from.width()));
        for (std::size_t i = 0; i < from.size(); ++i) to.set(i, from.get(i));
        return {};
    }
};

}  // namespace detail

// The int8 form of a packed fp32 matrix (dense, CSR, N:M, bitmap or BSR), with scales per row or
// per group of 32, 64 or 128 K positions (BSR: the group must be a multiple of the block
// width). `report`, when given, receives the quantization error.
inline result<dense_matrix<std::int8_t>> quantize(const dense_matrix<float>& w, quant_config cfg = {},
                                                  quant_report* report = nullptr) {
    return detail::quantizer::run(w, cfg, report);
}
inline result<csr_matrix<std::int8_t>> quantize(const csr_matrix<float>& w, quant_config cfg = {},
                                                quant_report* report = nullptr) {
    return detail::quantizer::run(w, cfg, report);
}
inline result<nm_matrix<std::int8_t>> quantize(const nm_matrix<float>& w, quant_config cfg = {},
                                               quant_report* report = nullptr) {
    return detail::quantizer::run(w, cfg, report);
}
inline result<bitmap_matrix<std::int8_t>> quantize(const bitmap_matrix<float>& w, quant_config cfg = {},
                                                   quant_report* report = nullptr) {
    return detail::quantizer::run(w, cfg, report);
}
template <std::size_t R, std::size_t C>
result<bsr_matrix<std::int8_t, R, C>> quantize(const bsr_matrix<float, R, C>& w, quant_config cfg = {},
                                               quant_report* report = nullptr) {
    return detail::quantizer::run(w, cfg, report);
}

}  // namespace sieve
