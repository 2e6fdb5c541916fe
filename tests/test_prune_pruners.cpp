// The pruners' contract: every method meets the exact sparsity or pattern of every target
// (per row, per matrix, N:M, blocks, whole channels), leaves 0 at every pruned position,
// ranks as its definition says (magnitude as the packers do, Wanda by |W| * ||X_j||),
// SparseGPT leaves a well-conditioned layer at 0% untouched and compensates what it prunes;
// dead channels and singular Hessians are handled; bad input is refused with a message.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sieve/sieve.hpp>
#include <utility>
#include <vector>

#include "support/catch_sieve.hpp"
#include "support/formats.hpp"
#include "support/layers.hpp"
#include "support/pruning.hpp"
#include "support/random.hpp"

using namespace sieve_test;

namespace {

const sieve::prune_method all_methods[] = {
    sieve::prune_method::magnitude, sieve::prune_method::wanda, sieve::prune_method::sparsegpt};

sieve::calibration make_stats(const test_matrix& x) {
    auto stats = sieve::calibration::create(x.cols());
    REQUIRE(stats.ok());
    REQUIRE(stats->add(x.view()).ok());
    return std::move(*stats);
}

// Keep count of a tile set as selection.hpp defines it: total - round(s * total).
std::size_t kept_tiles(std::size_t total, double s) { return expected_kept(total, s); }

// The mask has the structure and the exact count the target asks for.
void require_target_met(const sieve::pruned_layer& l, const sieve::prune_target& t) {
    using kind = sieve::prune_target::kind;
    const std::size_t rows = l.rows, cols = l.cols;
    auto keep = [&](std::size_t r, std::size_t c) { return l.mask(r, c); };
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) {
            if (!keep(r, c) && l.values[r * cols + c] != 0.0f)
                FAIL("pruned (" << r << ", " << c << ") is not 0");
            if (!std::isfinite(l.values[r * cols + c]))
                FAIL("(" << r << ", " << c << ") is not finite");
        }
    switch (t.shape) {
        case kind::nm_group:
            for (std::size_t r = 0; r < rows; ++r)
                for (std::size_t c0 = 0; c0 < cols; c0 += t.m) {
                    std::size_t kept = 0, width = std::min(t.m, cols - c0);
                    for (std::size_t j = 0; j < width; ++j) kept += keep(r, c0 + j);
                    if (kept != std::min(t.n, width))
                        FAIL("row " << r << " group at " << c0 << " keeps " << kept);
                }
            return;
        case kind::element:
        case kind::block:
        case kind::input_channels:
        case kind::output_neurons:
            break;
    }
    const sieve::prune_structure tiles = t.tiles(rows, cols);
    const std::size_t br = tiles.block_rows, bc = tiles.block_cols;
    const std::size_t nbr = (rows + br - 1) / br, nbc = (cols + bc - 1) / bc;
    std::size_t total = 0;
    for (std::size_t bi = 0; bi < nbr; ++bi) {
        std::size_t in_row = 0;
        for (std::size_t bj = 0; bj < nbc; ++bj) {
            const bool first = keep(bi * br, bj * bc);
            for (std::size_t r = bi * br; r < std::min(rows, (bi + 1) * br); ++r)
                for (std::size_t c = bj * bc; c < std::min(cols, (bj + 1) * bc); ++c)
                    if (keep(r, c) != first)
                        FAIL("tile (" << bi << ", " << bj << ") is partly kept");
            in_row += first;
        }
        if (t.ranking_scope() == sieve::prune_scope::per_row)
            REQUIRE(in_row == kept_tiles(nbc, t.sparsity));
        total += in_row;
    }
    if (t.ranking_scope() == sieve::prune_scope::per_matrix)
        REQUIRE(total == kept_tiles(nbr * nbc, t.sparsity));
}

std::vector<sieve::prune_target> contract_targets() {
    using sieve::prune_scope;
    using sieve::prune_target;
    return {prune_target::unstructured(0.5),
            prune_target::unstructured(0.3, prune_scope::per_matrix),
            prune_target::unstructured(0.9),
            prune_target::nm(2, 4),
            prune_target::nm(1, 4),
            prune_target::nm(4, 8),
            prune_target::blocks(4, 4, 0.5),
            prune_target::blocks(1, 16, 0.5, prune_scope::per_matrix),
            prune_target::blocks(8, 1, 0.25),
            prune_target::input_channels(0.5),
            prune_target::output_neurons(0.25)};
}

