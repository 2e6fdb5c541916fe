// Writes the seed corpus: for each packer harness a handful of inputs in the encoding the
// fuzz input reader decodes (fuzz_input.hpp), covering every selection, pattern, block
// shape, format and scale group, plus special values and the wide (32-bit index) case; for
// the blob harness, valid blobs of each format and dtype.
//
//   sieve_fuzz_corpus <dir>    writes <dir>/<harness>/seed-NNN
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/stat.h>
#include <vector>

#if __has_include(<sieve/io/blob_reader.hpp>)
#include "blob_seeds.hpp"
#endif

namespace {

// The inverse of sieve_fuzz::input_reader for the choices a seed makes.
struct input_writer {
    std::vector<std::uint8_t> bytes;

    input_writer& byte(unsigned b) {
        bytes.push_back(static_cast<std::uint8_t>(b));
        return *this;
    }
    // A weight: 0 (tag 0), a multiple of 1/16 in [-8, 8) (tag 6), else the raw bits (tag 11).
    input_writer& value(float v) {
        const float sixteenths = v * 16.0f;
        if (v == 0.0f && !std::signbit(v)) return byte(0);
        if (sixteenths == std::nearbyint(sixteenths) && sixteenths >= -128.0f && sixteenths <= 127.0f)
            return byte(6).byte(static_cast<std::uint8_t>(static_cast<std::int8_t>(sixteenths)));
        std::uint32_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        return byte(11).byte(bits & 0xff).byte(bits >> 8 & 0xff).byte(bits >> 16 & 0xff).byte(bits >> 24);
    }
    // A small matrix: mode 0, rows, cols, then row-major values from fn(r, c).
    template <class Fn>
    input_writer& matrix(unsigned rows, unsigned cols, Fn&& fn) {
        byte(0).byte(rows).byte(cols);
        for (unsigned r = 0; r < rows; ++r)
            for (unsigned c = 0; c < cols; ++c) value(fn(r, c));
        return *this;
    }
    // A wide matrix: 1 row, 65537 + extra columns, nonzeros near both ends.
    input_writer& wide(unsigned extra) {
        byte(31).byte(0).byte(extra).byte(6);  // 1 row, 6 nonzeros
        for (unsigned i = 0; i < 6; ++i) byte(0).byte(i * 3).byte(i % 2).value(0.5f * static_cast<float>(i + 1));
        return *this;
    }
    input_writer& nonzeros() { return byte(0); }
    input_writer& mask(std::size_t positions, unsigned pattern) {
        byte(1);
        for (std::size_t i = 0; i < (positions + 7) / 8; ++i) byte(pattern + i * 37);
        return *this;
    }
    // Sparsity index into the reader's table (2 = 0.5), per row or per matrix.
    input_writer& magnitude(unsigned sparsity_index, bool per_matrix) {
        return byte(2).byte(sparsity_index).byte(per_matrix ? 1 : 0);
    }
    // Activations, epilogue, bias and prior outputs: a fixed varied tail.
    input_writer& tail() {
        for (unsigned i = 0; i < 96; ++i) byte(i * 29 + 3);
        return *this;
    }
};

// A sparse deterministic test matrix: about `fill` of the entries nonzero.
float sample(unsigned r, unsigned c, double fill) {
    const unsigned h = (r * 2654435761u) ^ (c * 40503u + 7u);
    if ((h % 1000) >= fill * 1000) return 0.0f;
    return static_cast<float>(static_cast<int>(h % 200) - 100) / 16.0f;
}

bool write_file(const std::string& path, const std::vector<std::uint8_t>& bytes) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return false;
    const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    return std::fclose(f) == 0 && ok;
}

struct corpus_writer {
    std::string root;
    bool ok = true;
    void put(const std::string& harness, const std::vector<std::vector<std::uint8_t>>& seeds) {
        const std::string dir = root + "/" + harness;
        ::mkdir(dir.c_str(), 0755);
        for (std::size_t i = 0; i < seeds.size(); ++i) {
            char name[32];
            std::snprintf(name, sizeof name, "/seed-%03zu", i);
            ok = write_file(dir + name, seeds[i]) && ok;
        }
    }
};

