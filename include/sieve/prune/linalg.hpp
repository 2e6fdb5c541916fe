// The little dense linear algebra SparseGPT needs, in double, on row-major n x n arrays:
// Cholesky factorization, the inverse of a symmetric positive definite matrix from its
// factor, and the upper Cholesky factor of that inverse. Offline code: plain loops ordered
// so the innermost one walks contiguous memory.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstddef>

namespace sieve::detail {

// In place: the lower triangle of `a` (n x n, row-major; only the lower triangle is read)
// becomes L with A = L L^T. Row by row (Cholesky-Banachiewicz), so each dot product runs
// along two rows. Returns false when A is not numerically positive definite: a pivot that
// is not finite, or not above n * DBL_EPSILON times its diagonal entry (what is left once
// the earlier columns are eliminated is rounding noise, and its square root would be
// meaningless). The upper triangle is left as it was.
inline bool cholesky_lower(double* a, std::size_t n) noexcept {
    const double tolerance = static_cast<double>(n) * DBL_EPSILON;
    for (std::size_t i = 0; i < n; ++i) {
        double* ri = a + i * n;
        for (std::size_t j = 0; j <= i; ++j) {
            const double* rj = a + j * n;
            double s = ri[j];
            for (std::size_t k = 0; k < j; ++k) s -= ri[k] * rj[k];
            if (j < i) {
                ri[j] = s / rj[j];
            } else {
                if (!(ri[i] > 0.0) || !(s > tolerance * ri[i]) || !std::isfinite(s)) return false;
                ri[i] = std::sqrt(s);
            }
        }
    }
    return true;
}

// `inv` (lower triangle) = (L L^T)^-1 from the lower factor `l`; `linv` is n x n scratch
// that receives L^-1. L^-1 is built row by row (row i of L^-1 L = e_i), then the lower
// triangle of L^-T L^-1 is summed row by row of L^-1.
inline void cholesky_inverse(const double* l, std::size_t n, double* linv, double* inv) noexcept {
    for (std::size_t i = 0; i < n; ++i) {
        double* out = linv + i * n;
        const double* li = l + i * n;
        for (std::size_t j = 0; j < i; ++j) out[j] = 0.0;
        for (std::size_t k = 0; k < i; ++k) {
            const double c = li[k];
            const double* rk = linv + k * n;
            for (std::size_t j = 0; j <= k; ++j) out[j] += c * rk[j];
        }
        const double d = li[i];
        for (std::size_t j = 0; j < i; ++j) out[j] = -out[j] / d;
        out[i] = 1.0 / d;
    }
    for (std::size_t p = 0; p < n; ++p)
        for (std::size_t q = 0; q <= p; ++q) inv[p * n + q] = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        const double* ri = linv + i * n;  // nonzero in columns 0..i
        for (std::size_t p = 0; p <= i; ++p) {
            const double c = ri[p];
            if (c == 0.0) continue;
            double* out = inv + p * n;
            for (std::size_t q = 0; q <= p; ++q) out[q] += c * ri[q];
        }
    }
}

// U (upper triangular, row-major, zeros below the diagonal) with A^-1 = U^T U, for a
// symmetric positive definite A given by its lower triangle in `a`. `a`, `b` are n x n
// scratch (`a` is overwritten). This is the factor SparseGPT's column sweep reads: row i
// of U holds the error-propagation coefficients of column i, and U_ii^2 is the diagonal of
// the inverse Hessian restricted to the columns not yet swept. Returns false when A or its
// inverse is not numerically positive definite.
inline bool upper_cholesky_of_inverse(double* a, std::size_t n, double* b, double* u) noexcept {
    if (!cholesky_lower(a, n)) return false;
    cholesky_inverse(a, n, b, u);  // u's lower triangle: A^-1
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j <= i; ++j) a[i * n + j] = u[i * n + j];
    if (!cholesky_lower(a, n)) return false;  // A^-1 = L2 L2^T, so U = L2^T
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) u[i * n + j] = j >= i ? a[j * n + i] : 0.0;
    return true;
}

}  // namespace sieve::detail