std::vector<std::uint8_t> mask_bytes(const sieve::keep_mask& m) {
    return std::vector<std::uint8_t>(m.bytes.data(), m.bytes.data() + m.rows * m.cols);
}

}  // namespace

TEST_CASE("every pruner meets the exact sparsity or pattern of every target", "[prune][contract]") {
    const std::uint32_t seed = 601;
    CAPTURE(seed);
    rng r(seed);
    for (auto shape : {std::pair<std::size_t, std::size_t>{24, 40}, {17, 33}, {9, 100}}) {
        CAPTURE(shape.first, shape.second);
        const synthetic_layer layer = make_layer(r, shape.first, shape.second, 2 * shape.second, 1);
        const sieve::calibration stats = make_stats(layer.calibration);
        for (const auto& target : contract_targets())
            for (auto method : all_methods)
                // SparseGPT also with sweep blocks that split tiles' counts unevenly.
                for (std::size_t block : {std::size_t{128}, std::size_t{5}}) {
                    if (block != 128 && method != sieve::prune_method::sparsegpt) continue;
                    INFO(sieve::to_string(method)
                         << " at " << sieve::describe(target).c_str() << ", sweep block " << block);
                    sieve::prune_config config{method, target, {}};
                    config.sparsegpt.block_size = block;
                    sieve::prune_report report;
                    auto l = sieve::prune(layer.weights.view(), &stats, config, &report);
                    INFO(l.message());
                    REQUIRE(l.ok());
                    require_target_met(*l, target);
                    CHECK(report.kept == l->kept());
                    CHECK(report.total == shape.first * shape.second);
                    if (method == sieve::prune_method::sparsegpt) continue;
                    for (std::size_t i = 0; i < shape.first; ++i)  // not updated: W where kept
                        for (std::size_t j = 0; j < shape.second; ++j)
                            if (l->mask(i, j))
                                REQUIRE(l->values[i * shape.second + j] == layer.weights(i, j));
                }
    }
}

TEST_CASE("magnitude pruning keeps what the packers' magnitude selection keeps",
          "[prune][magnitude]") {
    const std::uint32_t seed = 602;
    CAPTURE(seed);
    rng r(seed);
    const test_matrix w = random_matrix(r, 13, 29, {0.9, -2.0f, 2.0f});
    auto check = [&](const sieve::prune_target& t, const std::vector<std::uint8_t>& want) {
        INFO(sieve::describe(t).c_str());
        auto mask = sieve::magnitude_mask(w.view(), t);
        REQUIRE(mask.ok());
        CHECK(mask_bytes(*mask) == want);
    };
    check(sieve::prune_target::unstructured(0.6),
          expected_element_keep(w, 0.6, sieve::prune_scope::per_row));
    check(sieve::prune_target::unstructured(0.6, sieve::prune_scope::per_matrix),
          expected_element_keep(w, 0.6, sieve::prune_scope::per_matrix));
    check(sieve::prune_target::nm(2, 4), expected_nm_keep(w, 2, 4));
    check(sieve::prune_target::blocks(4, 4, 0.5),
          expected_block_keep(w, 4, 4, 0.5, sieve::prune_scope::per_row));
    check(sieve::prune_target::input_channels(0.4),
          expected_block_keep(w, 13, 1, 0.4, sieve::prune_scope::per_matrix));
    check(sieve::prune_target::output_neurons(0.4),
          expected_block_keep(w, 1, 29, 0.4, sieve::prune_scope::per_matrix));
}

