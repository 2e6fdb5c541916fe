// Threads: every entry point run through executors (serial, the std::thread pool at 1 to 8
// tasks, tasks in reverse order, tasks interleaved across two threads in chunks, OpenMP when
// compiled with it) gives results bitwise identical to the serial call, for every format and
// dtype on every ISA; calls from many threads at once on shared weights stay correct; the
// partitioning covers every row once, balances CSR rows by nonzeros, and keeps small
// problems on one task; a caller's workspace is sliced per task.
//
// Grains are lowered (executor::min_task_bytes / min_task_macs) so that small shapes split
// into as many tasks as the executor allows: the checks stay quick, under qemu too.
#include <atomic>
#include <chrono>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <sieve/parallel/openmp.hpp>
#include <sieve/parallel/thread_pool.hpp>
#include <sieve/sieve.hpp>
#include <string>
#include <thread>
#include <vector>

#include "support/formats.hpp"
#include "support/isa.hpp"
#include "support/ops_check.hpp"
#include "support/random.hpp"

using namespace sieve_test;

namespace {

// One pool for the whole file: 8 threads working on a call, the caller included.
sieve::thread_pool& pool() {
    static sieve::thread_pool p(8);
    return p;
}

// Runs tasks one at a time on the calling thread, last task first.
sieve::executor reverse_executor(std::size_t concurrency) {
    sieve::executor e;
    e.concurrency = concurrency;
    e.run = [](void*, std::size_t tasks, sieve::task_fn fn, void* arg) {
        for (std::size_t t = tasks; t-- > 0;) fn(arg, t, t + 1);
    };
    return e;
}

// Two threads at once: one runs the odd tasks from the top down, the other the even ones
// from the bottom up in ranges of two tasks where they are adjacent ([0, 1), [2, 3) ... are
// each handed as their own range, odd tasks as ranges too), so ranges and order both vary.
sieve::executor interleaved_executor(std::size_t concurrency) {
    sieve::executor e;
    e.concurrency = concurrency;
    e.run = [](void*, std::size_t tasks, sieve::task_fn fn, void* arg) {
        std::thread odd([=] {
            for (std::size_t t = tasks; t-- > 0;)
                if (t % 2 == 1) fn(arg, t, t + 1);
        });
        for (std::size_t t = 0; t < tasks; t += 2) fn(arg, t, t + 1);
        odd.join();
    };
    return e;
}

// Hands the whole range over in chunks of three tasks.
sieve::executor chunked_executor(std::size_t concurrency) {
    sieve::executor e;
    e.concurrency = concurrency;
    e.run = [](void*, std::size_t tasks, sieve::task_fn fn, void* arg) {
        for (std::size_t t = 0; t < tasks; t += 3) fn(arg, t, t + 3 < tasks ? t + 3 : tasks);
    };
    return e;
}

sieve::executor fine_grained(sieve::executor e) {
    e.min_task_bytes = 1;
    e.min_task_macs = 1;
    return e;
}

struct named_executor {
    std::string name;
    sieve::executor exec;
};

std::vector<named_executor> executors_under_test() {
    std::vector<named_executor> out;
    out.push_back({"serial", fine_grained(sieve::serial_executor())});
    for (std::size_t n = 1; n <= 8; ++n)
        out.push_back({"thread_pool x" + std::to_string(n), fine_grained(pool().as_executor(n))});
    out.push_back({"reverse x5", fine_grained(reverse_executor(5))});
    out.push_back({"interleaved x7", fine_grained(interleaved_executor(7))});
    out.push_back({"chunked x8", fine_grained(chunked_executor(8))});
#ifdef _OPENMP
    out.push_back({"openmp x4", fine_grained(sieve::openmp_executor(4))});
#endif
    return out;
}

void require_ok(const sieve::status& s) {
    INFO(s.message());
    REQUIRE(s.ok());
}

// Y from `call(y_view, exec)` for every executor, each bitwise equal to the serial call
// without an executor (`call(y_view, nullptr)`). Y starts from `before` (beta reads it).
template <class Call>
void require_same_for_every_executor(const test_matrix& before, Call&& call) {
    test_matrix expected = copy_with_layout(before, {});
    require_ok(call(expected.mutable_view(), nullptr));
    for (const auto& e : executors_under_test()) {
        INFO("executor " << e.name);
        test_matrix y = copy_with_layout(before, strided(3));
        require_ok(call(y.mutable_view(), &e.exec));
        CHECK(y.layout_intact());
        CHECK(bitwise_equal(y, expected));
    }
}

sieve::span<float> as_span(sieve::matrix_view<float> v) { return {v.data, v.cols}; }

// M, K and N off every unit: 16-row units, BSR block rows, 32-token tiles, vector widths.
constexpr std::size_t test_m = 77, test_k = 70, test_n = 70;

// Skewed weights: a few dense rows, many empty or sparse ones, so CSR and BSR cuts by
// nonzeros differ from cuts by rows.
template <class F>
packed_weights<F> skewed_weights(rng& r) {
    test_matrix source = random_matrix(r, test_m, test_k, {0.3, -2.0f, 2.0f, 0.3});
    for (std::size_t row = 0; row < test_m; row += 11)
        for (std::size_t c = 0; c < test_k; ++c) source(row, c) = r.nonzero(-2.0f, 2.0f);
    return pack_weights<F>(source, false);
}

struct operands {
    test_matrix x, xs, xs_few, before_v, before_m, before_few;
    std::vector<float> bias;
    sieve::epilogue ep;
};

operands make_operands(rng& r) {
    operands o;
    o.x = random_vector(r, test_k, {1.0, -3.0f, 3.0f});
    o.xs = random_matrix(r, test_n, test_k, {1.0, -3.0f, 3.0f}, strided(2));
    o.xs_few = random_matrix(r, 5, test_k, {1.0, -3.0f, 3.0f});  // one token tile: rows split only
    o.bias = random_bias(r, test_m);
    o.ep.bias = o.bias;
    o.ep.alpha = 0.75f;
    o.ep.beta = 0.5f;
    o.ep.act = sieve::activation::silu;
    o.before_v = prior_output(r, 1, test_m, o.ep);
    o.before_m = prior_output(r, test_n, test_m, o.ep);
    o.before_few = prior_output(r, 5, test_m, o.ep);
    return o;
}

template <class F>
void check_fp32_activations(const packed_weights<F>& w, const operands& o) {
    SECTION("gemv") {
        require_same_for_every_executor(
            o.before_v, [&](sieve::matrix_view<float> y, const sieve::executor* e) {
                return e ? sieve::gemv(w.matrix, o.x.span(), as_span(y), o.ep, *e)
                         : sieve::gemv(w.matrix, o.x.span(), as_span(y), o.ep);
            });
    }
    SECTION("gemm") {
        require_same_for_every_executor(
            o.before_m, [&](sieve::matrix_view<float> y, const sieve::executor* e) {
                return e ? sieve::gemm(w.matrix.view(), o.xs.view(), y, o.ep, *e)
                         : sieve::gemm(w.matrix.view(), o.xs.view(), y, o.ep);
            });
    }
    SECTION("gemm, few tokens") {
        require_same_for_every_executor(
            o.before_few, [&](sieve::matrix_view<float> y, const sieve::executor* e) {
                return e ? sieve::gemm(w.matrix, o.xs_few.view(), y, o.ep, *e)
                         : sieve::gemm(w.matrix, o.xs_few.view(), y, o.ep);
            });
    }
}

}  // namespace

