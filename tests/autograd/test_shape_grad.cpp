// Gradients of views and data movement: gradient-table rows for every op of the "views and data
// movement" section of ops.def (checked to first and second order by test_gradcheck_all), and
// direct tests of what the table cannot see: recorded names, shared storage, splitting, casts.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/grad_cases.hpp"

namespace xgrad {
namespace {

using testing::Domain;
using testing::Inputs;

// ---- views ----------------------------------------------------------------------------------------
XGRAD_GRAD_CASE(view_split_dims, "view", {{2, 6}}, [](const Inputs& x) { return view(x[0], {3, 2, 2}); });
XGRAD_GRAD_CASE(view_flat_squared, "view", {{3, 4}}, [](const Inputs& x) {
  const Tensor v = view(x[0], {-1});
  return v * v;
});
XGRAD_GRAD_CASE(view_of_strided_slice, "view", {{4, 6}}, [](const Inputs& x) {
  return view(slice(x[0], 0, 0, 4, 2), {2, 3, 2});
});
XGRAD_GRAD_CASE(reshape_infers_dim, "reshape", {{2, 3, 4}}, [](const Inputs& x) { return reshape(x[0], {4, -1}); });
XGRAD_GRAD_CASE(reshape_copies_transpose_squared, "reshape", {{3, 4}}, [](const Inputs& x) {
  const Tensor r = reshape(transpose(x[0], 0, 1), {12});
  return r * r;
});
XGRAD_GRAD_CASE(flatten_middle_dims, "reshape", {{2, 3, 4, 2}}, [](const Inputs& x) { return flatten(x[0], 1, -2); });
XGRAD_GRAD_CASE(transpose_first_last, "transpose", {{2, 3, 4}}, [](const Inputs& x) { return transpose(x[0], 0, -1); });
XGRAD_GRAD_CASE(transpose_gram_matrix, "transpose", {{3, 4}},
                [](const Inputs& x) { return matmul(transpose(x[0], 0, 1), x[0]); });
XGRAD_GRAD_CASE(permute_3d, "permute", {{2, 3, 4}}, [](const Inputs& x) { return permute(x[0], {2, 0, 1}); });
XGRAD_GRAD_CASE(permute_negative_dims_squared, "permute", {{2, 3, 4}}, [](const Inputs& x) {
  const Tensor p = permute(x[0], {-1, -3, -2});
  return p * p;
});
XGRAD_GRAD_CASE(slice_with_step, "slice", {{10}}, [](const Inputs& x) { return slice(x[0], 0, 1, 9, 3); });
XGRAD_GRAD_CASE(slice_negative_start_inner_dim, "slice", {{3, 5}},
                [](const Inputs& x) { return slice(x[0], -1, -4, 100, 2); });
XGRAD_GRAD_CASE(slice_overlapping_product, "slice", {{6, 2}},
                [](const Inputs& x) { return slice(x[0], 0, 0, 4) * slice(x[0], 0, 2, 6); });
XGRAD_GRAD_CASE(narrow_middle, "slice", {{4, 5}}, [](const Inputs& x) { return narrow(x[0], 1, 1, 3); });
XGRAD_GRAD_CASE(split_parts_rejoined, "slice", {{7, 2}}, [](const Inputs& x) {
  const std::vector<Tensor> p = split(x[0], 3, 0);  // 3, 3, 1 rows
  return cat({p[2] * p[2], p[0]}, 0);
});
XGRAD_GRAD_CASE(chunk_parts_multiplied, "slice", {{2, 6}}, [](const Inputs& x) {
  const std::vector<Tensor> p = chunk(x[0], 3, -1);
  return p[0] * p[1] + p[2];
});
XGRAD_GRAD_CASE(select_last_row, "select", {{3, 4}}, [](const Inputs& x) { return select(x[0], 0, -1); });
XGRAD_GRAD_CASE(select_inner_dim, "select", {{2, 3, 4}}, [](const Inputs& x) { return select(x[0], 1, 2); });
XGRAD_GRAD_CASE(unbind_rows_multiplied, "select", {{3, 4}}, [](const Inputs& x) {
  const std::vector<Tensor> r = unbind(x[0], 0);
  return r[0] * r[1] * r[2];
});
XGRAD_GRAD_CASE(expand_new_and_size1_dims, "expand", {{3, 1}}, [](const Inputs& x) { return expand(x[0], {2, 3, 4}); });
XGRAD_GRAD_CASE(expand_times_other, "expand", {{1, 4}, {3, 4}}, [](const Inputs& x) {
  return expand(x[0], {3, -1}) * x[1];
});
XGRAD_GRAD_CASE(squeeze_one_dim, "squeeze", {{2, 1, 3}}, [](const Inputs& x) { return squeeze(x[0], 1); });
XGRAD_GRAD_CASE(squeeze_negative_dim_squared, "squeeze", {{3, 1}}, [](const Inputs& x) {
  const Tensor s = squeeze(x[0], -1);
  return s * s;
});
XGRAD_GRAD_CASE(squeeze_every_dim, "squeeze", {{1, 3, 1}}, [](const Inputs& x) { return squeeze(x[0]); });
XGRAD_GRAD_CASE(unsqueeze_last, "unsqueeze", {{2, 3}}, [](const Inputs& x) { return unsqueeze(x[0], -1); });
XGRAD_GRAD_CASE(unsqueeze_outer_product, "unsqueeze", {{3}, {4}},
                [](const Inputs& x) { return unsqueeze(x[0], 1) * unsqueeze(x[1], 0); });

// ---- copies ---------------------------------------------------------------------------------------
XGRAD_GRAD_CASE(contiguous_of_transpose, "contiguous", {{3, 4}},
                [](const Inputs& x) { return contiguous(transpose(x[0], 0, 1)); });
XGRAD_GRAD_CASE(contiguous_of_strided_slice_squared, "contiguous", {{2, 3}}, [](const Inputs& x) {
  const Tensor c = contiguous(slice(x[0], 1, 0, 3, 2));
  return c * c;
});
XGRAD_GRAD_CASE(clone_times_input, "clone", {{2, 3}}, [](const Inputs& x) { return clone(x[0]) * x[0]; });
// A round trip through float32 rounds to 6e-8 relative, which central differences with eps = 1e-6
// see as noise of up to 0.03: hence the tolerance, inputs in (-0.9, 0.9) and no second-order row;
// ToCast below asserts the exact first and second derivatives.
XGRAD_GRAD_CASE(
    to_float32_and_back, "to", {{2, 3}}, [](const Inputs& x) { return to(to(x[0], kFloat32), kFloat64); }, Domain::Unit,
    0.05, 1e-3, false);

// ---- joining ----------------------------------------------------------------------------------------
XGRAD_GRAD_CASE(cat_rows, "cat", {{2, 3}, {1, 3}, {4, 3}}, [](const Inputs& x) { return cat({x[0], x[1], x[2]}, 0); });
XGRAD_GRAD_CASE(cat_last_dim_squared, "cat", {{2, 1}, {2, 3}}, [](const Inputs& x) {
  const Tensor c = cat({x[0], x[1]}, -1);
  return c * c;
});
XGRAD_GRAD_CASE(stack_middle_dim, "stack", {{2, 3}, {2, 3}}, [](const Inputs& x) { return stack({x[0], x[1]}, 1); });
XGRAD_GRAD_CASE(stack_last_dim_squared, "stack", {{3}, {3}, {3}}, [](const Inputs& x) {
  const Tensor s = stack({x[0], x[1], x[2]}, -1);
  return s * s;
});

// ---- indexing ---------------------------------------------------------------------------------------
XGRAD_GRAD_CASE(index_select_repeated_rows, "index_select", {{4, 3}}, [](const Inputs& x) {
  return index_select(x[0], 0, tensor({3, 0, 3, 1}));
});
XGRAD_GRAD_CASE(index_select_last_dim_squared, "index_select", {{2, 5}}, [](const Inputs& x) {
  const Tensor s = index_select(x[0], -1, tensor({4, 0}));
  return s * s;
});
// index_add has no public function: it is index_select's backward, reached here through grad()
// with create_graph, so the result is index_add(zeros, dim, index, v) as a function of v.
Tensor index_add_of(const Tensor& v, const Shape& shape, int64_t dim, const Tensor& index) {
  EnableGradGuard enable;  // the checker evaluates under no-grad; this inner graph is the function
  const Tensor base = zeros(shape, {.dtype = kFloat64, .requires_grad = true});
  const Tensor y = index_select(base, dim, index);
  return grad({y}, {base}, {v}, true, true)[0];
}
XGRAD_GRAD_CASE(index_add_repeated_rows, "index_add", {{3, 2}}, [](const Inputs& x) {
  return index_add_of(x[0], {4, 2}, 0, tensor({1, 3, 1}));
});
XGRAD_GRAD_CASE(index_add_last_dim_squared, "index_add", {{2, 2}}, [](const Inputs& x) {
  const Tensor a = index_add_of(x[0], {2, 3}, -1, tensor({2, 0}));
  return a * a;
});
XGRAD_GRAD_CASE(gather_repeated, "gather", {{3, 4}}, [](const Inputs& x) {
  return gather(x[0], 1, tensor({{0, 0}, {3, 1}, {2, 2}}));
});
XGRAD_GRAD_CASE(gather_dim0_squared, "gather", {{3, 4}}, [](const Inputs& x) {
  const Tensor g = gather(x[0], 0, tensor({{2, 0, 1, 1}, {0, 0, 2, 1}}));
  return g * g;
});
XGRAD_GRAD_CASE(gather_negative_dim_3d, "gather", {{2, 3, 2}}, [](const Inputs& x) {
  return gather(x[0], -2, reshape(tensor({0, 1, 2, 2, 1, 0, 0, 0}), {2, 2, 2}));
});
XGRAD_GRAD_CASE(scatter_add_rows, "scatter_add", {{3, 4}, {3, 2}}, [](const Inputs& x) {
  return scatter_add(x[0], 1, tensor({{0, 0}, {3, 1}, {2, 2}}), x[1]);
});
XGRAD_GRAD_CASE(scatter_add_larger_source_squared, "scatter_add", {{2, 3}, {3, 3}}, [](const Inputs& x) {
  const Tensor s = scatter_add(x[0], 0, tensor({{1, 0, 1}, {0, 0, 1}}), x[1]);
  return s * s;
});

// ---- direct tests -------------------------------------------------------------------------------------

Tensor leaf(const Shape& shape, DType dtype = kFloat64) {
  Generator gen(7);
  return randn(shape, gen, {.dtype = dtype}).requires_grad_();
}

std::string op_of(const Tensor& t) { return t.grad_fn() ? std::string(t.grad_fn()->name()) : "leaf"; }

TEST(ShapeGrad, ViewsRecordTheirNamesAndShareStorage) {
  const Tensor x = leaf({2, 3, 4});
  const auto storage = x.array().storage();
  const std::vector<std::pair<Tensor, std::string>> cases = {{view(x, {6, 4}), "view"},
                                                             {reshape(x, {4, 6}), "reshape"},
                                                             {flatten(x), "reshape"},
                                                             {transpose(x, 0, 2), "transpose"},
                                                             {permute(x, {1, 2, 0}), "permute"},
                                                             {slice(x, 1, 0, 3, 2), "slice"},
                                                             {narrow(x, 2, 1, 2), "slice"},
                                                             {select(x, 0, 1), "select"},
                                                             {expand(x, {2, 2, 3, 4}), "expand"},
                                                             {squeeze(unsqueeze(x, 0), 0), "squeeze"},
                                                             {unsqueeze(x, -1), "unsqueeze"},
                                                             {split(x, 2, 2)[1], "slice"},
                                                             {unbind(x, 1)[2], "select"}};
  for (const auto& [y, name] : cases) {
    EXPECT_EQ(op_of(y), name);
    EXPECT_EQ(y.array().storage(), storage) << name << " must be a view";
  }
}

TEST(ShapeGrad, CopiesAndCastsRecordTheirNames) {
  const Tensor x = leaf({2, 3});
  EXPECT_TRUE(contiguous(x).is_same(x));  // already contiguous: no copy, no node
  const Tensor c = contiguous(transpose(x, 0, 1));
  EXPECT_EQ(op_of(c), "contiguous");
  EXPECT_NE(c.array().storage(), x.array().storage());
  EXPECT_EQ(op_of(clone(x)), "clone");
  EXPECT_NE(clone(x).array().storage(), x.array().storage());
  EXPECT_TRUE(to(x, kFloat64).is_same(x));
  EXPECT_EQ(op_of(to(x, kFloat32)), "to");
  const Tensor i = to(x, kInt64);  // integers carry no gradient
  EXPECT_EQ(i.dtype(), kInt64);
  EXPECT_FALSE(i.requires_grad());
  EXPECT_EQ(op_of(cat({x, x}, 0)), "cat");
  EXPECT_EQ(op_of(stack({x, x}, 0)), "stack");
  EXPECT_EQ(op_of(index_select(x, 0, tensor({1}))), "index_select");
  EXPECT_EQ(op_of(gather(x, 0, tensor({{1, 0, 1}}))), "gather");
  EXPECT_EQ(op_of(scatter_add(x, 0, tensor({{1, 0, 1}}), leaf({1, 3}))), "scatter_add");
}

TEST(ShapeGrad, SliceBackwardIsADifferentiableIndexAdd) {
  const Tensor x = leaf({5});
  const Tensor y = slice(x, 0, 1, 5, 2);  // x[1], x[3]
  const Tensor v = tensor(std::vector<double>{10, 20}, {2}).requires_grad_();
  const Tensor g = grad({y}, {x}, {v}, true, true)[0];
  EXPECT_EQ(g.to_vector<double>(), (std::vector<double>{0, 10, 0, 20, 0}));
  EXPECT_EQ(op_of(g), "index_add");
}

TEST(ShapeGrad, SelectAndExpandGradients) {
  const Tensor x = leaf({2, 3});
  select(x, 1, -1).backward(tensor(std::vector<double>{1, 2}, {2}));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 0, 1, 0, 0, 2}));
  const Tensor s = leaf({3, 1});
  expand(s, {2, 3, 4}).backward(ones({2, 3, 4}, {.dtype = kFloat64}));
  EXPECT_EQ(s.grad().shape(), (Shape{3, 1}));
  EXPECT_EQ(s.grad().to_vector<double>(), (std::vector<double>{8, 8, 8}));
}