TEST_CASE("Wanda keeps the largest |W_ij| * ||X_j|| of each comparison group", "[prune][wanda]") {
    const std::uint32_t seed = 603;
    CAPTURE(seed);
    rng r(seed);
    const std::size_t m = 11, k = 24;
    const synthetic_layer layer = make_layer(r, m, k, 50, 1, 2);
    const sieve::calibration stats = make_stats(layer.calibration);
    std::vector<double> norm(k);
    for (std::size_t j = 0; j < k; ++j) {
        double s = 0.0;
        for (std::size_t t = 0; t < layer.calibration.rows(); ++t)
            s += static_cast<double>(layer.calibration(t, j)) * layer.calibration(t, j);
        norm[j] = std::sqrt(s);
    }
    // The score matrix as a test matrix: the magnitude oracles then give Wanda's masks.
    test_matrix score(m, k);
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < k; ++j)
            score(i, j) = static_cast<float>(std::fabs(layer.weights(i, j)) * norm[j]);
    auto check = [&](const sieve::prune_target& t, const std::vector<std::uint8_t>& want) {
        INFO(sieve::describe(t).c_str());
        auto mask = sieve::wanda_mask(layer.weights.view(), stats, t);
        REQUIRE(mask.ok());
        CHECK(mask_bytes(*mask) == want);
    };
    check(sieve::prune_target::unstructured(0.5),
          expected_element_keep(score, 0.5, sieve::prune_scope::per_row));
    check(sieve::prune_target::nm(2, 4), expected_nm_keep(score, 2, 4));
    check(sieve::prune_target::blocks(1, 4, 0.5),
          expected_block_keep(score, 1, 4, 0.5, sieve::prune_scope::per_row));
    check(sieve::prune_target::input_channels(0.5),
          expected_block_keep(score, m, 1, 0.5, sieve::prune_scope::per_matrix));

    // The point of Wanda: a small weight on an outlier channel outranks a larger one on a
    // quiet channel; magnitude pruning drops it.
    test_matrix w(1, 2);
    w(0, 0) = 0.1f;  // channel 0: activations of 100
    w(0, 1) = 1.0f;  // channel 1: activations of 1
    test_matrix x(4, 2, {}, 1.0f);
    for (std::size_t t = 0; t < 4; ++t) x(t, 0) = 100.0f;
    const sieve::calibration outlier = make_stats(x);
    auto wanda = sieve::wanda_mask(w.view(), outlier, sieve::prune_target::unstructured(0.5));
    auto magnitude = sieve::magnitude_mask(w.view(), sieve::prune_target::unstructured(0.5));
    REQUIRE((wanda.ok() && magnitude.ok()));
    CHECK(((*wanda)(0, 0) && !(*wanda)(0, 1)));
    CHECK((!(*magnitude)(0, 0) && (*magnitude)(0, 1)));
}

TEST_CASE("SparseGPT at 0% returns a well-conditioned layer's weights unchanged",
          "[prune][sparsegpt]") {
    const std::uint32_t seed = 604;
    CAPTURE(seed);
    rng r(seed);
    const std::size_t m = 16, k = 48;
    const test_matrix w = normal_matrix(r, m, k);
    const sieve::calibration stats = make_stats(normal_matrix(r, 8 * k, k));  // iid: full rank
    for (const auto& t : {sieve::prune_target::unstructured(0.0),
                          sieve::prune_target::unstructured(0.0, sieve::prune_scope::per_matrix),
                          sieve::prune_target::nm(4, 4), sieve::prune_target::blocks(2, 8, 0.0),
                          sieve::prune_target::input_channels(0.0)}) {
        INFO(sieve::describe(t).c_str());
        sieve::prune_report report;
        auto l = sieve::sparsegpt_prune(w.view(), stats, t, {}, &report);
        REQUIRE(l.ok());
        CHECK(report.kept == m * k);
        CHECK(report.damping_retries == 0);
        CHECK(report.damping == 0.01);
        for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = 0; j < k; ++j) {
                REQUIRE(l->mask(i, j));
                REQUIRE(l->values[i * k + j] == w(i, j));
            }
    }
}

