// Cold weights: copies of one packed weight set, enough that a pass over all of them covers
// at least 4x the last-level cache, so every call reads its weights from DRAM as decoding
// does. A set is packed (pruned) once; the other copies are byte copies of its arrays with a
// view rebuilt over them, which is what any view over caller memory is (and each copy is
// validated once). The same machinery rotates the dense baselines' raw matrices, the Eigen
// peer's arrays and the read-bandwidth buffers.
#pragma once

#include <sieve/sieve.hpp>

#include "cases.hpp"
#include "machine.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace bench {

// A plain row-major M x K float matrix (what BLAS libraries take).
struct raw_matrix {
    const float* values = nullptr;
    std::size_t rows = 0, cols = 0;
};

// A plain row-major M x K int8 matrix (oneDNN's integer GEMM).
struct raw_int8_matrix {
    const std::int8_t* values = nullptr;
    std::size_t rows = 0, cols = 0;
};

// The arrays a view points into, as (pointer member, bytes): what a copy must duplicate.
// One overload per view type; an int8 view's scales (rows x ld floats) come along.
template <class F> void for_each_array(raw_matrix& v, F&& f) { f(v.values, v.rows * v.cols * sizeof(float)); }
template <class F> void for_each_array(raw_int8_matrix& v, F&& f) { f(v.values, v.rows * v.cols); }
template <class F> void for_each_scale(sieve::quant_scales& s, std::size_t rows, F&& f) {
    if (s.data != nullptr) f(s.data, rows * s.ld * sizeof(float));
}
template <class T, class F> void for_each_array(sieve::dense_view<T>& v, F&& f) {
    f(v.values, v.rows * v.ld * sizeof(T));
    for_each_scale(v.scales, v.rows, f);
}
template <class T, class F> void for_each_array(sieve::csr_view<T>& v, F&& f) {
    const std::size_t nnz = v.nnz();
    f(v.row_ptr, (v.rows + 1) * sizeof(std::uint32_t));
    f(v.col_index, nnz * static_cast<std::size_t>(v.width));
    f(v.values, nnz * sizeof(T));
    for_each_scale(v.scales, v.rows, f);
}
template <class T, class F> void for_each_array(sieve::bitmap_view<T>& v, F&& f) {
    f(v.mask, v.rows * v.words * sizeof(std::uint64_t));
    f(v.row_ptr, (v.rows + 1) * sizeof(std::uint32_t));
    f(v.values, v.nnz() * sizeof(T));
    for_each_scale(v.scales, v.rows, f);
}
template <class T, class F> void for_each_array(sieve::nm_view<T>& v, F&& f) {
    f(v.values, v.rows * v.values_ld * sizeof(T));
    f(v.meta, v.rows * v.meta_ld);
    for_each_scale(v.scales, v.rows, f);
}
template <class T, std::size_t R, std::size_t C, class F> void for_each_array(sieve::bsr_view<T, R, C>& v, F&& f) {
    const std::size_t blocks = v.nnz_blocks();
    f(v.block_row_ptr, (v.row_blocks + 1) * sizeof(std::uint32_t));
    f(v.block_col, blocks * static_cast<std::size_t>(v.width));
    f(v.values, blocks * R * C * sizeof(T));
    for_each_scale(v.scales, v.rows, f);
}

namespace detail {
template <class V> auto validate_copy(const V& v, int) -> decltype(sieve::validate(v)) { return sieve::validate(v); }
template <class V> sieve::status validate_copy(const V&, long) { return {}; }

inline std::size_t padded(std::size_t bytes) {
    return (bytes + sieve::tail_padding + sieve::storage_alignment - 1) / sieve::storage_alignment *
           sieve::storage_alignment;
}
}  // namespace detail

// How many copies of `bytes` cover the cold working set (at least one).
inline std::size_t copies_for(std::size_t bytes) {
    if (bytes == 0) return 1;
    const std::size_t want = cold_working_set_bytes();
    return bytes >= want ? 1 : (want + bytes - 1) / bytes;
}

