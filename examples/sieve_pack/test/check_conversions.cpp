// Checks sieve-pack's F16 and BF16 conversions against Python's: reads a safetensors file
// holding every F16 and BF16 bit pattern (X) beside the fp32 value Python computed for each
// (X_as_f32), and compares them bitwise (NaN against NaN: both must be NaN).
//
//   sieve_pack_check_conversions conversions.safetensors
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "../safetensors.hpp"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s conversions.safetensors\n", argv[0]);
        return 2;
    }
    auto file = sieve_pack::safetensors_file::open(argv[1]);
    if (!file.ok()) {
        std::fprintf(stderr, "%s\n", file.message());
        return 1;
    }
    auto find = [&](const char* name) -> const sieve_pack::tensor_info* {
        for (const auto& t : file->tensors())
            if (t.name == name) return &t;
        return nullptr;
    };
    int failures = 0;
    for (const char* name : {"f16_all", "bf16_all"}) {
        const auto* t = find(name);
        const auto* expected = find((std::string(name) + "_as_f32").c_str());
        std::vector<float> got, want;
        if (t == nullptr || expected == nullptr || !file->read_f32(*t, got).ok() ||
            !file->read_f32(*expected, want).ok() || got.size() != 65536 || want.size() != 65536) {
            std::fprintf(stderr, "%s: tensors missing or unreadable\n", name);
            return 1;
        }
        std::size_t nans = 0, infinities = 0;
        for (std::size_t i = 0; i < got.size(); ++i) {
            const bool same =
                std::isnan(want[i]) ? std::isnan(got[i]) : std::memcmp(&got[i], &want[i], 4) == 0;
            if (!same && failures++ < 10)
                std::fprintf(stderr, "%s: pattern 0x%04zx converts to %a, expected %a\n", name, i,
                             static_cast<double>(got[i]), static_cast<double>(want[i]));
            nans += std::isnan(got[i]);
            infinities += std::isinf(got[i]);
        }
        std::printf("%s: 65536 patterns checked (%zu NaN, %zu Inf)\n", name, nans, infinities);
    }
    if (failures != 0) std::fprintf(stderr, "%d conversions differ\n", failures);
    return failures == 0 ? 0 : 1;
}