TEST_CASE("SparseGPT's updates lower the calibration error of its own mask", "[prune][sparsegpt]") {
    // Same mask, with and without the compensating updates: the updates are what the method
    // adds over choosing a mask.
    const std::uint32_t seed = 605;
    CAPTURE(seed);
    rng r(seed);
    const synthetic_layer layer = make_layer(r, 32, 64, 256, 1, 3);
    const sieve::calibration stats = make_stats(layer.calibration);
    for (const auto& t : {sieve::prune_target::unstructured(0.5), sieve::prune_target::nm(2, 4),
                          sieve::prune_target::input_channels(0.5)}) {
        INFO(sieve::describe(t).c_str());
        auto l = sieve::sparsegpt_prune(layer.weights.view(), stats, t);
        REQUIRE(l.ok());
        test_matrix mask_only(32, 64);
        for (std::size_t i = 0; i < 32; ++i)
            for (std::size_t j = 0; j < 64; ++j)
                mask_only(i, j) = l->mask(i, j) ? layer.weights(i, j) : 0.0f;
        const double updated =
            relative_output_error(layer.weights.view(), l->weights(), layer.calibration);
        const double masked =
            relative_output_error(layer.weights.view(), mask_only.view(), layer.calibration);
        CAPTURE(updated, masked);
        CHECK(updated < 0.8 * masked);
    }
}

TEST_CASE("dead input channels are pruned first and otherwise left alone", "[prune][dead]") {
    const std::uint32_t seed = 606;
    CAPTURE(seed);
    rng r(seed);
    const std::size_t m = 12, k = 32;
    const synthetic_layer layer = make_layer(r, m, k, 128, 1);
    test_matrix x = copy_with_layout(layer.calibration, {});
    for (std::size_t t = 0; t < x.rows(); ++t) x(t, 3) = x(t, 20) = 0.0f;
    const sieve::calibration stats = make_stats(x);

    for (auto method : {sieve::prune_method::wanda, sieve::prune_method::sparsegpt}) {
        INFO(sieve::to_string(method));
        sieve::prune_report report;
        auto half = sieve::prune(layer.weights.view(), &stats,
                                 {method, sieve::prune_target::unstructured(0.5), {}}, &report);
        REQUIRE(half.ok());
        CHECK(report.dead_channels == 2);
        require_target_met(*half, sieve::prune_target::unstructured(0.5));
        for (std::size_t i = 0; i < m; ++i) CHECK((!half->mask(i, 3) && !half->mask(i, 20)));

        auto none = sieve::prune(layer.weights.view(), &stats,
                                 {method, sieve::prune_target::unstructured(0.0), {}});
        REQUIRE(none.ok());
        for (std::size_t i = 0; i < m; ++i) {
            CHECK(none->values[i * k + 3] == layer.weights(i, 3));
            CHECK(none->values[i * k + 20] == layer.weights(i, 20));
        }
    }

    // Every channel dead: nothing to learn from, but still a valid, exact result.
    const test_matrix silent(16, k);
    const sieve::calibration dead = make_stats(silent);
    for (const auto& t : {sieve::prune_target::unstructured(0.5), sieve::prune_target::nm(2, 4)}) {
        sieve::prune_report report;
        auto l = sieve::sparsegpt_prune(layer.weights.view(), dead, t, {}, &report);
        REQUIRE(l.ok());
        CHECK(report.dead_channels == k);
        require_target_met(*l, t);
    }
}

TEST_CASE("a singular Hessian is damped, retried, or refused, never used as it is",
          "[prune][sparsegpt]") {
    const std::uint32_t seed = 607;
    CAPTURE(seed);
    rng r(seed);
    const std::size_t m = 8, k = 24;
    const test_matrix w = normal_matrix(r, m, k);
    test_matrix x = normal_matrix(r, 4 * k, k);
    for (std::size_t t = 0; t < x.rows(); ++t) x(t, 1) = x(t, 0);  // two identical channels
    const sieve::calibration duplicate = make_stats(x);
    const sieve::calibration few_tokens = make_stats(normal_matrix(r, k / 3, k));  // rank k / 3

    const auto target = sieve::prune_target::unstructured(0.5);
    for (const sieve::calibration* stats : {&duplicate, &few_tokens}) {
        sieve::prune_report report;
        auto l =
            sieve::sparsegpt_prune(w.view(), *stats, target, {}, &report);  // 1% damping suffices
        REQUIRE(l.ok());
        CHECK(report.damping_retries == 0);
        require_target_met(*l, target);
    }

    sieve::sparsegpt_options undamped;
    undamped.damping = 0.0;
    undamped.max_retries = 0;
    require_error(sieve::sparsegpt_prune(w.view(), duplicate, target, undamped).error(),
                  sieve::errc::bad_argument, {"not positive definite", "damping"});

    undamped.max_retries = 3;
    sieve::prune_report report;
    auto retried = sieve::sparsegpt_prune(w.view(), duplicate, target, undamped, &report);
    REQUIRE(retried.ok());
    CHECK(report.damping_retries >= 1);
    CHECK(report.damping > 0.0);
    require_target_met(*retried, target);
}

