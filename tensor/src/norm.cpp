// Normalisation kernels. The statistics take one pass with shifted sums: around a shift K (the
// group's first element), mean = K + S1 / n and var = (S2 - S1^2 / n) / n with S1 = sum(x - K),
// S2 = sum((x - K)^2), accumulated in double. The shift keeps the cancellation in S2 - S1^2 / n
// small when the mean is far from zero, which a plain sum of squares would not.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "xgrad/tensor/kernels.hpp"
#include "xgrad/tensor/norm_kernels.hpp"

namespace xgrad::kernels {
namespace {

void require_defined(std::string_view op, const Array& x) {
  if (!x.defined()) throw ValueError(std::string(op) + ": input is undefined");
}

// Writes mean, var and rstd of group g from its shifted sums over n elements.
template <typename T> void finish(Moments& m, int64_t g, double n, double shift, double s1, double s2, double eps) {
  double mean = std::numeric_limits<double>::quiet_NaN();
  double var = mean;
  if (n > 0) {
    mean = shift + s1 / n;
    var = std::max(0.0, (s2 - s1 * s1 / n) / n);
  }
  m.mean.data<T>()[g] = static_cast<T>(mean);
  m.var.data<T>()[g] = static_cast<T>(var);
  m.rstd.data<T>()[g] = static_cast<T>(1.0 / std::sqrt(var + eps));
}

Moments make_moments(int64_t groups, DType dtype) {
  return {Array({groups}, dtype), Array({groups}, dtype), Array({groups}, dtype)};
}

// The first element of the run (or 0 for an empty one): the shift of its sums.
template <typename T> double first(const T* p, int64_t n) { return n > 0 ? static_cast<double>(p[0]) : 0.0; }

// Adds sum(run[i] - k) to sa and sum((run[i] - k)^2) to sb over n elements: the shifted sums that
// keep the variance accurate when the mean is far from zero.
template <typename T> void add_shifted_sums(const T* run, int64_t n, double k, double& sa, double& sb) {
  double a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(run[i]) - k;
    a += d;
    b += d * d;
  }
  sa += a;
  sb += b;
}

}  // namespace

Moments channel_moments(const Array& x, double eps) {
  require_defined("channel_moments", x);
  if (x.dim() < 2)
    throw ShapeError("channel_moments: expected an input of at least 2 dims [N, C, ...], got shape " +
                     to_string(x.shape()));
  const Array xc = x.contiguous();
  const int64_t n_batch = x.size(0);
  const int64_t channels = x.size(1);
  int64_t inner = 1;
  for (int64_t d = 2; d < x.dim(); ++d) inner *= x.size(d);
  Moments m = make_moments(channels, x.dtype());
  dispatch_floating("channel_moments", x.dtype(), [&]<typename T>() {
    const T* p = xc.data<T>();
    std::vector<double> shift(static_cast<size_t>(channels)), s1(shift.size(), 0.0), s2(shift.size(), 0.0);
    for (int64_t c = 0; c < channels; ++c) shift[c] = n_batch > 0 ? first(p + c * inner, inner) : 0.0;
    double* k = shift.data();
    double* a = s1.data();
    double* b = s2.data();
    for (int64_t n = 0; n < n_batch; ++n) {
      const T* sample = p + n * channels * inner;
      if (inner == 1) {  // [N, C]: channels are contiguous, so the lanes run across them
#pragma omp simd
        for (int64_t c = 0; c < channels; ++c) {
          const double d = static_cast<double>(sample[c]) - k[c];
          a[c] += d;
          b[c] += d * d;
        }
        continue;
      }
      for (int64_t c = 0; c < channels; ++c) add_shifted_sums(sample + c * inner, inner, k[c], a[c], b[c]);
    }
    const double count = static_cast<double>(n_batch * inner);
    for (int64_t c = 0; c < channels; ++c) finish<T>(m, c, count, k[c], a[c], b[c], eps);
  });
  return m;
}