TEMPLATE_TEST_CASE(
    "gemv and gemm give bitwise identical results for every executor and thread count",
    "[parallel]", SIEVE_TEST_FORMATS) {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 2024;
    CAPTURE(seed);
    rng r(seed);
    const auto w = skewed_weights<TestType>(r);
    const operands o = make_operands(r);
    check_fp32_activations(w, o);
}

TEMPLATE_TEST_CASE(
    "int8 gemv, gemm and w8a8 give bitwise identical results for every executor and thread count",
    "[parallel][int8]", SIEVE_TEST_INT8_FORMATS) {
    SIEVE_ON_EACH_ISA();
    const std::uint32_t seed = 2025;
    CAPTURE(seed);
    rng r(seed);
    const auto w = skewed_weights<TestType>(r);
    const operands o = make_operands(r);
    check_fp32_activations(w, o);
    SECTION("gemv_w8a8") {
        require_same_for_every_executor(
            o.before_v, [&](sieve::matrix_view<float> y, const sieve::executor* e) {
                return e ? sieve::gemv_w8a8(w.matrix, o.x.span(), as_span(y), o.ep, *e)
                         : sieve::gemv_w8a8(w.matrix, o.x.span(), as_span(y), o.ep);
            });
    }
    SECTION("gemm_w8a8") {
        require_same_for_every_executor(
            o.before_m, [&](sieve::matrix_view<float> y, const sieve::executor* e) {
                return e ? sieve::gemm_w8a8(w.matrix, o.xs.view(), y, o.ep, *e)
                         : sieve::gemm_w8a8(w.matrix, o.xs.view(), y, o.ep);
            });
    }
    SECTION("gemm_w8a8, few tokens") {
        require_same_for_every_executor(
            o.before_few, [&](sieve::matrix_view<float> y, const sieve::executor* e) {
                return e ? sieve::gemm_w8a8(w.matrix.view(), o.xs_few.view(), y, o.ep, *e)
                         : sieve::gemm_w8a8(w.matrix.view(), o.xs_few.view(), y, o.ep);
            });
    }
}