TEST_CASE("pruners refuse bad weights, targets, statistics and options", "[prune][errors]") {
    test_matrix w(4, 8, {}, 1.0f);
    for (std::size_t j = 0; j < 8; ++j) w(1, j) = static_cast<float>(j) - 3.5f;
    test_matrix x(10, 8, {}, 0.5f);
    const sieve::calibration stats = make_stats(x);
    const auto half = sieve::prune_target::unstructured(0.5);

    for (auto method : all_methods) {
        INFO(sieve::to_string(method));
        auto run = [&](const test_matrix& weights, const sieve::prune_target& t) {
            return sieve::prune(weights.view(), &stats, {method, t, {}}).error();
        };
        test_matrix bad = copy_with_layout(w, {});
        bad(2, 5) = std::numeric_limits<float>::quiet_NaN();
        require_error(run(bad, half), sieve::errc::non_finite, {"(2, 5)", "NaN"});
        bad(2, 5) = std::numeric_limits<float>::infinity();
        require_error(run(bad, half), sieve::errc::non_finite, {"infinite"});
        require_error(run(w, sieve::prune_target::unstructured(1.5)), sieve::errc::bad_argument,
                      {"1.5"});
        require_error(run(w, sieve::prune_target::unstructured(-0.1)), sieve::errc::bad_argument);
        require_error(run(w, sieve::prune_target::unstructured(std::nan(""))),
                      sieve::errc::bad_argument);
        require_error(run(w, sieve::prune_target::nm(5, 4)), sieve::errc::bad_argument, {"5:4"});
        require_error(run(w, sieve::prune_target::nm(2, 3)), sieve::errc::bad_argument, {"2:3"});
        require_error(run(w, sieve::prune_target::blocks(0, 4, 0.5)), sieve::errc::bad_argument,
                      {"empty"});
        require_error(
            sieve::prune(sieve::matrix_view<const float>(nullptr, 4, 8), &stats, {method, half, {}})
                .error(),
            sieve::errc::null_pointer);
        if (method == sieve::prune_method::magnitude) {
            CHECK(sieve::prune(w.view(), nullptr, {method, half, {}}).ok());  // needs no statistics
            continue;
        }
        require_error(sieve::prune(w.view(), nullptr, {method, half, {}}).error(),
                      sieve::errc::null_pointer, {"calibration"});
        test_matrix narrow(4, 7, {}, 1.0f);
        require_error(run(narrow, half), sieve::errc::shape_mismatch, {"8", "7"});
        auto empty = sieve::calibration::create(8);
        REQUIRE(empty.ok());
        require_error(sieve::prune(w.view(), &*empty, {method, half, {}}).error(),
                      sieve::errc::bad_argument, {"no tokens"});
    }

    auto norms = sieve::calibration::create(8, sieve::calibration::statistics::norms);
    REQUIRE(norms.ok());
    REQUIRE(norms->add(x.view()).ok());
    CHECK(sieve::wanda_prune(w.view(), *norms, half).ok());
    require_error(sieve::sparsegpt_prune(w.view(), *norms, half).error(), sieve::errc::bad_argument,
                  {"Hessian"});

    sieve::sparsegpt_options o;
    o.damping = -1.0;
    require_error(sieve::sparsegpt_prune(w.view(), stats, half, o).error(),
                  sieve::errc::bad_argument, {"damping"});
    o = {};
    o.block_size = 0;
    require_error(sieve::sparsegpt_prune(w.view(), stats, half, o).error(),
                  sieve::errc::bad_argument, {"block"});
    o = {};
    o.max_retries = -1;
    require_error(sieve::sparsegpt_prune(w.view(), stats, half, o).error(),
                  sieve::errc::bad_argument, {"retries"});
}

