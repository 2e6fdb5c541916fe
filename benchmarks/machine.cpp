// Machine description. The LLC size comes from sysfs first: glibc's sysconf reads CPUID and,
// in a VM, may report the host's whole L3 (256 MiB where sysfs and lscpu say 32 MiB), which
// would make every cold rotation 8x larger than it needs to be.
#include "machine.hpp"

#include <sieve/sieve.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <unistd.h>

namespace bench {
namespace {

std::string cpuinfo_field(const std::string& key) {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key, 0) == 0 && line.find(':') != std::string::npos) {
            std::string value = line.substr(line.find(':') + 1);
            while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) value.erase(0, 1);
            return value;
        }
    return {};
}

std::string cpu_description() {
    std::string name = cpuinfo_field("model name");
    if (name.empty()) name = cpuinfo_field("CPU part");  // aarch64
    if (name.empty()) return "unknown CPU";
    const std::string family = cpuinfo_field("cpu family"), model = cpuinfo_field("model\t");
    if (!family.empty()) name += fmt::format(" (family {}{})", family, model.empty() ? "" : ", model " + model);
    return name;
}

// "32768K" -> bytes.
std::size_t parse_size(const std::string& text) {
    char* end = nullptr;
    const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
    if (end == text.c_str()) return 0;
    switch (*end) {
    case 'K': return value << 10;
    case 'M': return value << 20;
    case 'G': return value << 30;
    default: return value;
    }
}

void find_llc(std::size_t& bytes, std::string& source) {
    std::size_t best_level = 0;
    for (int index = 0; index < 8; ++index) {
        const std::string dir = fmt::format("/sys/devices/system/cpu/cpu0/cache/index{}/", index);
        std::ifstream level_file(dir + "level"), size_file(dir + "size");
        std::size_t level = 0;
        std::string size;
        if (!(level_file >> level) || !(size_file >> size)) continue;
        if (level >= best_level && parse_size(size) > 0) {
            best_level = level;
            bytes = parse_size(size);
            source = fmt::format("sysfs L{}", level);
        }
    }
    if (best_level > 0) return;
    const long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
    if (l3 > 0) {
        bytes = static_cast<std::size_t>(l3);
        source = "sysconf L3";
        return;
    }
    bytes = std::size_t{32} << 20;
    source = "assumed";
}

std::string isa_description() {
    std::string isa = sieve::to_string(sieve::active_isa());
#if SIEVE_RUNTIME_DISPATCH
    isa += " (runtime dispatch";
    if (const char* cap = std::getenv("SIEVE_ISA")) isa += fmt::format(", SIEVE_ISA={}", cap);
    isa += ")";
#else
    isa += " (static)";
#endif
    return isa;
}

}  // namespace

const machine_info& machine() {
    static const machine_info info = [] {
        machine_info m;
        m.cpu = cpu_description();
        find_llc(m.llc_bytes, m.llc_source);
        m.isa = isa_description();
#ifdef SIEVE_BENCH_BUILD_TYPE
        m.build_type = SIEVE_BENCH_BUILD_TYPE;
#else
        m.build_type = "unknown";
#endif
        const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
        m.date = fmt::format("{:%Y-%m-%d %H:%M} UTC", fmt::gmtime(now));
        return m;
    }();
    return info;
}

std::size_t cold_working_set_bytes() { return 4 * machine().llc_bytes; }

}  // namespace bench