TEST_CASE("a caller's workspace is sliced into one part per task", "[parallel][workspace]") {
    SIEVE_ON_EACH_ISA();
    rng r(77);
    const auto w = skewed_weights<int8<csr, 0>>(r);
    const operands o = make_operands(r);
    const sieve::executor exec = fine_grained(pool().as_executor(4));
    test_matrix expected = copy_with_layout(o.before_m, {});
    require_ok(sieve::gemm_w8a8(w.matrix, o.xs.view(), expected.mutable_view(), o.ep));

    const std::size_t need = sieve::gemm_workspace_size(test_k, exec);
    CHECK(need == 4 * sieve::gemm_workspace_size(test_k));
    test_matrix workspace(1, need);  // 64-byte aligned
    test_matrix y = copy_with_layout(o.before_m, {});
    require_ok(sieve::gemm_w8a8(w.matrix, o.xs.view(), y.mutable_view(), o.ep, exec,
                                workspace.mutable_span()));
    CHECK(bitwise_equal(y, expected));
    CHECK(workspace.layout_intact());

    SECTION("one task's worth is refused before anything is written") {
        test_matrix small(1, sieve::gemm_workspace_size(test_k));
        test_matrix untouched = copy_with_layout(o.before_m, {});
        const sieve::status s = sieve::gemm_w8a8(w.matrix, o.xs.view(), untouched.mutable_view(),
                                                 o.ep, exec, small.mutable_span());
        require_error(s, sieve::errc::shape_mismatch, {"workspace"});
        CHECK(bitwise_equal(untouched, o.before_m));
    }
    SECTION("gemv_w8a8 too") {
        test_matrix v_workspace(1, sieve::gemv_workspace_size(test_k, exec));
        test_matrix v_expected = copy_with_layout(o.before_v, {});
        require_ok(sieve::gemv_w8a8(w.matrix, o.x.span(), v_expected.mutable_span(), o.ep));
        test_matrix v = copy_with_layout(o.before_v, {});
        require_ok(sieve::gemv_w8a8(w.matrix, o.x.span(), v.mutable_span(), o.ep, exec,
                                    v_workspace.mutable_span()));
        CHECK(bitwise_equal(v, v_expected));
    }
}