template <class View>
struct cold_set {
    std::shared_ptr<const void> owner;  // what views[0] points into (the packed matrix)
    std::vector<sieve::aligned_buffer<std::uint8_t>> storage;  // the other copies' arrays
    std::vector<View> views;
    std::size_t bytes = 0;  // the format's own bytes, one copy
    std::size_t kept = 0;   // weights that do useful work (FLOPs count 2 per kept weight per token)
    std::string error;      // set when packing failed: the case reports it and is skipped
    std::size_t next = 0;

    const View& take() {
        const View& v = views[next];
        next = next + 1 == views.size() ? 0 : next + 1;
        return v;
    }
};

// A cold set around `original` (a view into `owner`): byte copies of its arrays, each array
// 64-byte aligned with 64 readable bytes after it, as sieve's own storage is.
template <class View>
cold_set<View> make_cold(View original, std::shared_ptr<const void> owner, std::size_t bytes, std::size_t kept) {
    cold_set<View> set;
    set.owner = std::move(owner);
    set.bytes = bytes;
    set.kept = kept;
    set.views.push_back(original);
    std::size_t total = 0;
    for_each_array(original, [&](auto&, std::size_t n) { total += detail::padded(n); });
    for (std::size_t copy = 1; copy < copies_for(bytes); ++copy) {
        sieve::aligned_buffer<std::uint8_t> block;
        if (sieve::status s = block.allocate(total); !s.ok()) {
            set.error = s.message();
            return set;
        }
        View v = original;
        std::size_t offset = 0;
        for_each_array(v, [&](auto& pointer, std::size_t n) {
            std::uint8_t* dst = block.data() + offset;
            if (n != 0) std::memcpy(dst, pointer, n);
            pointer = static_cast<std::remove_reference_t<decltype(pointer)>>(static_cast<const void*>(dst));
            offset += detail::padded(n);
        });
        if (sieve::status s = detail::validate_copy(v, 0); !s.ok()) {
            set.error = std::string("copy of packed weights is invalid: ") + s.message();
            return set;
        }
        set.views.push_back(v);
        set.storage.push_back(std::move(block));
    }
    return set;
}

// A cold set of a packed sieve matrix (or the packing error).
template <class Matrix>
auto make_cold(sieve::result<Matrix> packed) -> cold_set<decltype(std::declval<const Matrix&>().view())> {
    using view_type = decltype(std::declval<const Matrix&>().view());
    if (!packed.ok()) {
        cold_set<view_type> failed;
        failed.error = packed.message();
        return failed;
    }
    auto owner = std::make_shared<const Matrix>(std::move(packed.value()));
    return make_cold(owner->view(), owner, owner->bytes(), owner->nnz());
}

// The weight set of the case running now, built on first use. One set lives at a time:
// building the next frees the previous, so the suite's footprint is that of its largest case.
// Cases are registered so that the ones sharing weights run one after the other.
struct weight_slot {
    std::string key;
    std::shared_ptr<void> set;
};
inline weight_slot& current_weights() {
    static weight_slot slot;
    return slot;
}

template <class Set, class Build>
Set& cached(const std::string& key, Build&& build) {
    weight_slot& slot = current_weights();
    if (slot.key != key || !slot.set) {
        slot.set.reset();
        slot.key.clear();
        slot.set = std::make_shared<Set>(build());
        slot.key = key;
    }
    return *static_cast<Set*>(slot.set.get());
}

// The dense M x K weights every format of a shape is packed from: uniform in [-1, 1), the same
// for every format (a fixed seed), one shape at a time.
const std::vector<float>& dense_source(shape s);
inline sieve::matrix_view<const float> source_view(shape s) { return {dense_source(s).data(), s.rows, s.cols}; }

// Activations: uniform in [-1, 1), a fixed seed per use.
std::vector<float> random_vector(std::size_t n, unsigned seed);

}  // namespace bench
