#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets: a few tiny valid files per format under
tests/fuzz/corpus/<format>/. NumPy writes the .npy and .npz seeds (so the fuzzers start from the
reference implementation's bytes); safetensors and IDX seeds are built here from their specs.

    /usr/bin/python3 tests/fuzz/make_corpus.py      (Debian's python3-numpy)
"""
import gzip
import io
import json
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def write(fmt, name, data):
    folder = os.path.join(HERE, "corpus", fmt)
    os.makedirs(folder, exist_ok=True)
    assert len(data) <= 4096, (name, len(data))  # run_fuzzers.sh uses -max_len=4096
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def safetensors(tensors, metadata=None):
    header, data = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def npy(array):
    out = io.BytesIO()
    np.save(out, array)
    return out.getvalue()


def npz(compressed, **arrays):
    out = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(out, **arrays)
    return out.getvalue()


def idx(array):
    return struct.pack(">BBBB", 0, 0, 8, array.ndim) + struct.pack(">" + "I" * array.ndim, *array.shape) + array.tobytes()


def main():
    f32 = np.array([[1.5, -2.0], [0.25, 4.0]], dtype="<f4")
    write("safetensors", "f32_metadata", safetensors({"w": ("F32", [2, 2], f32.tobytes())}, {"format": "pt"}))
    write("safetensors", "mixed", safetensors({
        "h": ("F16", [3], np.array([1, -2, 0.5], dtype="<f2").tobytes()),
        "b": ("BF16", [2], bytes([0x80, 0x3F, 0x40, 0xC0])),
        "i": ("I64", [2], np.array([-1, 2**40], dtype="<i8").tobytes()),
        "m": ("BOOL", [3], bytes([1, 0, 1])),
        "u": ("U8", [2], bytes([255, 7])),
        "s": ("I32", [1], np.array([-5], dtype="<i4").tobytes()),
    }))
    write("safetensors", "scalar_empty", safetensors({
        "s": ("F64", [], np.array(2.5, dtype="<f8").tobytes()),
        "e": ("F32", [0, 3], b""),
    }))

    write("npy", "f4_2x2", npy(f32))
    write("npy", "f8_scalar", npy(np.array(2.5)))
    write("npy", "b1", npy(np.array([True, False, True])))
    write("npy", "i8_empty", npy(np.zeros((0, 3), dtype="<i8")))
    write("npy", "f2", npy(np.array([1, -2, 65504], dtype="<f2")))
    write("npy", "i4_fortran", npy(np.asfortranarray(np.arange(6, dtype="<i4").reshape(2, 3))))
    write("npy", "f8_big_endian", npy(np.array([1.0, -2.0], dtype=">f8")))

    write("npz", "savez", npz(False, w=f32, flags=np.array([True, False])))
    write("npz", "savez_compressed", npz(True, w=f32, steps=np.array(7)))
    write("npz", "savez_fortran_f2", npz(False, f=np.asfortranarray(np.eye(2, dtype="<f2"))))

    # A checkpoint (io/src/checkpoint_format.cpp): safetensors with model/ and optimizer/ tensors and
    # format, version, number/, text/ and history metadata.
    write("checkpoint", "small", safetensors({
        "model/fc.weight": ("F32", [2, 2], f32.tobytes()),
        "model/fc.bias": ("F32", [2], np.array([0.5, -1], dtype="<f4").tobytes()),
        "optimizer/state.0.exp_avg": ("F32", [2, 2], np.zeros(4, dtype="<f4").tobytes()),
    }, {
        "format": "xgrad.checkpoint", "version": "1", "number/epoch": "2", "number/lr": "0.001",
        "text/rng/default": "5489 1 2", "history": "loss,accuracy", "history/loss": "0.9,0.5",
        "history/accuracy": "0.25,0.75",
    }))

    labels = np.array([3, 0, 9], dtype=np.uint8)
    images = np.arange(8, dtype=np.uint8).reshape(2, 2, 2)
    write("idx", "labels", idx(labels))
    write("idx", "images", idx(images))
    write("idx", "labels_gz", gzip.compress(idx(labels), mtime=0))
    write("idx", "images_gz", gzip.compress(idx(images), mtime=0))


if __name__ == "__main__":
    main()
