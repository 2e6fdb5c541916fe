// The random dense weights and activations every case starts from (fixed seeds: every
// format of a shape is packed from the same matrix, and runs replay).
#include "cold.hpp"

#include <random>

namespace bench {

const std::vector<float>& dense_source(shape s) {
    static std::vector<float> data;
    static shape cached_shape;
    if (!(cached_shape == s)) {
        data = random_vector(s.rows * s.cols, 1234);
        cached_shape = s;
    }
    return data;
}

std::vector<float> random_vector(std::size_t n, unsigned seed) {
    std::vector<float> v(n);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (float& x : v) x = u(rng);
    return v;
}

}  // namespace bench
