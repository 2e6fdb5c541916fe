// Fuzzes sieve-pack's safetensors reader (examples/sieve_pack/safetensors.hpp) on raw file
// bytes: the 8-byte header length, the JSON header, the data section. Whatever the index
// accepts must be consistent (every tensor's byte range inside the data section, sized as
// dtype x shape, no two ranges overlapping), and converting each convertible tensor must
// succeed and yield one fp32 value per element; 2-D tensors are then packed as sieve-pack
// does (CSR), which must validate.
#include <algorithm>
#include <cstdint>
#include <safetensors.hpp>
#include <sieve/sieve.hpp>
#include <vector>

#include "fuzz_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sieve_fuzz;
    if (size < 8) return 0;
    const std::uint64_t header_bytes = sieve_pack::detail::load_le(data, 8);
    if (header_bytes > size - 8) return 0;  // safetensors_file::open refuses this first
    const std::uint8_t* section = data + 8 + header_bytes;
    const std::uint64_t data_size = size - 8 - header_bytes;
    auto index = sieve_pack::parse_safetensors_index(data + 8, static_cast<std::size_t>(header_bytes), data_size);
    if (!index.ok()) return 0;

    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
    for (const sieve_pack::tensor_info& t : index->tensors) {
        require(t.begin <= t.end && t.end <= data_size, "tensor '%s': range [%llu, %llu) outside %llu bytes",
                t.name.c_str(), static_cast<unsigned long long>(t.begin), static_cast<unsigned long long>(t.end),
                static_cast<unsigned long long>(data_size));
        unsigned __int128 elements = 1;
        for (std::uint64_t d : t.shape) elements *= d;
        require(elements == t.elements && elements * t.element_bytes == t.end - t.begin,
                "tensor '%s': %llu bytes for its shape and dtype", t.name.c_str(),
                static_cast<unsigned long long>(t.end - t.begin));
        if (t.begin != t.end) ranges.emplace_back(t.begin, t.end);
        if (!t.convertible()) continue;
        std::vector<float> values;
        const sieve::status s =
            sieve_pack::convert_to_f32(t, section + t.begin, static_cast<std::size_t>(t.end - t.begin), values);
        require(s.ok(), "tensor '%s': conversion failed: %s", t.name.c_str(), s.message());
        require(values.size() == t.elements, "tensor '%s': %zu values converted", t.name.c_str(), values.size());
        if (t.shape.size() == 2 && t.elements != 0) {
            auto packed = sieve::csr_matrix<>::pack(
                {values.data(), static_cast<std::size_t>(t.shape[0]), static_cast<std::size_t>(t.shape[1])});
            if (packed.ok()) require_ok(sieve::validate(packed->view()), "validate of a packed tensor");
        }
    }
    std::sort(ranges.begin(), ranges.end());
    for (std::size_t i = 1; i < ranges.size(); ++i)
        require(ranges[i].first >= ranges[i - 1].second, "two accepted tensors overlap");
    return 0;
}