Moments group_moments(const Array& x, int64_t group_size, double eps) {
  require_defined("group_moments", x);
  if (group_size <= 0 || x.numel() % group_size != 0)
    throw ValueError("group_moments: group size " + std::to_string(group_size) + " does not divide the " +
                     std::to_string(x.numel()) + " elements of shape " + to_string(x.shape()));
  const Array xc = x.contiguous();
  const int64_t groups = x.numel() / group_size;
  Moments m = make_moments(groups, x.dtype());
  dispatch_floating("group_moments", x.dtype(), [&]<typename T>() {
    const T* p = xc.data<T>();
    for (int64_t g = 0; g < groups; ++g) {
      const T* run = p + g * group_size;
      const double k = first(run, group_size);
      double sa = 0, sb = 0;
      add_shifted_sums(run, group_size, k, sa, sb);
      finish<T>(m, g, static_cast<double>(group_size), k, sa, sb, eps);
    }
  });
  return m;
}

namespace {

// The checks normalize and normalize_backward share: the layout fits x, the statistics and the
// affine parameters have the sizes it implies.
void check_layout(std::string_view op, const Array& x, const NormLayout& L, const Array& mean, const Array& rstd,
                  const Array& weight, const Array& bias) {
  require_defined(op, x);
  const int64_t stats = (L.per_outer ? L.outer : 1) * L.groups;
  if (L.outer < 0 || L.channels < 0 || L.inner < 0 || L.groups <= 0 || L.channels % L.groups != 0 ||
      L.outer * L.channels * L.inner != x.numel())
    throw ShapeError(std::string(op) + ": layout [" + std::to_string(L.outer) + ", " + std::to_string(L.channels) +
                     ", " + std::to_string(L.inner) + "] with " + std::to_string(L.groups) +
                     " groups does not fit input shape " + to_string(x.shape()));
  if (!mean.defined() || !rstd.defined() || mean.numel() != stats || rstd.numel() != stats)
    throw ShapeError(std::string(op) + ": expected " + std::to_string(stats) + " statistics for input shape " +
                     to_string(x.shape()));
  for (const Array* a : {&weight, &bias})
    if (a->defined() && a->numel() != L.channels)
      throw ShapeError(std::string(op) + ": affine parameter of shape " + to_string(a->shape()) + " for " +
                       std::to_string(L.channels) + " channels");
}

}  // namespace

Array normalize(const Array& x, const NormLayout& L, const Array& mean, const Array& rstd, const Array& weight,
                const Array& bias) {
  check_layout("normalize", x, L, mean, rstd, weight, bias);
  const Array xc = x.contiguous();
  const Array mc = mean.contiguous(), rc = rstd.contiguous();
  const Array wc = weight.defined() ? weight.contiguous() : Array();
  const Array bc = bias.defined() ? bias.contiguous() : Array();
  Array y(x.shape(), x.dtype());
  dispatch_floating("normalize", x.dtype(), [&]<typename T>() {
    const T* xp = xc.data<T>();
    T* yp = y.data<T>();
    const T* mu = mc.data<T>();
    const T* rs = rc.data<T>();
    const T* w = wc.defined() ? wc.data<T>() : nullptr;
    const T* b = bc.defined() ? bc.data<T>() : nullptr;
    const int64_t row = L.channels * L.inner;
    if (L.per_outer && L.groups == 1 && L.inner == 1) {  // layer norm: one mean and rstd per row
      for (int64_t o = 0; o < L.outer; ++o) {
        const T m = mu[o], r = rs[o];
        const T* xr = xp + o * row;
        T* yr = yp + o * row;
#pragma omp simd
        for (int64_t c = 0; c < L.channels; ++c) {
          T v = (xr[c] - m) * r;
          if (w) v *= w[c];
          if (b) v += b[c];
          yr[c] = v;
        }
      }
      return;
    }
    // Per channel: its mean, scale (rstd * weight) and shift (bias), refreshed per outer index
    // only when the statistics depend on it.
    const int64_t per_group = std::max<int64_t>(1, L.channels / L.groups);
    std::vector<T> cm(static_cast<size_t>(L.channels)), cs(cm.size()), cb(cm.size());
    auto load = [&](int64_t o) {
      for (int64_t g = 0, s = L.per_outer ? o * L.groups : 0; g < L.groups; ++g, ++s)
        for (int64_t c = g * per_group; c < (g + 1) * per_group; ++c) {
          cm[c] = mu[s];
          cs[c] = w ? rs[s] * w[c] : rs[s];
          cb[c] = b ? b[c] : T(0);
        }
    };
    if (!L.per_outer) load(0);
    for (int64_t o = 0; o < L.outer; ++o) {
      if (L.per_outer) load(o);
      const T* xr = xp + o * row;
      T* yr = yp + o * row;
      if (L.inner == 1) {
        const T* pm = cm.data();
        const T* ps = cs.data();
        const T* pb = cb.data();
#pragma omp simd
        for (int64_t c = 0; c < L.channels; ++c) yr[c] = (xr[c] - pm[c]) * ps[c] + pb[c];
        continue;
      }
      for (int64_t c = 0; c < L.channels; ++c) {
        const T m = cm[c], s = cs[c], sh = cb[c];
        const T* xi = xr + c * L.inner;
        T* yi = yr + c * L.inner;
#pragma omp simd
        for (int64_t i = 0; i < L.inner; ++i) yi[i] = (xi[i] - m) * s + sh;
      }
    }
  });
  return y;
}

