// Valid blobs for the blob harness's seed corpus: one per format and dtype (every BSR block
// shape, N:M patterns, per-row and per-group scales), a blob holding several entries, and
// an empty one. Used by make_corpus.cpp when the blob API is present.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <sieve/io/blob_writer.hpp>
#include <sieve/sieve.hpp>
#include <string>
#include <type_traits>
#include <vector>

namespace sieve_fuzz {

inline std::vector<std::uint8_t> blob_bytes(const sieve::io::blob_writer& w) {
    auto bytes = w.to_bytes();
    if (!bytes.ok()) return {};
    const auto* p = reinterpret_cast<const std::uint8_t*>(bytes->data());
    return {p, p + bytes->size()};
}

// A small matrix (rows x cols) with about half of its weights zero, in a 2:4 pattern
// (so every packer accepts it).
inline std::vector<float> seed_weights(std::size_t rows, std::size_t cols) {
    std::vector<float> w(rows * cols, 0.0f);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c)
            if ((c + r) % 4 < 2) w[r * cols + c] = static_cast<float>(static_cast<int>((r * 7 + c * 3) % 11) - 5) / 4.0f;
    return w;
}

inline std::vector<std::vector<std::uint8_t>> blob_seeds() {
    std::vector<std::vector<std::uint8_t>> out;
    const std::size_t rows = 4, cols = 40;
    const std::vector<float> w = seed_weights(rows, cols);
    const sieve::matrix_view<const float> src(w.data(), rows, cols);
    // One blob per (matrix, scale layout): fp32, int8 per row, int8 per group of 32.
    auto add_all = [&](const char* name, const auto& fp32) {
        {
            sieve::io::blob_writer b;
            if (b.add(name, fp32).ok()) out.push_back(blob_bytes(b));
        }
        for (std::size_t group : {std::size_t{0}, std::size_t{32}}) {
            auto q = sieve::quantize(fp32, sieve::quant_config::per_group(group));
            sieve::io::blob_writer b;
            if (q.ok() && b.add(name, *q).ok()) out.push_back(blob_bytes(b));
        }
    };
    if (auto m = sieve::dense_matrix<>::pack(src); m.ok()) add_all("dense", *m);
    if (auto m = sieve::csr_matrix<>::pack(src); m.ok()) add_all("csr", *m);
    if (auto m = sieve::nm_matrix<>::pack(src, {2, 4}); m.ok()) add_all("nm", *m);
    if (auto m = sieve::nm_matrix<>::pack(src, {3, 8}); m.ok()) add_all("nm38", *m);
    if (auto m = sieve::channel_pruned_matrix<>::pack(src, sieve::selection::magnitude(0.5)); m.ok())
        add_all("channel", *m);
    if (auto m = sieve::bsr_matrix<float, 1, 4>::pack(src); m.ok()) add_all("bsr1x4", *m);
    if (auto m = sieve::bsr_matrix<float, 1, 8>::pack(src); m.ok()) add_all("bsr1x8", *m);
    if (auto m = sieve::bsr_matrix<float, 1, 16>::pack(src); m.ok()) add_all("bsr1x16", *m);
    if (auto m = sieve::bsr_matrix<float, 4, 1>::pack(src); m.ok()) add_all("bsr4x1", *m);
    if (auto m = sieve::bsr_matrix<float, 8, 1>::pack(src); m.ok()) add_all("bsr8x1", *m);
    if (auto m = sieve::bsr_matrix<float, 16, 1>::pack(src); m.ok()) add_all("bsr16x1", *m);
    if (auto m = sieve::bsr_matrix<float, 4, 4>::pack(src); m.ok()) add_all("bsr4x4", *m);
    // Several entries in one blob, and no entry at all.
    auto csr = sieve::csr_matrix<>::pack(src);
    auto nm = sieve::nm_matrix<>::pack(src);
    auto dense = sieve::dense_matrix<>::pack(src);
    if (csr.ok() && nm.ok() && dense.ok()) {
        sieve::io::blob_writer b;
        auto csr8 = sieve::quantize(*csr);
        if (b.add("a.csr", *csr).ok() && b.add("b.nm", *nm).ok() && b.add("c.dense", *dense).ok() && csr8.ok() &&
            b.add("d.csr8", *csr8).ok())
            out.push_back(blob_bytes(b));
    }
    out.push_back(blob_bytes(sieve::io::blob_writer{}));
    return out;
}

}  // namespace sieve_fuzz