TEST_CASE("prune_and_pack packs every format and refuses targets a format cannot hold",
          "[prune][pack]") {
    const std::uint32_t seed = 608;
    CAPTURE(seed);
    rng r(seed);
    const std::size_t m = 20, k = 48;
    const synthetic_layer layer = make_layer(r, m, k, 96, 1);
    const sieve::calibration stats = make_stats(layer.calibration);
    const auto half = sieve::prune_target::unstructured(0.5);

    for (auto method : all_methods) {
        INFO(sieve::to_string(method));
        // The one call gives exactly the pruner's weights in the format.
        auto expect = [&](const sieve::prune_target& t) {
            auto l = sieve::prune(layer.weights.view(), &stats, {method, t, {}});
            REQUIRE(l.ok());
            test_matrix out(m, k);
            for (std::size_t i = 0; i < m; ++i)
                for (std::size_t j = 0; j < k; ++j) out(i, j) = l->values[i * k + j];
            return out;
        };
        auto dense = sieve::prune_and_pack<sieve::dense_matrix<>>(layer.weights.view(), stats,
                                                                  {method, half, {}});
        auto csr = sieve::prune_and_pack<sieve::csr_matrix<>>(layer.weights.view(), stats,
                                                              {method, half, {}});
        auto nm = sieve::prune_and_pack<sieve::nm_matrix<>>(
            layer.weights.view(), stats, {method, sieve::prune_target::nm(2, 4), {}});
        auto bsr = sieve::prune_and_pack<sieve::bsr_matrix<float, 4, 4>>(
            layer.weights.view(), stats, {method, sieve::prune_target::blocks(4, 4, 0.5), {}});
        auto inputs = sieve::prune_and_pack<sieve::channel_pruned_matrix<>>(
            layer.weights.view(), stats, {method, sieve::prune_target::input_channels(0.5), {}});
        auto outputs = sieve::prune_and_pack<sieve::channel_pruned_matrix<>>(
            layer.weights.view(), stats, {method, sieve::prune_target::output_neurons(0.25), {}});
        REQUIRE((dense.ok() && csr.ok() && nm.ok() && bsr.ok() && inputs.ok() && outputs.ok()));
        require_unpacks_to(*dense, expect(half));
        require_unpacks_to(*csr, expect(half));
        require_unpacks_to(*nm, expect(sieve::prune_target::nm(2, 4)));
        require_unpacks_to(*bsr, expect(sieve::prune_target::blocks(4, 4, 0.5)));
        require_unpacks_to(*inputs, expect(sieve::prune_target::input_channels(0.5)));
        require_unpacks_to(*outputs, expect(sieve::prune_target::output_neurons(0.25)));
        CHECK(csr->nnz() == m * k / 2);
        CHECK(nm->density() == 0.5);
        CHECK(bsr->nnz() == m * k / 2);
        CHECK((inputs->inner().rows() == m && inputs->inner().cols() == k / 2));
        CHECK((outputs->inner().rows() == m - 5 && outputs->inner().cols() == k));
    }

    require_error(
        sieve::prune_and_pack<sieve::nm_matrix<>>(layer.weights.view(), stats, {}).error(),
        sieve::errc::bad_argument, {"nm_matrix", "N:M", "50% unstructured"});
    require_error(sieve::prune_and_pack<sieve::bsr_matrix<float, 4, 4>>(
                      layer.weights.view(), stats,
                      {sieve::prune_method::wanda, sieve::prune_target::blocks(1, 16, 0.5), {}})
                      .error(),
                  sieve::errc::bad_argument, {"4x4", "1x16"});
    require_error(sieve::prune_and_pack<sieve::channel_pruned_matrix<>>(
                      layer.weights.view(), stats, {sieve::prune_method::wanda, half, {}})
                      .error(),
                  sieve::errc::bad_argument, {"input-channel"});
    auto magnitude_only = sieve::prune_and_pack<sieve::csr_matrix<>>(
        layer.weights.view(), nullptr, {sieve::prune_method::magnitude, half, {}});
    CHECK(magnitude_only.ok());
}

