// Writes the firmware example's blob: the layer of firmware_matrix.hpp packed as 2:4, once
// in fp32 and once in int8 (one scale per row). The blob is committed beside this file
// (weights.sieve), so cross builds embed it without running a host program; ctest
// (firmware_blob_is_current) regenerates it and requires the same bytes.
//
//   make_firmware_blob OUT.sieve          write the blob
//   make_firmware_blob --compare FILE     exit 0 when FILE holds exactly these bytes
#include <cstdio>
#include <cstring>
#include <sieve/io/blob_writer.hpp>
#include <sieve/sieve.hpp>
#include <vector>

#include "firmware_matrix.hpp"

namespace {

int fail(const char* what, const sieve::status& s) {
    std::fprintf(stderr, "make_firmware_blob: %s: %s\n", what, s.message());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace firmware_layer;
    const bool compare = argc == 3 && std::strcmp(argv[1], "--compare") == 0;
    if (!(argc == 2 || compare)) {
        std::fprintf(stderr, "usage: make_firmware_blob OUT.sieve | --compare FILE\n");
        return 2;
    }
    std::vector<float> w(rows * cols);
    for (std::size_t m = 0; m < rows; ++m)
        for (std::size_t k = 0; k < cols; ++k) w[m * cols + k] = weight(m, k);
    auto fp32 =
        sieve::nm_matrix<>::pack(sieve::matrix_view<const float>(w.data(), rows, cols), {2, 4});
    if (!fp32.ok()) return fail("pack", fp32.error());
    sieve::quant_report report;
    auto int8 = sieve::quantize(*fp32, sieve::quant_config::per_row(), &report);
    if (!int8.ok()) return fail("quantize", int8.error());
    if (report.max_abs_error != 0.0) {
        std::fprintf(stderr, "make_firmware_blob: int8 quantization is not exact (%g)\n",
                     report.max_abs_error);
        return 1;
    }

    sieve::io::blob_writer writer;
    sieve::status s = writer.add(fp32_name, *fp32);
    if (s.ok()) s = writer.add(int8_name, *int8);
    if (!s.ok()) return fail("add", s);
    if (!compare) {
        s = writer.write_file(argv[1]);
        return s.ok() ? 0 : fail(argv[1], s);
    }

    auto bytes = writer.to_bytes();
    if (!bytes.ok()) return fail("serialize", bytes.error());
    std::vector<unsigned char> file;
    if (std::FILE* f = std::fopen(argv[2], "rb")) {
        unsigned char buffer[4096];
        for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, f)) != 0;)
            file.insert(file.end(), buffer, buffer + n);
        std::fclose(f);
    }
    if (file.size() != bytes->size() || std::memcmp(file.data(), bytes->data(), file.size()) != 0) {
        std::fprintf(stderr,
                     "make_firmware_blob: %s (%zu bytes) differs from the blob this build writes "
                     "(%zu bytes); "
                     "regenerate it: make_firmware_blob %s\n",
                     argv[2], file.size(), bytes->size(), argv[2]);
        return 1;
    }
    std::printf("%s is current (%zu bytes)\n", argv[2], file.size());
    return 0;
}
