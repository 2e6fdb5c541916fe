// Runs the enclosing test case once per ISA path: every ISA compiled into this binary,
// supported by this CPU and within the SIEVE_ISA cap of the environment (so
// `SIEVE_ISA=sse ctest` runs the scalar and SSE paths only). Each run caps dispatch to its
// ISA, checks that this ISA is the one actually used, and names it in failure messages.
// Place SIEVE_ON_EACH_ISA(); first in every test case that calls sieve::gemv / gemm.
#pragma once

#include <sieve/sieve.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <set>
#include <vector>

namespace sieve_test {

inline std::vector<sieve::isa> isas_under_test() {
    sieve::isa cap = sieve::isa::scalar;
    const bool capped = sieve::parse_isa(std::getenv("SIEVE_ISA"), cap);
    std::vector<sieve::isa> out;
    for (sieve::isa level : sieve::available_isas())
        if (!capped || sieve::isa_within(level, cap)) out.push_back(level);
    return out;
}

// The ISAs some test actually ran on, for the summary test_dispatch.cpp prints.
inline std::set<sieve::isa>& isas_covered() {
    static std::set<sieve::isa> covered;
    return covered;
}

// Caps dispatch to one ISA for the lifetime of the scope.
class isa_scope {
public:
    explicit isa_scope(sieve::isa level) { sieve::set_isa_cap(level); }
    ~isa_scope() { sieve::clear_isa_cap(); }
    isa_scope(const isa_scope&) = delete;
    isa_scope& operator=(const isa_scope&) = delete;
};

}  // namespace sieve_test

#define SIEVE_ON_EACH_ISA()                                                                      \
    const ::sieve::isa sieve_test_isa_ = GENERATE(from_range(::sieve_test::isas_under_test())); \
    ::sieve_test::isa_scope sieve_test_isa_scope_(sieve_test_isa_);                              \
    INFO("ISA " << ::sieve::to_string(sieve_test_isa_));                                        \
    REQUIRE(::sieve::active_isa() == sieve_test_isa_);                                          \
    ::sieve_test::isas_covered().insert(sieve_test_isa_)