TEST(ShapeGrad, SplitChunkAndUnbind) {
  const Tensor x = reshape(arange(14, {.dtype = kFloat64}), {7, 2});
  const std::vector<Tensor> parts = split(x, 3);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[2].shape(), (Shape{1, 2}));
  EXPECT_EQ(parts[2].to_vector<double>(), (std::vector<double>{12, 13}));
  const std::vector<Tensor> sized = split(x, std::vector<int64_t>{1, 0, 6});
  ASSERT_EQ(sized.size(), 3u);
  EXPECT_EQ(sized[1].shape(), (Shape{0, 2}));
  EXPECT_EQ(sized[2].shape(), (Shape{6, 2}));
  const std::vector<Tensor> chunks = chunk(x, 3, 0);  // ceil(7 / 3) = 3 rows each, the last 1
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[1].to_vector<double>(), (std::vector<double>{6, 7, 8, 9, 10, 11}));
  const std::vector<Tensor> cols = unbind(x, -1);
  ASSERT_EQ(cols.size(), 2u);
  EXPECT_EQ(cols[1].shape(), (Shape{7}));
  EXPECT_EQ(cols[1].to_vector<double>(), (std::vector<double>{1, 3, 5, 7, 9, 11, 13}));
  EXPECT_THROW(split(x, 0), ValueError);
  EXPECT_THROW(split(x, std::vector<int64_t>{3, 3}), ValueError);
  EXPECT_THROW(chunk(x, 0), ValueError);
  EXPECT_THROW(unbind(x, 2), IndexError);
}

