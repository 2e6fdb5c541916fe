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
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <sieve/io/blob_file.hpp>
#include <sieve/io/blob_writer.hpp>
#include <sieve/sieve.hpp>
#include <string>
#include <type_traits>
#include <vector>

#include "cli.hpp"
#include "safetensors.hpp"
#include "summary.hpp"

namespace {

using namespace sieve_pack;

// Prints "sieve-pack: [CONTEXT: ]message" (the context apart: a status holds 200 characters).
int fail(const status& s, const std::string& context = {}) {
    fmt::print(stderr, "sieve-pack: {}{}{}\n", context, context.empty() ? "" : ": ", s.message());
    return 1;
}

int pack(const command_line& cl) {
    auto file = safetensors_file::open(cl.input);
    if (!file.ok()) return fail(file.error(), cl.input);

    sieve::io::blob_writer writer;
    std::vector<std::shared_ptr<const void>>
        packed;  // the writer points into these until it writes
    std::vector<summary_row> rows;
    std::vector<std::string> skipped;
    std::vector<float> values;
    for (const tensor_info& t : file->tensors()) {
        if (const char* why = skip_reason(t, cl)) {
            skipped.push_back(fmt::format("skipped {} ({}, {}): {}", t.name, shape_text(t.shape),
                                          t.dtype_name, why));
            continue;
        }
        const status read = file->read_f32(t, values);
        if (!read.ok()) return fail(read, cl.input);
        const sieve::matrix_view<const float> w(values.data(), static_cast<std::size_t>(t.shape[0]),
                                                static_cast<std::size_t>(t.shape[1]));
        status s = pack_tensor(
            t.name, w, cl.options, [&](auto& matrix, const sieve::quant_report& report) {
                auto kept = std::make_shared<std::decay_t<decltype(matrix)>>(std::move(matrix));
                packed.push_back(kept);
                rows.push_back(describe(t.name, format_name(cl.options.format), *kept, report));
                status added = writer.add(t.name, *kept);
                if (!added.ok())
                    return status::error(added.code(), "tensor '%s': %s", t.name.c_str(),
                                         added.message());
                return status{};
            });
        if (!s.ok()) return fail(s);
    }
    if (rows.empty())
        return fail(
            status::error(errc::bad_argument, "no tensor to pack (%zu skipped)", skipped.size()),
            cl.input);
    const status written = writer.write_file(cl.output.c_str());
    if (!written.ok()) {
        std::remove(cl.output.c_str());  // no partial blob left behind
        return fail(written);
    }

    for (const std::string& line : skipped) fmt::print("{}\n", line);
    print_table(rows);
    fmt::print("wrote {} ({} matrices)\n", cl.output, rows.size());
    return 0;
}

int inspect(const std::string& path) {
    auto blob = sieve::io::load_blob_file(path.c_str());
    if (!blob.ok()) return fail(blob.error(), path);
    std::vector<summary_row> rows;
    for (std::size_t i = 0; i < blob->reader().size(); ++i)
        rows.push_back(describe(blob->reader().entry(i)));
    fmt::print("{}: valid sieve blob, {} bytes, {} matrices\n", path, blob->reader().bytes().size,
               rows.size());
    print_table(rows);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    auto cl = parse_command_line(argc, argv);
    if (!cl.ok()) {
        fail(cl.error());
        return 2;
    }
    if (cl->help) {
        fmt::print("{}", usage_text);
        return 0;
    }
    return cl->inspect.empty() ? pack(*cl) : inspect(cl->inspect);
}