TEST_CASE("prune_and_pack into int8 formats quantizes the pruned weights", "[prune][pack][int8]") {
    const std::uint32_t seed = 609;
    CAPTURE(seed);
    rng r(seed);
    const std::size_t m = 12, k = 80;
    const synthetic_layer layer = make_layer(r, m, k, 160, 1);
    const sieve::calibration stats = make_stats(layer.calibration);

    // The int8 matrix unpacks to the fp32 one within half a quantization step, zeros stay.
    auto require_close = [&](const test_matrix& fp32, const test_matrix& int8,
                             const sieve::quant_report& q) {
        float amax = 0.0f;
        for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = 0; j < k; ++j) amax = std::max(amax, std::fabs(fp32(i, j)));
        for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = 0; j < k; ++j) {
                if (fp32(i, j) == 0.0f) REQUIRE(int8(i, j) == 0.0f);
                REQUIRE(std::fabs(fp32(i, j) - int8(i, j)) <= amax / 254.0f * 1.001f);
            }
        CHECK(q.values > 0);
        CHECK(q.relative_error > 0.0);
        CHECK(q.relative_error < 0.02);
    };
    auto check = [&](auto fp32_tag, auto int8_tag, const sieve::prune_config& config) {
        using fp32_format = typename decltype(fp32_tag)::type;
        using int8_format = typename decltype(int8_tag)::type;
        INFO(sieve::to_string(config.method) << " at " << sieve::describe(config.target).c_str()
                                             << ", group " << config.quant.group);
        sieve::quant_report q;
        auto a = sieve::prune_and_pack<fp32_format>(layer.weights.view(), stats, config);
        auto b =
            sieve::prune_and_pack<int8_format>(layer.weights.view(), stats, config, nullptr, &q);
        INFO(b.message());
        REQUIRE((a.ok() && b.ok()));
        require_close(unpack_to_test(*a), unpack_to_test(*b), q);
    };
    struct tag_dense {
        using type = sieve::dense_matrix<>;
    };
    struct tag_dense8 {
        using type = sieve::dense_matrix<std::int8_t>;
    };
    struct tag_csr {
        using type = sieve::csr_matrix<>;
    };
    struct tag_csr8 {
        using type = sieve::csr_matrix<std::int8_t>;
    };
    struct tag_nm {
        using type = sieve::nm_matrix<>;
    };
    struct tag_nm8 {
        using type = sieve::nm_matrix<std::int8_t>;
    };
    struct tag_bsr {
        using type = sieve::bsr_matrix<float, 4, 4>;
    };
    struct tag_bsr8 {
        using type = sieve::bsr_matrix<std::int8_t, 4, 4>;
    };
    struct tag_ch {
        using type = sieve::channel_pruned_matrix<>;
    };
    struct tag_ch8 {
        using type = sieve::channel_pruned_matrix<std::int8_t>;
    };
    for (auto method : all_methods) {
        const auto row = sieve::quant_config::per_row(), g32 = sieve::quant_config::per_group(32);
        check(tag_dense{}, tag_dense8{}, {method, sieve::prune_target::unstructured(0.5), {}, row});
        check(tag_csr{}, tag_csr8{}, {method, sieve::prune_target::unstructured(0.5), {}, g32});
        check(tag_nm{}, tag_nm8{}, {method, sieve::prune_target::nm(2, 4), {}, g32});
        check(tag_nm{}, tag_nm8{}, {method, sieve::prune_target::nm(4, 8), {}, row});
        check(tag_bsr{}, tag_bsr8{}, {method, sieve::prune_target::blocks(4, 4, 0.5), {}, g32});
        check(tag_ch{}, tag_ch8{}, {method, sieve::prune_target::input_channels(0.5), {}, g32});
    }

    // A bad scale group is refused before any pruning work, naming the group.
    require_error(
        sieve::prune_and_pack<sieve::nm_matrix<std::int8_t>>(layer.weights.view(), stats,
                                                             {sieve::prune_method::sparsegpt,
                                                              sieve::prune_target::nm(2, 4),
                                                              {},
                                                              sieve::quant_config{48}})
            .error(),
        sieve::errc::bad_argument, {"48"});
}
