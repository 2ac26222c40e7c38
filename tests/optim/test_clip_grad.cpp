// Gradient clipping by global norm and by value.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "xgrad/optim/optim.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::optim {
namespace {

using V = std::vector<double>;

Tensor with_grad(const V& grad) {
  Tensor p = Tensor(kernels::full({static_cast<int64_t>(grad.size())}, 0.0, kFloat64), true);
  p.set_grad(tensor(grad, {static_cast<int64_t>(grad.size())}));
  return p;
}

TEST(ClipGradNorm, ScalesAllGradientsToTheMaxNorm) {
  // Gradients [3, 4] and [12]: total 2-norm sqrt(9 + 16 + 144) = 13; scale 6.5 / (13 + 1e-6).
  Tensor a = with_grad({3.0, 4.0}), b = with_grad({12.0});
  const double total = clip_grad_norm_({a, b}, 6.5);
  EXPECT_DOUBLE_EQ(total, 13.0);
  const double c = 6.5 / (13.0 + 1e-6);
  EXPECT_NEAR(a.grad().to_vector<double>()[0], 3.0 * c, 1e-15);
  EXPECT_NEAR(a.grad().to_vector<double>()[1], 4.0 * c, 1e-15);
  EXPECT_NEAR(b.grad().item(), 12.0 * c, 1e-14);
}

TEST(ClipGradNorm, LeavesSmallGradientsAlone) {
  Tensor a = with_grad({0.3, 0.4});
  EXPECT_NEAR(clip_grad_norm_({a}, 1.0), 0.5, 1e-15);
  EXPECT_EQ(a.grad().to_vector<double>(), (V{0.3, 0.4}));
}

TEST(ClipGradNorm, OtherNormsAndMissingGradients) {
  Tensor a = with_grad({3.0, -4.0}), none = Tensor(tensor({1.0}).array(), true);
  EXPECT_DOUBLE_EQ(clip_grad_norm_({a, none}, 100.0, 1.0), 7.0);       // |3| + |-4|
  EXPECT_DOUBLE_EQ(clip_grad_norm_({a, none}, 100.0, kInfNorm), 4.0);  // max |g|
  EXPECT_NEAR(clip_grad_norm_({a}, 100.0, 3.0), std::cbrt(27.0 + 64.0), 1e-12);
  clip_grad_norm_({a}, 2.0, kInfNorm);  // scale 2 / (4 + 1e-6)
  EXPECT_NEAR(a.grad().to_vector<double>()[1], -4.0 * 2.0 / (4.0 + 1e-6), 1e-15);
  EXPECT_FALSE(none.grad().defined());
}

TEST(ClipGradNorm, NonFiniteNormsAreReportedOrRejected) {
  Tensor a = with_grad({std::nan(""), 1.0});
  EXPECT_TRUE(std::isnan(clip_grad_norm_({a}, 1.0)));
  EXPECT_THROW(clip_grad_norm_({a}, 1.0, 2.0, /*error_if_nonfinite=*/true), ValueError);
  EXPECT_THROW(clip_grad_norm_({a}, 1.0, -1.0), ValueError);
}

TEST(ClipGradValue, ClampsEachElement) {
  Tensor a = with_grad({-3.0, 0.5, 2.0}), b = with_grad({-0.1});
  clip_grad_value_({a, b}, 1.0);
  EXPECT_EQ(a.grad().to_vector<double>(), (V{-1.0, 0.5, 1.0}));
  EXPECT_EQ(b.grad().to_vector<double>(), (V{-0.1}));
  EXPECT_THROW(clip_grad_value_({a}, -1.0), ValueError);
}

TEST(ClipGrad, WorksOnFloat32Gradients) {
  Tensor p = Tensor(kernels::full({2}, 0.0, kFloat32), true);
  p.set_grad(tensor({3.0f, 4.0f}));
  EXPECT_NEAR(clip_grad_norm_({p}, 1.0), 5.0, 1e-6);
  EXPECT_NEAR(p.grad().to_vector<double>()[0], 0.6, 1e-6);
}

}  // namespace
}  // namespace xgrad::optim
