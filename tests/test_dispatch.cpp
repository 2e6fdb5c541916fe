// ISA selection: names, the cap semantics, detection, and which ISAs the suite covered.
#define CATCH_CONFIG_EXTERNAL_INTERFACES  // Catch2 v2: declares the listener base class
#include <sieve/sieve.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

#include "support/isa.hpp"

#if SIEVE_RUNTIME_DISPATCH
#include <sieve/dispatch/cpu.hpp>
#endif

namespace {

// Prints, once the run ends, the ISAs this CPU offers and the ones the tests ran on.
struct coverage_listener : Catch::TestEventListenerBase {
    using TestEventListenerBase::TestEventListenerBase;
    void testRunEnded(const Catch::TestRunStats&) override {
        std::string offered, covered;
        for (sieve::isa level : sieve_test::isas_under_test()) offered += std::string(" ") + sieve::to_string(level);
        for (sieve::isa level : sieve_test::isas_covered()) covered += std::string(" ") + sieve::to_string(level);
        Catch::cout() << "sieve ISA paths under test:" << offered << "; exercised:" << covered << "\n";
    }
};

}  // namespace

CATCH_REGISTER_LISTENER(coverage_listener)

TEST_CASE("dispatch isa names round-trip through parse_isa", "[dispatch]") {
    for (sieve::isa level : {sieve::isa::scalar, sieve::isa::sse, sieve::isa::avx2, sieve::isa::avx512,
                             sieve::isa::avx512vnni, sieve::isa::neon, sieve::isa::neondot}) {
        sieve::isa parsed = sieve::isa::scalar;
        REQUIRE(sieve::parse_isa(sieve::to_string(level), parsed));
        CHECK(parsed == level);
    }
    sieve::isa parsed = sieve::isa::avx2;
    CHECK_FALSE(sieve::parse_isa("avx1024", parsed));
    CHECK_FALSE(sieve::parse_isa(nullptr, parsed));
    CHECK(parsed == sieve::isa::avx2);
}

TEST_CASE("dispatch cap orders each ISA family and never crosses families", "[dispatch]") {
    using sieve::isa;
    CHECK(sieve::isa_within(isa::sse, isa::avx512));
    CHECK(sieve::isa_within(isa::avx2, isa::avx2));
    CHECK_FALSE(sieve::isa_within(isa::avx512, isa::avx2));
    CHECK(sieve::isa_within(isa::scalar, isa::neon));
    CHECK_FALSE(sieve::isa_within(isa::neon, isa::avx512));
    CHECK_FALSE(sieve::isa_within(isa::avx2, isa::neon));
    CHECK(sieve::isa_within(isa::avx512, isa::avx512vnni));
    CHECK_FALSE(sieve::isa_within(isa::avx512vnni, isa::avx512));
    CHECK(sieve::isa_within(isa::neon, isa::neondot));
    CHECK_FALSE(sieve::isa_within(isa::neondot, isa::neon));
    CHECK_FALSE(sieve::isa_within(isa::neondot, isa::avx512vnni));
    CHECK_FALSE(sieve::isa_within(isa::avx512vnni, isa::neondot));
}

TEST_CASE("dispatch api cap selects the widest available ISA within it", "[dispatch]") {
    const sieve::isa_list available = sieve::available_isas();
    REQUIRE(available.count >= 1);
    CHECK(available.items[0] == sieve::isa::scalar);
    for (sieve::isa cap : {sieve::isa::scalar, sieve::isa::sse, sieve::isa::avx2, sieve::isa::avx512,
                           sieve::isa::avx512vnni, sieve::isa::neon, sieve::isa::neondot}) {
        sieve_test::isa_scope scope(cap);
        const sieve::isa active = sieve::active_isa();
        INFO("cap " << sieve::to_string(cap) << " -> " << sieve::to_string(active));
        CHECK(available.contains(active));  // never an ISA this build or CPU lacks
        CHECK(sieve::isa_within(active, cap));
        for (sieve::isa level : available)
            if (sieve::isa_within(level, cap)) CHECK(sieve::isa_rank(level) <= sieve::isa_rank(active));
    }
}

TEST_CASE("dispatch follows SIEVE_ISA from the environment when no api cap is set", "[dispatch]") {
    sieve::clear_isa_cap();
    const auto under_test = sieve_test::isas_under_test();
    REQUIRE_FALSE(under_test.empty());
    CHECK(sieve::active_isa() == under_test.back());
}

// CI states the ISA a machine must reach (avx2 under qemu -cpu Haswell, neon on aarch64,
// avx512 on a CPU that has it), so a detection bug cannot silently fall back to scalar.
TEST_CASE("dispatch reaches the ISA named by SIEVE_EXPECT_ISA", "[dispatch]") {
    const char* expected = std::getenv("SIEVE_EXPECT_ISA");
    if (expected == nullptr) return;
    sieve::isa level = sieve::isa::scalar;
    REQUIRE(sieve::parse_isa(expected, level));
    sieve::clear_isa_cap();
    CHECK(sieve::available_isas().contains(level));
}

#if SIEVE_RUNTIME_DISPATCH
// ctest runs the [gemv] tests under SIEVE_GATHERS=hardware and =loads so that both CSR GEMV
// kernels of the AVX-512 tiers run on any x86 machine; this checks the override took.
TEST_CASE("dispatch follows SIEVE_GATHERS for the CSR GEMV", "[dispatch][gemv]") {
    const char* mode = std::getenv("SIEVE_GATHERS");
    if (mode == nullptr || *mode == '\0') {
        CHECK(sieve::csr_gathers_from_loads() == sieve::cpu().slow_gathers);
        return;
    }
    if (std::string(mode) == "loads") CHECK(sieve::csr_gathers_from_loads());
    if (std::string(mode) == "hardware") CHECK_FALSE(sieve::csr_gathers_from_loads());
}

TEST_CASE("dispatch detection agrees with the compiler's view of this CPU", "[dispatch]") {
#if defined(__x86_64__)
    __builtin_cpu_init();
    CHECK(sieve::cpu_supports(sieve::isa::sse) ==
          (__builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("popcnt")));
    CHECK(sieve::cpu_supports(sieve::isa::avx2) ==
          (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")));
    CHECK(sieve::cpu_supports(sieve::isa::avx512) ==
          (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512cd")));
#elif defined(__aarch64__)
    CHECK(sieve::cpu_supports(sieve::isa::neon));
#endif
}
#endif