TEST_CASE("many threads calling at once on shared weights and one pool get the serial results",
          "[parallel][stress]") {
    SIEVE_ON_EACH_ISA();
    rng r(4242);
    const auto csr_w = skewed_weights<csr>(r);
    const auto nm_w = skewed_weights<int8<nm_2_4, 32>>(r);
    constexpr std::size_t callers = 8, rounds = 12;
    std::vector<test_matrix> xs, expected_v, expected_m;
    for (std::size_t i = 0; i < callers; ++i) {
        xs.push_back(random_matrix(r, test_n, test_k, {1.0, -3.0f, 3.0f}));
        expected_v.emplace_back(1, test_m);
        expected_m.emplace_back(test_n, test_m);
        require_ok(sieve::gemv(csr_w.matrix, {&xs[i](i, 0), test_k}, expected_v[i].mutable_span()));
        require_ok(sieve::gemm_w8a8(nm_w.matrix, xs[i].view(), expected_m[i].mutable_view()));
    }
    // The pool's executor, a second caller-side executor and serial calls, all at once.
    const sieve::executor shared = fine_grained(pool().as_executor());
    std::atomic<int> mismatches{0}, failures{0};
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < callers; ++i)
        threads.emplace_back([&, i] {
            const sieve::executor exec = i % 4 == 3 ? sieve::serial_executor() : shared;
            test_matrix y(1, test_m), ym(test_n, test_m);
            for (std::size_t round = 0; round < rounds; ++round) {
                if (!sieve::gemv(csr_w.matrix, {&xs[i](i, 0), test_k}, y.mutable_span(), {}, exec)
                         .ok())
                    ++failures;
                if (!sieve::gemm_w8a8(nm_w.matrix, xs[i].view(), ym.mutable_view(), {}, exec).ok())
                    ++failures;
                if (!bitwise_equal(y, expected_v[i]) || !bitwise_equal(ym, expected_m[i]))
                    ++mismatches;
            }
        });
    for (auto& t : threads) t.join();
    CHECK(failures == 0);
    CHECK(mismatches == 0);
}

TEST_CASE("a thread pool runs every task once, from many callers and from inside its own tasks, polling or not",
          "[parallel][thread_pool]") {
    // Workers that sleep at once, and workers that poll before sleeping (the default).
    for (const auto spin : {std::chrono::microseconds{0}, sieve::thread_pool::default_spin}) {
        CAPTURE(spin.count());
        sieve::thread_pool local(4, spin);
        CHECK(local.concurrency() == 4);
        std::vector<std::atomic<int>> hits(1000);
        struct ctx {
            std::vector<std::atomic<int>>* hits;
            sieve::thread_pool* pool;
        } c{&hits, &local};
        auto run = [](void* arg, std::size_t begin, std::size_t end) {
            auto* self = static_cast<ctx*>(arg);
            for (std::size_t i = begin; i < end; ++i) {
                ++(*self->hits)[i];
                if (i % 100 == 0) {  // nested: a task that calls the pool it runs on
                    std::atomic<int> inner{0};
                    self->pool->parallel_for(
                        7,
                        [](void* a, std::size_t b, std::size_t e) {
                            *static_cast<std::atomic<int>*>(a) += int(e - b);
                        },
                        &inner);
                    if (inner != 7) ++(*self->hits)[i];  // flags the error as a double hit
                }
            }
        };
        std::vector<std::thread> callers;
        for (int i = 0; i < 4; ++i)
            callers.emplace_back([&] { local.parallel_for(hits.size(), run, &c); });
        for (auto& t : callers) t.join();
        std::size_t wrong = 0;
        for (auto& h : hits) wrong += h != 4;
        CHECK(wrong == 0);
        // Tasks and pauses longer than the poll: the caller and the idle workers give up
        // polling and sleep, and the condition variables wake them.
        std::atomic<int> slow{0};
        for (int call = 0; call < 3; ++call) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            local.parallel_for(
                4,
                [](void* a, std::size_t b, std::size_t e) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                    *static_cast<std::atomic<int>*>(a) += int(e - b);
                },
                &slow);
            CHECK(slow == 4 * (call + 1));
        }
    }
    sieve::thread_pool single(1);
    CHECK(single.concurrency() == 1);
    std::atomic<int> count{0};
    single.parallel_for(
        5,
        [](void* a, std::size_t b, std::size_t e) {
            *static_cast<std::atomic<int>*>(a) += int(e - b);
        },
        &count);
    CHECK(count == 5);
}