// Pass 1 sums dy and dy * xhat per (outer index, channel): their totals over the outer index are
// dbias and dweight, and weighted by the weight they give each statistic's sums of g and g * xhat.
// Pass 2 writes dx = k1 dy + k2 (x - mean) + k3 per channel, with k1 = rstd w, k2 = -rstd^2 B,
// k3 = -rstd A, A = sum_s(g) / n, B = sum_s(g xhat) / n. When the statistics are per outer index,
// pass 2 of a row follows its pass 1 while the row is in cache.
NormGrads normalize_backward(const Array& dy, const Array& x, const NormLayout& L, const Array& mean, const Array& rstd,
                             const Array& weight, bool need_dx, bool need_dweight, bool need_dbias) {
  check_layout("normalize_backward", x, L, mean, rstd, weight, {});
  if (!dy.defined() || dy.shape() != x.shape() || dy.dtype() != x.dtype())
    throw ShapeError("normalize_backward: gradient of shape " + (dy.defined() ? to_string(dy.shape()) : "undefined") +
                     " for input of shape " + to_string(x.shape()));
  const Array xc = x.contiguous(), gc = dy.contiguous();
  const Array mc = mean.contiguous(), rc = rstd.contiguous();
  const Array wc = weight.defined() ? weight.contiguous() : Array();
  const int64_t channels = L.channels, inner = L.inner, row = channels * inner;
  const int64_t per_group = std::max<int64_t>(1, channels / L.groups);
  const int64_t stats = (L.per_outer ? L.outer : 1) * L.groups;
  const double n = static_cast<double>(per_group * inner * (L.per_outer ? 1 : L.outer));
  NormGrads out;
  if (need_dx) out.dx = Array(x.shape(), x.dtype());
  dispatch_floating("normalize_backward", x.dtype(), [&]<typename T>() {
    const T* xp = xc.data<T>();
    const T* dp = gc.data<T>();
    const T* mu = mc.data<T>();
    const T* rs = rc.data<T>();
    const T* w = wc.defined() ? wc.data<T>() : nullptr;
    T* dxp = need_dx ? out.dx.data<T>() : nullptr;
    const size_t cs = static_cast<size_t>(channels);
    std::vector<double> total_dy(cs, 0.0), total_dyx(cs, 0.0), row_dy(cs), row_dyx(cs);
    std::vector<double> sum_g(static_cast<size_t>(stats), 0.0), sum_gx(sum_g.size(), 0.0);
    std::vector<T> cm(cs), cr(cs), k1(cs), k2(cs), k3(cs);
    // Loops run group by group (channels [g * per_group, (g + 1) * per_group) share statistic
    // base(o) + g): no division per channel.
    const int64_t groups = L.groups;
    auto base = [&](int64_t o) { return L.per_outer ? o * groups : 0; };
    auto load = [&](int64_t o) {
      for (int64_t g = 0, s = base(o); g < groups; ++g, ++s) {
        std::fill(cm.begin() + g * per_group, cm.begin() + (g + 1) * per_group, mu[s]);
        std::fill(cr.begin() + g * per_group, cr.begin() + (g + 1) * per_group, rs[s]);
      }
    };
    auto sums = [&](int64_t o) {  // pass 1 over row o
      const T* xr = xp + o * row;
      const T* dr = dp + o * row;
      if (inner == 1) {
        const T* pm = cm.data();
        const T* pr = cr.data();
        double* a = row_dy.data();
        double* b = row_dyx.data();
#pragma omp simd
        for (int64_t c = 0; c < channels; ++c) {
          const double d = static_cast<double>(dr[c]);
          a[c] = d;
          b[c] = d * static_cast<double>((xr[c] - pm[c]) * pr[c]);
        }
      } else {
        for (int64_t c = 0; c < channels; ++c) {
          const T m = cm[c], r = cr[c];
          const T* xi = xr + c * inner;
          const T* di = dr + c * inner;
          double a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
          for (int64_t i = 0; i < inner; ++i) {
            const double d = static_cast<double>(di[i]);
            a += d;
            b += d * static_cast<double>((xi[i] - m) * r);
          }
          row_dy[c] = a;
          row_dyx[c] = b;
        }
      }
      for (int64_t g = 0, s = base(o); g < groups; ++g, ++s) {
        double a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
        for (int64_t c = g * per_group; c < (g + 1) * per_group; ++c) {
          total_dy[c] += row_dy[c];
          total_dyx[c] += row_dyx[c];
          const double wv = w ? static_cast<double>(w[c]) : 1.0;
          a += wv * row_dy[c];
          b += wv * row_dyx[c];
        }
        sum_g[s] += a;
        sum_gx[s] += b;
      }
    };
    auto coefficients = [&](int64_t o) {
      for (int64_t g = 0, s = base(o); g < groups; ++g, ++s) {
        const double r = static_cast<double>(rs[s]);
        const T c2 = static_cast<T>(-r * r * sum_gx[s] / n), c3 = static_cast<T>(-r * sum_g[s] / n);
        for (int64_t c = g * per_group; c < (g + 1) * per_group; ++c) {
          k1[c] = static_cast<T>(w ? r * static_cast<double>(w[c]) : r);
          k2[c] = c2;
          k3[c] = c3;
        }
      }
    };
    auto write_dx = [&](int64_t o) {  // pass 2 over row o
      const T* xr = xp + o * row;
      const T* dr = dp + o * row;
      T* out_row = dxp + o * row;
      if (inner == 1) {
        const T *pm = cm.data(), *a = k1.data(), *b = k2.data(), *e = k3.data();
#pragma omp simd
        for (int64_t c = 0; c < channels; ++c) out_row[c] = a[c] * dr[c] + b[c] * (xr[c] - pm[c]) + e[c];
        return;
      }
      for (int64_t c = 0; c < channels; ++c) {
        const T m = cm[c], a = k1[c], b = k2[c], e = k3[c];
        const T* xi = xr + c * inner;
        const T* di = dr + c * inner;
        T* oi = out_row + c * inner;
#pragma omp simd
        for (int64_t i = 0; i < inner; ++i) oi[i] = a * di[i] + b * (xi[i] - m) + e;
      }
    };
    if (L.per_outer) {
      for (int64_t o = 0; o < L.outer; ++o) {
        load(o);
        sums(o);
        if (!need_dx) continue;
        coefficients(o);
        write_dx(o);
      }
    } else {
      load(0);
      for (int64_t o = 0; o < L.outer; ++o) sums(o);
      if (need_dx) {
        coefficients(0);
        for (int64_t o = 0; o < L.outer; ++o) write_dx(o);
      }
    }
    auto to_array = [&](const std::vector<double>& v) {
      Array a({channels}, x.dtype());
      T* p = a.data<T>();
      for (int64_t c = 0; c < channels; ++c) p[c] = static_cast<T>(v[c]);
      return a;
    };
    if (need_dweight) out.dweight = to_array(total_dyx);
    if (need_dbias) out.dbias = to_array(total_dy);
  });
  return out;
}

void running_update_(const Array& running, const Array& stat, double momentum, double scale) {
  require_defined("running_update_", running);
  require_defined("running_update_", stat);
  if (running.numel() != stat.numel())
    throw ShapeError("running_update_: running statistic of shape " + to_string(running.shape()) +
                     " does not match the batch statistic of shape " + to_string(stat.shape()));
  const Array r = running.contiguous();
  const Array s = stat.to(running.dtype()).contiguous();
  Array next(running.shape(), running.dtype());
  dispatch_floating("running_update_", running.dtype(), [&]<typename T>() {
    const T* rp = r.data<T>();
    const T* sp = s.data<T>();
    T* np = next.data<T>();
    for (int64_t i = 0, n = running.numel(); i < n; ++i)
      np[i] =
          static_cast<T>((1.0 - momentum) * static_cast<double>(rp[i]) + momentum * scale * static_cast<double>(sp[i]));
  });
  copy_(running, next);  // bumps the version
}

}  // namespace xgrad::kernels
