// Synthetic linear layers for the pruning tests, shaped like what LLM pruning meets:
// activations that are correlated across channels (a low-dimensional latent plus noise) and
// a few outlier input channels whose magnitude is far above the rest, as in LLMs'
// "massive activation" channels. Calibration and held-out activations come from the same
// distribution with different draws. Everything derives from a seeded rng (random.hpp);
// normal draws use Box-Muller written here, so the data is the same with every standard
// library.
#pragma once

#include <cmath>
#include <cstddef>
#include <sieve/core/views.hpp>
#include <vector>

#include "random.hpp"

namespace sieve_test {

inline double normal(rng& r) {
    const double u1 = 1.0 - r.unit();  // (0, 1]
    const double u2 = r.unit();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

struct activation_model {
    std::size_t k = 0;
    std::size_t latent = 0;
    std::vector<double> mixing;  // k x latent
    std::vector<double> scale;   // per channel: 1, or large on outlier channels
    double noise = 0.3;
};

// k channels mixed from `latent` factors; `outliers` channels (spread over the range)
// scaled by 20.
inline activation_model make_activation_model(rng& r, std::size_t k, std::size_t latent,
                                              std::size_t outliers) {
    activation_model m;
    m.k = k;
    m.latent = latent;
    m.mixing.resize(k * latent);
    for (double& v : m.mixing) v = normal(r) / std::sqrt(static_cast<double>(latent));
    m.scale.assign(k, 1.0);
    for (std::size_t i = 0; i < outliers && k != 0; ++i) m.scale[(i * 37 + 5) % k] = 20.0;
    return m;
}

// n tokens (n x k, row-major) drawn from the model.
inline test_matrix draw_activations(rng& r, const activation_model& m, std::size_t n) {
    test_matrix x(n, m.k);
    std::vector<double> z(m.latent);
    for (std::size_t t = 0; t < n; ++t) {
        for (double& v : z) v = normal(r);
        for (std::size_t j = 0; j < m.k; ++j) {
            double v = m.noise * normal(r);
            for (std::size_t l = 0; l < m.latent; ++l) v += m.mixing[j * m.latent + l] * z[l];
            x(t, j) = static_cast<float>(m.scale[j] * v);
        }
    }
    return x;
}

inline test_matrix normal_matrix(rng& r, std::size_t rows, std::size_t cols, double sigma = 1.0) {
    test_matrix w(rows, cols);
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < cols; ++j) w(i, j) = static_cast<float>(sigma * normal(r));
    return w;
}

struct synthetic_layer {
    test_matrix weights;      // m x k
    test_matrix calibration;  // calibration tokens x k
    test_matrix held_out;     // held-out tokens x k
};

inline synthetic_layer make_layer(rng& r, std::size_t m, std::size_t k,
                                  std::size_t calibration_tokens, std::size_t held_out_tokens,
                                  std::size_t outliers = 4) {
    const activation_model model = make_activation_model(r, k, k / 8 + 1, outliers);
    synthetic_layer layer;
    layer.weights = normal_matrix(r, m, k);
    layer.calibration = draw_activations(r, model, calibration_tokens);
    layer.held_out = draw_activations(r, model, held_out_tokens);
    return layer;
}

// ||X W^T - X V^T||_F / ||X W^T||_F in double: how much of the layer's output on X a
// pruned (or quantized) V loses.
inline double relative_output_error(sieve::matrix_view<const float> w,
                                    sieve::matrix_view<const float> v, const test_matrix& x) {
    double diff = 0.0, ref = 0.0;
    for (std::size_t t = 0; t < x.rows(); ++t)
        for (std::size_t i = 0; i < w.rows; ++i) {
            double a = 0.0, b = 0.0;
            for (std::size_t j = 0; j < w.cols; ++j) {
                a += static_cast<double>(w(i, j)) * x(t, j);
                b += static_cast<double>(v(i, j)) * x(t, j);
            }
            diff += (a - b) * (a - b);
            ref += a * a;
        }
    return ref == 0.0 ? 0.0 : std::sqrt(diff / ref);
}

// The same from outputs already computed: ||Y - Y'||_F / ||Y||_F.
inline double relative_error(const test_matrix& reference, const test_matrix& got) {
    double diff = 0.0, ref = 0.0;
    for (std::size_t t = 0; t < reference.rows(); ++t)
        for (std::size_t i = 0; i < reference.cols(); ++i) {
            const double a = reference(t, i), b = got(t, i);
            diff += (a - b) * (a - b);
            ref += a * a;
        }
    return ref == 0.0 ? 0.0 : std::sqrt(diff / ref);
}

}  // namespace sieve_test