TEST_CASE("row cuts cover every row once, follow nonzeros for CSR and bitmap and block rows for BSR",
          "[parallel][partition]") {
    rng r(99);
    const auto csr_w = skewed_weights<csr>(r);
    const auto bitmap_w = skewed_weights<bitmap>(r);
    const auto bsr_w = skewed_weights<bsr_4x4>(r);
    const auto dense_w = skewed_weights<dense>(r);
    auto check_cover = [](const auto& view, std::size_t parts) {
        std::size_t next = 0;
        for (std::size_t p = 0; p < parts; ++p) {
            const auto range = sieve::detail::part_rows(view, p, parts);
            CHECK(range.m0 == next);
            CHECK(range.m1 >= range.m0);
            if (range.m1 != view.rows) CHECK(range.m1 % sieve::detail::unit_rows(view) == 0);
            next = range.m1;
        }
        CHECK(next == view.rows);
    };
    for (std::size_t parts = 1; parts <= 9; ++parts) {
        CAPTURE(parts);
        check_cover(csr_w.matrix.view(), parts);
        check_cover(bitmap_w.matrix.view(), parts);
        check_cover(bsr_w.matrix.view(), parts);
        check_cover(dense_w.matrix.view(), parts);
    }
    // CSR: each part holds about nnz / parts (+ rows / parts), within one row of it.
    const auto v = csr_w.matrix.view();
    const std::size_t parts = 4, total = v.nnz() + v.rows;
    std::size_t widest_row = 0;
    for (std::size_t m = 0; m < v.rows; ++m)
        widest_row = std::max<std::size_t>(widest_row, v.row_ptr[m + 1] - v.row_ptr[m] + 1);
    for (std::size_t p = 0; p < parts; ++p) {
        const auto range = sieve::detail::part_rows(v, p, parts);
        const std::size_t cost = v.row_ptr[range.m1] - v.row_ptr[range.m0] + (range.m1 - range.m0);
        CAPTURE(p, range.m0, range.m1, cost, total);
        CHECK(cost + widest_row >= total / parts);
        CHECK(cost <= total / parts + widest_row);
    }
    // Bitmap: the same, each row also costing its mask (two values per 64-bit word).
    const auto b = bitmap_w.matrix.view();
    const std::size_t row_cost = 2 * b.words + 1, b_total = b.nnz() + b.rows * row_cost;
    std::size_t widest = 0;
    for (std::size_t m = 0; m < b.rows; ++m)
        widest = std::max<std::size_t>(widest, b.row_ptr[m + 1] - b.row_ptr[m] + row_cost);
    for (std::size_t p = 0; p < parts; ++p) {
        const auto range = sieve::detail::part_rows(b, p, parts);
        const std::size_t cost = b.row_ptr[range.m1] - b.row_ptr[range.m0] + (range.m1 - range.m0) * row_cost;
        CAPTURE(p, range.m0, range.m1, cost, b_total);
        CHECK(cost + widest >= b_total / parts);
        CHECK(cost <= b_total / parts + widest);
    }
}

TEST_CASE("small problems stay on one task, large ones use every thread", "[parallel][partition]") {
    const sieve::executor exec = pool().as_executor(8);
    rng r(5);
    const auto small = skewed_weights<nm_2_4>(r);
    CHECK(sieve::detail::gemv_tasks(small.matrix.view(), exec) == 1);
    CHECK(sieve::detail::plan_gemm(small.matrix.view(), 4, exec).tasks() == 1);
    CHECK(sieve::detail::gemv_tasks(small.matrix.view(), sieve::serial_executor()) == 1);

    // A large CSR view (only row_ptr is read to plan): 4096 rows of 1000 nonzeros.
    std::vector<std::uint32_t> row_ptr(4097);
    for (std::size_t i = 0; i < row_ptr.size(); ++i)
        row_ptr[i] = static_cast<std::uint32_t>(i * 1000);
    sieve::csr_view<float> big;
    big.rows = 4096;
    big.cols = 4096;
    big.row_ptr = row_ptr.data();
    CHECK(sieve::detail::gemv_tasks(big, exec) == 8);
    CHECK(sieve::detail::gemv_tasks(big, pool().as_executor(3)) == 3);
    const auto decode = sieve::detail::plan_gemm(big, 1, exec);  // one token tile: rows only
    CHECK(decode.token_parts == 1);
    CHECK(decode.row_parts == 8);
    const auto prefill = sieve::detail::plan_gemm(big, 512, exec);  // tokens first
    CHECK(prefill.token_parts == 8);
    CHECK(prefill.row_parts == 1);
    const auto tokens = prefill.tokens(7, 500);
    CHECK(tokens.m1 == 500);
    CHECK(tokens.m0 % sieve::gemm_token_tile == 0);
}