TEST(ShapeGrad, CatOfMixedDtypesGivesEachInputItsDtype) {
  const Tensor a = leaf({2}, kFloat32);
  const Tensor b = leaf({3}, kFloat64);
  const Tensor c = cat({a, b}, 0);
  EXPECT_EQ(c.dtype(), kFloat64);
  c.backward(tensor(std::vector<double>{1, 2, 3, 4, 5}, {5}));
  EXPECT_EQ(a.grad().dtype(), kFloat32);
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{1, 2}));
  EXPECT_EQ(b.grad().to_vector<double>(), (std::vector<double>{3, 4, 5}));
}

TEST(ShapeGrad, ScatterAddSourceGradientHasTheSourceShape) {
  const Tensor x = leaf({2, 2});
  const Tensor src = leaf({3, 3});
  scatter_add(x, 1, reshape(tensor({1, 0}), {2, 1}), src).backward(tensor(std::vector<double>{1, 2, 3, 4}, {2, 2}));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(src.grad().shape(), (Shape{3, 3}));
  EXPECT_EQ(src.grad().to_vector<double>(), (std::vector<double>{2, 0, 0, 3, 0, 0, 0, 0, 0}));
}

TEST(ShapeGrad, ToCast) {
  // d/dx sum(f32(x)^2) = 2x in float64; its derivative again is 2, through two casts each way.
  const Tensor x = tensor(std::vector<double>{0.5, -1.25, 3.0}, {3}).requires_grad_();
  const Tensor y = to(x, kFloat32);
  const Tensor g = grad({(y * y).sum()}, {x}, {}, true, true)[0];
  EXPECT_EQ(g.dtype(), kFloat64);
  EXPECT_EQ(g.to_vector<double>(), (std::vector<double>{1.0, -2.5, 6.0}));
  const Tensor h = grad({g.sum()}, {x})[0];
  EXPECT_EQ(h.to_vector<double>(), (std::vector<double>{2, 2, 2}));
}

