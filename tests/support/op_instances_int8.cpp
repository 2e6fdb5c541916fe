// The int8 entry points (fused dequantization and W8A8) for every format under test, once
// for all test files (support/op_instances.hpp).
#define SIEVE_TEST_OP_INSTANCES_HERE 1
#include "op_instances.hpp"

SIEVE_TEST_ALL_INT8_OPS();
