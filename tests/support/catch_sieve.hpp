// Catch2 glue for sieve types: error codes print by name in failed assertions, and
// `require_error` checks that a status carries the expected code and a useful message.
#pragma once

#include <catch2/catch.hpp>
#include <cstring>
#include <initializer_list>
#include <sieve/core/error.hpp>
#include <string>

namespace Catch {
template <>
struct StringMaker<sieve::errc> {
    static std::string convert(sieve::errc e) { return sieve::to_string(e); }
};
}  // namespace Catch

namespace sieve_test {

// `s` failed with `code`, its message is not empty, and it contains each of `mentions`
// (the operand or position that is wrong).
inline void require_error(const sieve::status& s, sieve::errc code,
                          std::initializer_list<const char*> mentions = {}) {
    INFO("message: " << s.message());
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == code);
    CHECK(std::strlen(s.message()) > 0);
    for (const char* m : mentions) {
        CAPTURE(m);
        CHECK(std::strstr(s.message(), m) != nullptr);
    }
}

}  // namespace sieve_test
