#pragma once
// Private: the loop nest under every elementwise kernel. It walks N operands over one shape,
// merges dims that are contiguous in every operand and hands the innermost run to a callback,
// so a contiguous case is one call with a long run and a broadcast row is many short runs
// with a zero stride.
#include <array>
#include <cstdint>

#include "xgrad/tensor/array.hpp"

namespace xgrad::detail {

// Strides (in elements) that read `a` as if it had shape `out` (NumPy broadcasting: 0 on
// broadcast dims). `out` must be a broadcast of a.shape().
inline Strides broadcast_strides(const Array& a, const Shape& out) {
  Strides s(out.size(), 0);
  const size_t lead = out.size() - a.shape().size();
  for (size_t i = 0; i < a.shape().size(); ++i)
    s[lead + i] = a.shape()[i] == 1 && out[lead + i] != 1 ? 0 : a.strides()[i];
  return s;
}

template <size_t N> struct Run {
  std::array<char*, N> ptr;       // first element of the run, per operand
  std::array<int64_t, N> stride;  // byte stride along the run, per operand
  int64_t n;                      // elements in the run
};

// Calls `body(Run<N>)` for every innermost run of `shape`. strides are in elements, `itemsize`
// per operand.
template <size_t N, typename Body>
void for_each_run(const Shape& shape, const std::array<Strides, N>& strides, std::array<char*, N> base,
                  const std::array<int64_t, N>& item, Body&& body) {
  // Collapse: drop size-1 dims, merge dim i into i+1 when every operand is contiguous across them.
  int64_t dims[16 + 1];
  int64_t st[N][16 + 1];
  int nd = 0;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 1) continue;
    if (shape[i] == 0) return;
    bool merge = nd > 0;
    for (size_t k = 0; k < N && merge; ++k) merge = st[k][nd - 1] == strides[k][i] * shape[i];
    if (merge) {
      dims[nd - 1] *= shape[i];
      for (size_t k = 0; k < N; ++k) st[k][nd - 1] = strides[k][i];
    } else {
      if (nd == 16) {  // deeper than the fixed nest: fall back to copying the outer dims one by one
        nd = -1;
        break;
      }
      dims[nd] = shape[i];
      for (size_t k = 0; k < N; ++k) st[k][nd] = strides[k][i];
      ++nd;
    }
  }
  if (nd < 0) {
    // More than 16 non-mergeable dims: peel the first dim recursively.
    Shape inner(shape.begin() + 1, shape.end());
    std::array<Strides, N> inner_strides;
    for (size_t k = 0; k < N; ++k) inner_strides[k] = Strides(strides[k].begin() + 1, strides[k].end());
    for (int64_t i = 0; i < shape[0]; ++i) {
      std::array<char*, N> p;
      for (size_t k = 0; k < N; ++k) p[k] = base[k] + i * strides[k][0] * item[k];
      for_each_run<N>(inner, inner_strides, p, item, body);
    }
    return;
  }
  Run<N> run;
  if (nd == 0) {  // a single element
    run.ptr = base;
    for (size_t k = 0; k < N; ++k) run.stride[k] = item[k];
    run.n = 1;
    body(run);
    return;
  }
  for (size_t k = 0; k < N; ++k) run.stride[k] = st[k][nd - 1] * item[k];
  run.n = dims[nd - 1];
  int64_t counter[16] = {};
  std::array<char*, N> p = base;
  const int outer = nd - 1;
  while (true) {
    run.ptr = p;
    body(run);
    int d = outer - 1;
    for (; d >= 0; --d) {
      if (++counter[d] < dims[d]) {
        for (size_t k = 0; k < N; ++k) p[k] += st[k][d] * item[k];
        break;
      }
      for (size_t k = 0; k < N; ++k) p[k] -= st[k][d] * item[k] * (dims[d] - 1);
      counter[d] = 0;
    }
    if (d < 0) return;
  }
}

}  // namespace xgrad::detail
