// The machine a run measures: CPU, last-level cache (it sizes the cold working set), the ISA
// sieve's kernels run with, the build type and the date. Printed at the head of every report.
#pragma once

#include <cstddef>
#include <string>

namespace bench {

struct machine_info {
    std::string cpu;         // "AMD EPYC (family 25, model 1)"
    std::size_t llc_bytes;   // the largest cache level's size
    std::string llc_source;  // where llc_bytes came from
    std::string isa;         // "avx2 (runtime dispatch)"
    std::string build_type;  // CMake build type of sieve_bench
    std::string date;        // UTC, YYYY-MM-DD HH:MM
};

const machine_info& machine();

// Bytes that one pass over a case's rotating weight copies covers at least: 4x the LLC, so
// every call reads its weights from DRAM, as decoding does.
std::size_t cold_working_set_bytes();

}  // namespace bench
