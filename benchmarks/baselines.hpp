// Set-up and description of the library baselines (the entries are in cases.hpp).
#pragma once

#include <string>

namespace bench {

// Makes every library baseline run one thread, as sieve's kernels do. Call before any runs.
void single_threaded_baselines();

// "OpenBLAS (...), oneDNN 2.6.3, Eigen 3.4.0 (...)": the libraries found, for the report.
std::string baseline_versions();

}  // namespace bench
