#!/usr/bin/python3
"""Writes the .npz/.npy fixtures of tests/io/test_npz.cpp and test_npy.cpp with NumPy itself, so
that those tests read files made by the reference implementation, not by our own writer.

Run from anywhere (Debian's python3-numpy; /usr/bin/python3 to bypass a pyenv without NumPy):
    /usr/bin/python3 tests/data/make_npz_fixture.py
The values are listed in the tests; change both together.
"""
import os
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def arrays():
    return {
        "f32": np.array([[1.5, -2.0, 3.25], [0.0, 4.0, -0.5]], dtype="<f4"),
        "f64": np.array([0.1, 1e300, -7.0], dtype="<f8"),
        "i64": np.array([[-3], [2**40]], dtype="<i8"),
        "flags": np.array([True, False, True]),
        "scalar": np.array(2.5),
        "empty": np.zeros((0, 3), dtype="<f4"),
        "f16": np.array([1.0, -2.0, 0.5, 65504.0], dtype="<f2"),
        # Column-major storage: the file holds 0 3 1 4 2 5; the values read row-major are 0..5.
        "fortran": np.asfortranarray(np.arange(6, dtype="<i4").reshape(2, 3)),
        "u8": np.array([0, 255, 7], dtype="u1"),
        "big_endian": np.array([1.0, -2.0], dtype=">f8"),
    }


def main():
    a = arrays()
    assert a["fortran"].flags.f_contiguous and not a["fortran"].flags.c_contiguous
    np.savez(os.path.join(HERE, "numpy_arrays.npz"), **a)
    np.savez_compressed(os.path.join(HERE, "numpy_arrays_compressed.npz"), **a)
    # Zip64 everywhere (central directory extra fields, zip64 end record and locator) in a small
    # file: zipfile decides by comparing with ZIP64_LIMIT, which we lower for this one archive.
    saved = zipfile.ZIP64_LIMIT
    zipfile.ZIP64_LIMIT = -1
    try:
        np.savez(os.path.join(HERE, "numpy_zip64.npz"), f32=a["f32"], flags=a["flags"])
    finally:
        zipfile.ZIP64_LIMIT = saved
    # One .npy file per dtype we write, to compare our writer's bytes with NumPy's.
    np.save(os.path.join(HERE, "numpy_f32_2x3.npy"), a["f32"])
    np.save(os.path.join(HERE, "numpy_scalar_f64.npy"), a["scalar"])
    np.save(os.path.join(HERE, "numpy_bool_3.npy"), a["flags"])
    np.save(os.path.join(HERE, "numpy_i64_2x1.npy"), a["i64"])


if __name__ == "__main__":
    main()
