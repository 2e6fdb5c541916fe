// Catch2's main, alone in its own file: it is the slowest file to compile and never changes,
// so editing a test never rebuilds it.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
