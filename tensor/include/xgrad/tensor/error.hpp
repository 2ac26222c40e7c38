#pragma once
// The typed errors every xgrad function throws on bad input. Messages name the op and the
// shapes and dtypes involved, e.g. "mul: shapes [3, 4] and [5] cannot broadcast".
#include <stdexcept>
#include <string>

namespace xgrad {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ShapeError : public Error {  // incompatible or invalid shapes
 public:
  using Error::Error;
};
class DTypeError : public Error {  // unsupported or mismatched dtypes
 public:
  using Error::Error;
};
class IndexError : public Error {  // a dim or an index out of range
 public:
  using Error::Error;
};
class ValueError : public Error {  // an argument with a bad value
 public:
  using Error::Error;
};
class IOError : public Error {  // a file that cannot be read or written
 public:
  using Error::Error;
};
class FormatError : public IOError {  // a file that was read but is malformed: corrupt, truncated, forged
 public:
  using IOError::IOError;
};
class AutogradError : public Error {  // misuse of the graph: freed graph, in-place change, ...
 public:
  using Error::Error;
};
class AnomalyError : public AutogradError {  // anomaly mode found a NaN or Inf
 public:
  using AutogradError::AutogradError;
};

}  // namespace xgrad
