// The performance targets sieve is held to (11008x4096 weights, cold, one thread), checked
// on one run of sieve_bench: `sieve_bench --targets` runs exactly the cases they need and
// prints one line per target: workload, achieved, target, PASS or MISS.
// benchmarks/targets.sh builds sieve_bench in Release and runs it.
#pragma once

#include "report.hpp"

#include <string>

namespace bench {

// The --filter expression selecting every case the targets read.
std::string targets_filter();

// Prints the targets table for a finished run; returns how many targets were missed
// (a target whose cases did not run counts as missed).
int print_targets(const summary& s);

}  // namespace bench
