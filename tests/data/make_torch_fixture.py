#!/usr/bin/python3
"""PyTorch interop fixtures for xgrad's tests (tests/io/test_torch_interop.cpp).

Needs Debian's python3-torch (not needed to run the test suite, only to regenerate or to check):

  /usr/bin/python3 tests/data/make_torch_fixture.py
      writes tests/data/torch_net.safetensors (the state dict of Net below, after three training
      steps so that BatchNorm's running statistics and num_batches_tracked are not the defaults) and
      tests/data/torch_net_io.safetensors (an input and the model's outputs in eval and train mode).
      xgrad's test loads the weights into the same network built with xgrad and matches the outputs.

  /usr/bin/python3 tests/data/make_torch_fixture.py --check DIR
      the other direction: reads DIR/xgrad_net.safetensors (weights written by xgrad) and
      DIR/xgrad_net_io.safetensors (input and xgrad's outputs), both written by the test when run
      with XGRAD_EXPORT_DIR=DIR, loads them into PyTorch's Net and checks PyTorch's outputs.

  /usr/bin/python3 tests/data/make_torch_fixture.py --check-mlp runs/fashion-mnist-mlp/model.safetensors
      loads the Fashion-MNIST demo's weights into the same MLP in PyTorch and prints its test
      accuracy (the demo's own last line should agree).

The safetensors files are written and read here with the standard library and NumPy (the format
is an 8-byte little-endian header length, a JSON header and raw little-endian data), so the Python
safetensors package is not needed.
"""
import gzip
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "BOOL": np.bool_}
NAMES = {np.dtype(v): k for k, v in DTYPES.items()}


def save_safetensors(path, tensors, metadata=None):
    header, offset, blobs = {}, 0, []
    for name, t in tensors.items():
        a = np.array(t.detach().cpu().numpy() if torch.is_tensor(t) else t, order="C")  # keeps 0-d shapes
        blob = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": NAMES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    header.pop("__metadata__", None)
    data = raw[8 + n :]
    out = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        a = np.frombuffer(data[begin:end], dtype=np.dtype(DTYPES[e["dtype"]]).newbyteorder("<"))
        out[name] = torch.from_numpy(a.reshape(e["shape"]).copy())
    return out


class Net(nn.Module):
    """conv 3x3 -> BatchNorm2d -> ReLU -> max pool 2 -> flatten -> Linear -> BatchNorm1d -> ReLU -> Linear."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc1 = nn.Linear(4 * 3 * 3, 8)
        self.bn1 = nn.BatchNorm1d(8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
        x = F.relu(self.bn1(self.fc1(torch.flatten(x, 1))))
        return self.fc2(x)


class Mlp(nn.Module):
    """The Fashion-MNIST demo's MLP (examples/fashion_mnist_mlp.cpp), same attribute names."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, 10)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))))


def outputs(model, x):
    model.eval()
    with torch.no_grad():
        eval_out = model(x)
    # Train mode uses the batch statistics (and would update the running ones: do it on a copy).
    clone = Net()
    clone.load_state_dict(model.state_dict())
    clone.train()
    with torch.no_grad():
        train_out = clone(x)
    return eval_out, train_out


def make():
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        F.cross_entropy(model(torch.randn(5, 1, 6, 6)), torch.randint(0, 3, (5,))).backward()
        opt.step()
    x = torch.randn(2, 1, 6, 6)
    eval_out, train_out = outputs(model, x)
    save_safetensors(os.path.join(HERE, "torch_net.safetensors"), model.state_dict(),
                     {"producer": "PyTorch " + torch.__version__, "model": "Net of tests/data/make_torch_fixture.py"})
    save_safetensors(os.path.join(HERE, "torch_net_io.safetensors"),
                     {"input": x, "eval_output": eval_out, "train_output": train_out})
    print("wrote torch_net.safetensors (%d tensors) and torch_net_io.safetensors" % len(model.state_dict()))


def check(folder):
    model = Net()
    model.load_state_dict(load_safetensors(os.path.join(folder, "xgrad_net.safetensors")))  # strict
    io = load_safetensors(os.path.join(folder, "xgrad_net_io.safetensors"))
    eval_out, train_out = outputs(model, io["input"])
    for name, got in (("eval_output", eval_out), ("train_output", train_out)):
        err = (got - io[name]).abs().max().item()
        print("%s: max |PyTorch - xgrad| = %.3g" % (name, err))
        if err > 1e-5:
            sys.exit("MISMATCH in " + name)
    print("OK: PyTorch reproduces xgrad's outputs from xgrad's file")


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = struct.unpack(">" + "I" * dims, raw[4 : 4 + 4 * dims])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def check_mlp(path, data="/usr/share/datasets/fashion-mnist"):
    model = Mlp()
    state = load_safetensors(path)
    model.load_state_dict(state)  # strict: names and shapes must match exactly
    images = read_idx(os.path.join(data, "t10k-images-idx3-ubyte.gz")).astype(np.float32) / 255.0
    labels = read_idx(os.path.join(data, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    train = read_idx(os.path.join(data, "train-images-idx3-ubyte.gz")).astype(np.float32) / 255.0
    x = (torch.from_numpy(images) - float(train.mean())) / float(train.std())
    model.eval()
    with torch.no_grad():
        predicted = model(x).argmax(1).numpy()
    print("PyTorch %s, %s: test accuracy %.4f" % (torch.__version__, path, (predicted == labels).mean()))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(sys.argv[2])
    elif len(sys.argv) >= 3 and sys.argv[1] == "--check-mlp":
        check_mlp(*sys.argv[2:])
    elif len(sys.argv) == 1:
        make()
    else:
        sys.exit(__doc__)
