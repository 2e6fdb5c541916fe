// sieve-pack's command line and the rule that picks the tensors to pack; shared by the tool
// and its round-trip check, which takes the same arguments.
#pragma once

#include <regex>
#include <string>
#include <vector>

#include "packing.hpp"
#include "safetensors.hpp"

namespace sieve_pack {

constexpr const char* usage_text = R"(usage: sieve-pack IN.safetensors OUT.sieve [options]
       sieve-pack --inspect FILE.sieve
       sieve-pack --help

Packs the 2-D tensors of a safetensors file (F32, F16 or BF16) into one sieve blob and prints
a table of what it wrote. Other tensors are skipped, each with a line saying why.

options:
  --format F       dense | csr | N:M (e.g. 2:4) | bsr:RxC | bitmap          (default: dense)
                   bsr blocks: 1x4, 1x8, 1x16, 4x1, 8x1, 16x1, 4x4
                   The tensor's own zeros decide what is stored: a tensor that does not have
                   the format's pattern (e.g. a 2:4 group with 3 nonzeros) is an error.
  --prune[=S]      prune by magnitude to the format instead: N:M keeps the N largest of each
                   group; csr, bsr, bitmap and dense drop the fraction S (default 0.5) of the
                   weights (blocks for bsr) of each row with the smallest magnitude
  --int8 Q         quantize to int8, symmetric: Q = row (one scale per output row) or group:G
                   (one scale per G inputs of a row, G = 32, 64 or 128)
  --match REGEX    pack only tensors whose whole name matches REGEX (ECMAScript syntax)
                   (default: every 2-D tensor)
  --inspect FILE   check a sieve blob and print its table
  --help           this text

exit status: 0 on success, 1 when an input is bad or a tensor cannot be packed (the message
names it), 2 for a bad command line.
)";

struct command_line {
    bool help = false;
    std::string inspect;  // --inspect FILE
    std::string input, output;
    pack_options options;
    bool has_match = false;
    std::string match_text;
    std::regex match;
};

inline sieve::result<command_line> parse_command_line(int argc, char** argv) {
    command_line cl;
    std::vector<std::string> positional;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&](std::string& out) -> status {
            if (i + 1 >= argc)
                return status::error(errc::bad_argument, "%s needs a value", arg.c_str());
            out = argv[++i];
            return {};
        };
        std::string v;
        if (arg == "--help" || arg == "-h") {
            cl.help = true;
        } else if (arg == "--inspect") {
            SIEVE_TRY(value(cl.inspect));
        } else if (arg == "--format") {
            SIEVE_TRY(value(v));
            auto f = parse_format(v);
            if (!f.ok()) return f.error();
            cl.options.format = *f;
        } else if (arg == "--int8") {
            SIEVE_TRY(value(v));
            auto q = parse_int8(v);
            if (!q.ok()) return q.error();
            cl.options.int8 = *q;
        } else if (arg == "--match") {
            SIEVE_TRY(value(cl.match_text));
            // Without exceptions a bad pattern cannot be reported: the tool needs them anyway.
            try {
                cl.match = std::regex(cl.match_text, std::regex::ECMAScript);
            } catch (const std::regex_error& e) {
                return status::error(errc::bad_argument, "--match %s: %s", cl.match_text.c_str(),
                                     e.what());
            }
            cl.has_match = true;
        } else if (arg == "--prune") {
            cl.options.prune = true;
        } else if (arg.compare(0, 8, "--prune=") == 0) {
            cl.options.prune = true;
            char* end = nullptr;
            cl.options.sparsity = std::strtod(arg.c_str() + 8, &end);
            if (end == arg.c_str() + 8 || *end != '\0' ||
                !(cl.options.sparsity >= 0.0 && cl.options.sparsity <= 1.0))
                return status::error(errc::bad_argument,
                                     "%s: the sparsity must be a number in [0, 1]", arg.c_str());
        } else if (arg.size() > 1 && arg[0] == '-') {
            return status::error(errc::bad_argument, "unknown option %s (see --help)", arg.c_str());
        } else {
            positional.push_back(arg);
        }
    }
    if (cl.help) return cl;
    if (!cl.inspect.empty()) {
        if (!positional.empty())
            return status::error(errc::bad_argument,
                                 "--inspect takes one file and no other arguments");
        return cl;
    }
    if (positional.size() != 2)
        return status::error(
            errc::bad_argument,
            "expected IN.safetensors and OUT.sieve, got %zu file names (see --help)",
            positional.size());
    cl.input = positional[0];
    cl.output = positional[1];
    return cl;
}

// Why tensor `t` is not packed, or null when it is.
inline const char* skip_reason(const tensor_info& t, const command_line& cl) {
    if (cl.has_match && !std::regex_match(t.name, cl.match)) return "does not match --match";
    if (t.shape.size() != 2) return "not 2-D";
    if (!t.convertible()) return "dtype has no fp32 conversion";
    return nullptr;
}

}  // namespace sieve_pack
