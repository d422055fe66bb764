// CPU reference for kernels/embedding.h: a row gather forward, and a bucketed scatter-add
// backward (counting sort of positions by id; per id, sum in position order). The sort costs
// O(B*T + V) time and memory, never O(B*T*V), and fixes the summation order, which is what
// makes the result deterministic. Both run on the CPU pool (engine/core/parallel.h): the
// forward in ranges of positions, the backward in ranges of ids cut at equal position counts;
// each id's row is summed by one part in position order, so every thread count gives the same
// bits.
#include "kernels/embedding.h"

#include <algorithm>
#include <cstddef>
#include <vector>

#include "engine/core/check.h"
#include "engine/core/parallel.h"

namespace ember::ref {

void embedding_check_ids(const int32_t* ids, int64_t batch, int64_t steps, int64_t vocab) {
  for (int64_t i = 0; i < batch * steps; ++i) {
    EMBER_CHECK_ARG(ids[i] >= 0 && ids[i] < vocab,
                    "embedding: token id " << ids[i] << " at position (b=" << i / steps
                                           << ", t=" << i % steps << ") of ids [" << batch << ", "
                                           << steps << "] is outside [0, " << vocab
                                           << ") (input_dim " << vocab << ")");
  }
}

void nonzero_mask(const int32_t* ids, uint8_t* mask, int64_t n) {
  for (int64_t i = 0; i < n; ++i) mask[i] = ids[i] != 0 ? 1 : 0;
}

template <class T>
void embedding_forward(const T* weight, const int32_t* ids, T* out, int64_t batch, int64_t steps,
                       int64_t vocab, int64_t dim) {
  embedding_check_ids(ids, batch, steps, vocab);
  par::parallel_ranges(batch * steps, par::kGrain / dim, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const T* row = weight + static_cast<int64_t>(ids[i]) * dim;
      T* dst = out + i * dim;
      for (int64_t e = 0; e < dim; ++e) dst[e] = row[e];
    }
  });
}

template <class T>
void embedding_backward(const T* d_out, const int32_t* ids, T* d_weight, int64_t batch,
                        int64_t steps, int64_t vocab, int64_t dim) {
  embedding_check_ids(ids, batch, steps, vocab);
  const int64_t n = batch * steps;
  // Counting sort: start[v] .. start[v+1] indexes the positions holding id v, ascending.
  std::vector<int64_t> start(static_cast<size_t>(vocab) + 1, 0);
  for (int64_t i = 0; i < n; ++i) ++start[ids[i] + 1];
  for (int64_t v = 0; v < vocab; ++v) start[v + 1] += start[v];
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::vector<int64_t> fill(start.begin(), start.end() - 1);
  for (int64_t i = 0; i < n; ++i) order[fill[ids[i]]++] = i;  // stable: i ascending per id

  // One pass per occurring id: sum its positions in double, then add to the row once. Part p
  // takes the ids whose positions begin in [p*n/parts, (p+1)*n/parts): disjoint rows.
  const int64_t parts = par::parts_for(n * dim, par::kGrain);
  par::parallel_for(parts, [&](int64_t p) {
    const par::Range r = par::split(n, parts, p);
    const int64_t v0 = std::lower_bound(start.begin(), start.end() - 1, r.begin) - start.begin();
    const int64_t v1 = std::lower_bound(start.begin(), start.end() - 1, r.end) - start.begin();
    std::vector<double> acc(static_cast<size_t>(dim));
    for (int64_t v = v0; v < v1; ++v) {
      if (start[v] == start[v + 1]) continue;
      for (double& a : acc) a = 0.0;
      for (int64_t j = start[v]; j < start[v + 1]; ++j) {
        const T* g = d_out + order[j] * dim;
        for (int64_t e = 0; e < dim; ++e) acc[e] += static_cast<double>(g[e]);
      }
      T* row = d_weight + v * dim;
      for (int64_t e = 0; e < dim; ++e) row[e] += static_cast<T>(acc[e]);
    }
  });
}

template void embedding_forward<float>(const float*, const int32_t*, float*, int64_t, int64_t,
                                       int64_t, int64_t);
template void embedding_forward<double>(const double*, const int32_t*, double*, int64_t, int64_t,
                                        int64_t, int64_t);
template void embedding_backward<float>(const float*, const int32_t*, float*, int64_t, int64_t,
                                        int64_t, int64_t);
template void embedding_backward<double>(const double*, const int32_t*, double*, int64_t, int64_t,
                                         int64_t, int64_t);

}  // namespace ember::ref