TEST(ShapeGrad, OneHotIsNotDifferentiable) {
  const Tensor o = one_hot(tensor({2, 0}), 3);
  EXPECT_EQ(o.dtype(), kInt64);
  EXPECT_FALSE(o.requires_grad());
  EXPECT_EQ(o.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 1, 1, 0, 0}));
  EXPECT_EQ(one_hot(tensor({1, 3})).shape(), (Shape{2, 4}));
}

TEST(ShapeGrad, Errors) {
  const Tensor x = leaf({2, 3});
  EXPECT_THROW(view(transpose(x, 0, 1), {6}), ShapeError);
  EXPECT_THROW(narrow(x, 1, 2, 2), IndexError);
  EXPECT_THROW(narrow(x, 1, -4, 1), IndexError);
  EXPECT_THROW(stack({x, leaf({3, 2})}), ShapeError);
  EXPECT_THROW(stack({}), ValueError);
  EXPECT_THROW(cat({}), ValueError);
  EXPECT_THROW(cat({x, leaf({2, 2})}, 0), ShapeError);
  EXPECT_THROW(index_select(x, 0, tensor({2})), IndexError);
  EXPECT_THROW(index_select(x, 0, tensor(std::vector<double>{0}, {1})), DTypeError);
  EXPECT_THROW(gather(x, 1, tensor({{0, 3}})), IndexError);
  EXPECT_THROW(flatten(x, 1, 0), IndexError);
  EXPECT_THROW(select(scalar_tensor(1.0), 0, 0), IndexError);
}

}  // namespace
}  // namespace xgrad
