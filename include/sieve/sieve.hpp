// sieve: sparse inference kernels for CPUs. The umbrella header: include this one.
//
//   pack once:    auto w = sieve::nm_matrix<>::pack(weights, {2, 4}, sieve::selection::magnitude());
//   run many:     sieve::gemv(*w, x, y);   sieve::gemm(*w, X, Y, {bias, 1, 0, sieve::activation::silu});
//   int8:         auto w8 = sieve::quantize(*w, sieve::quant_config::per_group(64));
//                 sieve::gemv(*w8, x, y);  sieve::gemv_w8a8(*w8, x, y);
//   threads:      sieve::gemv(*w, x, y, ep, executor);   (parallel/executor.hpp; an optional
//                 std::thread pool in <sieve/parallel/thread_pool.hpp>, OpenMP in parallel/openmp.hpp)
//   save / load:  sieve::io::blob_writer out; out.add("up", *w); out.write_file("model.sieve");
//                 auto blob = sieve::io::open_blob(bytes);  auto v = blob->get<sieve::nm_view<float>>("up");
//                 (zero-copy views into memory-mapped or linked bytes; io/blob_format.hpp is the spec)
#pragma once

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/views.hpp"
#include "core/aligned_buffer.hpp"
#include "epilogue.hpp"
#include "formats/selection.hpp"
#include "formats/dense.hpp"
#include "formats/csr.hpp"
#include "formats/nm.hpp"
#include "formats/bsr.hpp"
#include "formats/bitmap.hpp"
#include "formats/structured.hpp"
#include "quant/quantize.hpp"
#include "quant/structured.hpp"
#include "dispatch/isa.hpp"
#include "dispatch/dispatch.hpp"
#include "parallel/executor.hpp"
#include "ops.hpp"
#include "ops_structured.hpp"
#include "prune/prune.hpp"
#include "io/blob_reader.hpp"
#include "io/blob_writer.hpp"
#include "io/blob_file.hpp"