// Seeds every element-wise packer harness shares (after its own leading option bytes).
std::vector<std::vector<std::uint8_t>> element_seeds(const std::vector<std::uint8_t>& prefix) {
    std::vector<std::vector<std::uint8_t>> out;
    auto seed = [&](auto&& build) {
        input_writer w;
        w.bytes = prefix;
        w.byte(0x03);  // ISA choice
        build(w);
        out.push_back(w.tail().bytes);
    };
    auto sparse = [](double fill) { return [fill](unsigned r, unsigned c) { return sample(r, c, fill); }; };
    seed([&](input_writer& w) { w.matrix(5, 7, sparse(0.4)).nonzeros(); });
    seed([&](input_writer& w) { w.matrix(9, 33, sparse(0.6)).mask(9 * 33, 0x5a); });
    seed([&](input_writer& w) { w.matrix(8, 40, sparse(0.9)).magnitude(2, false); });
    seed([&](input_writer& w) { w.matrix(6, 17, sparse(0.9)).magnitude(3, true); });
    seed([&](input_writer& w) {
        w.matrix(3, 9, [](unsigned r, unsigned c) {
             const float specials[] = {NAN, INFINITY, -INFINITY, 1e-45f, -0.0f, 3e38f, 1e-40f, 0.0f, 1.5f};
             return specials[(r * 9 + c) % 9];
         }).nonzeros();
    });
    seed([&](input_writer& w) { w.matrix(17, 130, sparse(0.3)).nonzeros(); });
    seed([&](input_writer& w) { w.wide(5).nonzeros(); });
    return out;
}

// A safetensors file: 8-byte little-endian header length, the JSON header, the data.
std::vector<std::uint8_t> safetensors_file(const std::string& header, const std::vector<std::uint8_t>& data) {
    std::vector<std::uint8_t> out;
    for (unsigned i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(header.size() >> (8 * i)));
    out.insert(out.end(), header.begin(), header.end());
    out.insert(out.end(), data.begin(), data.end());
    return out;
}

std::vector<std::vector<std::uint8_t>> safetensors_seeds() {
    std::vector<std::uint8_t> data(2 * 3 * 4 + 4 * 2 * 2 + 3 * 2 + 8);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 37 + 11);
    return {
        safetensors_file(R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})", {data.begin(), data.begin() + 24}),
        safetensors_file(R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F16","shape":[4,2],"data_offsets":[24,40]},)"
                         R"("b":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
                         R"("c":{"dtype":"BF16","shape":[3],"data_offsets":[40,46]},)"
                         R"("d":{"dtype":"I64","shape":[1],"data_offsets":[46,54]}})",
                         data),
        safetensors_file(R"({"e":{"dtype":"F32","shape":[0,4],"data_offsets":[0,0]}})", {}),
        safetensors_file("{}", {}),
    };
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
        return 2;
    }
    corpus_writer out{argv[1]};
    ::mkdir(out.root.c_str(), 0755);
    out.put("fuzz_pack_dense", element_seeds({}));
    out.put("fuzz_pack_csr", element_seeds({}));
    out.put("fuzz_pack_channel", element_seeds({}));
    // N:M: pattern byte b gives M = {2,4,8,16}[b % 4], N = 1 + (b / 4) % M.
    std::vector<std::vector<std::uint8_t>> nm;
    for (unsigned b : {5u, 1u, 0u, 2u, 14u, 3u, 31u}) {
        auto seeds = element_seeds({static_cast<std::uint8_t>(b)});
        nm.insert(nm.end(), seeds.begin(), seeds.begin() + 4);
    }
    out.put("fuzz_pack_nm", nm);
    // BSR: the shape byte selects one of the 7 instantiated block shapes.
    std::vector<std::vector<std::uint8_t>> bsr;
    for (unsigned shape = 0; shape < 7; ++shape) {
        auto seeds = element_seeds({static_cast<std::uint8_t>(shape)});
        bsr.insert(bsr.end(), seeds.begin(), seeds.begin() + 4);
    }
    out.put("fuzz_pack_bsr", bsr);
    // quantize: ISA, format (dense, csr, nm, bsr, channel), group index (0, 32, 64, 128),
    // pattern byte, shape byte, weights, magnitude flag.
    std::vector<std::vector<std::uint8_t>> quant;
    for (unsigned format = 0; format < 5; ++format)
        for (unsigned group = 0; group < 4; ++group) {
            input_writer w;
            w.byte(3).byte(format).byte(group).byte(5).byte(format + group);
            w.matrix(6, 70 + group * 20, [](unsigned r, unsigned c) { return sample(r, c, 0.5); });
            w.byte(group % 2);
            quant.push_back(w.tail().bytes);
        }
    out.put("fuzz_quantize", quant);
#if __has_include(<sieve/io/blob_reader.hpp>)
    out.put("fuzz_blob", sieve_fuzz::blob_seeds());
#endif
#if SIEVE_FUZZ_HAVE_SAFETENSORS
    out.put("fuzz_safetensors", safetensors_seeds());
#endif
    if (!out.ok) std::fprintf(stderr, "sieve_fuzz_corpus: could not write every seed under %s\n", argv[1]);
    return out.ok ? 0 : 1;
}
