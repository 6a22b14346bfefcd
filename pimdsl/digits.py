"""The digits task: real labelled data that ships with scikit-learn, and two small trained networks.

    from pimdsl import digits
    x, labels = digits.load("test")                  # float32 [360, 1, 8, 8] in [0, 1], int64 [360]
    path = digits.save_model("cnn", "digits-cnn.onnx", seed=0)   # trained with numpy, ONNX

Data: `sklearn.datasets.load_digits` (1,797 8x8 images of handwritten digits, 16 grey levels,
bundled with scikit-learn: no download). A seeded permutation (seed 0) splits it into
`TEST_IMAGES` = 360 test images and 1,437 training images, always the same.

Models (trained on the training split by a few lines of numpy: softmax cross-entropy, SGD with
momentum, seeded, deterministic on one machine):

- `mlp`: [N, 64] -> Gemm 64x32 -> Relu -> Gemm 32x10 (logits);
- `cnn`: [N, 1, 8, 8] -> Conv 8 channels 3x3 -> Relu -> Conv 16 channels 3x3 stride 2 ->
  Relu -> Flatten -> Gemm 64x10.

Both are exported with the `onnx` helper API with a symbolic batch dimension "N".
`python -m pimdsl.digits DIR` writes digits-mlp.onnx and digits-cnn.onnx into DIR.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from pimdsl.errors import PimError

TEST_IMAGES = 360
SPLIT_SEED = 0
MODELS = ("mlp", "cnn")
Params = dict[str, np.ndarray]


def load(split: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """Images float32 [N, 1, 8, 8] scaled to [0, 1] and labels int64 [N] of one split
    ("test", "train" or "all")."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise PimError(
            "the digits data set comes with scikit-learn, which is not installed.",
            hint="pip install scikit-learn (it is in pimdsl's test extras: pip install -e '.[test]').",
        ) from None
    pixels, target = load_digits(return_X_y=True)  # [N, 64] grey levels 0..16, [N]
    images = (np.asarray(pixels).reshape(-1, 1, 8, 8) / 16.0).astype(np.float32)
    labels = np.asarray(target).astype(np.int64)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(labels))
    parts = {
        "test": order[:TEST_IMAGES],
        "train": order[TEST_IMAGES:],
        "all": np.arange(len(labels)),
    }
    if split not in parts:
        raise PimError(f"unknown digits split '{split}'.", hint="Use test, train or all.")
    return images[parts[split]], labels[parts[split]]


# --- training ------------------------------------------------------------------------------------


def _patches(x: np.ndarray, stride: int) -> np.ndarray:
    """[N, C, H, W] -> [N, OH*OW, C*3*3] windows of a 3x3 kernel without padding."""
    v = sliding_window_view(x, (3, 3), axis=(2, 3))[:, :, ::stride, ::stride]
    n, c, oh, ow = v.shape[:4]
    return v.transpose(0, 2, 3, 1, 4, 5).reshape(n, oh * ow, c * 9)


def _mlp_grads(p: Params, x: np.ndarray, onehot: np.ndarray) -> tuple[np.ndarray, Params]:
    h_in = x.reshape(len(x), -1) @ p["fc1.weight"].T + p["fc1.bias"]
    h = np.maximum(h_in, 0)
    logits = h @ p["fc2.weight"].T + p["fc2.bias"]
    d = _softmax(logits) - onehot
    dh = (d @ p["fc2.weight"]) * (h_in > 0)
    return logits, {
        "fc2.weight": d.T @ h,
        "fc2.bias": d.sum(0),
        "fc1.weight": dh.T @ x.reshape(len(x), -1),
        "fc1.bias": dh.sum(0),
    }


def _cnn_grads(p: Params, x: np.ndarray, onehot: np.ndarray) -> tuple[np.ndarray, Params]:
    n = len(x)
    w1, w2 = p["conv1.weight"], p["conv2.weight"]
    c1, c2 = w1.shape[0], w2.shape[0]
    p1 = _patches(x, 1)  # [N, 36, 9]
    a1 = p1 @ w1.reshape(c1, -1).T + p["conv1.bias"]  # [N, 36, C1]
    h1 = np.maximum(a1, 0)
    h1_img = h1.transpose(0, 2, 1).reshape(n, c1, 6, 6)
    p2 = _patches(h1_img, 2)  # [N, 4, C1*9]
    a2 = p2 @ w2.reshape(c2, -1).T + p["conv2.bias"]  # [N, 4, C2]
    h2 = np.maximum(a2, 0)
    flat = h2.transpose(0, 2, 1).reshape(n, -1)  # channel-major, as ONNX Flatten of NCHW
    logits = flat @ p["fc.weight"].T + p["fc.bias"]
    d = _softmax(logits) - onehot
    d2 = (d @ p["fc.weight"]).reshape(n, c2, 4).transpose(0, 2, 1) * (a2 > 0)
    # back through conv2's windows (stride 2, no overlap along the 6x6 grid's used cells)
    dp2 = (d2 @ w2.reshape(c2, -1)).reshape(n, 2, 2, c1, 3, 3)
    dh1 = np.zeros((n, c1, 6, 6))
    for oy in range(2):
        for ox in range(2):
            dh1[:, :, 2 * oy : 2 * oy + 3, 2 * ox : 2 * ox + 3] += dp2[:, oy, ox]
    d1 = dh1.reshape(n, c1, 36).transpose(0, 2, 1) * (a1 > 0)
    return logits, {
        "fc.weight": d.T @ flat,
        "fc.bias": d.sum(0),
        "conv2.weight": (d2.reshape(-1, c2).T @ p2.reshape(-1, p2.shape[-1])).reshape(w2.shape),
        "conv2.bias": d2.sum((0, 1)),
        "conv1.weight": (d1.reshape(-1, c1).T @ p1.reshape(-1, 9)).reshape(w1.shape),
        "conv1.bias": d1.sum((0, 1)),
    }


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _init(seed: int, shapes: dict[str, tuple[int, ...]]) -> Params:
    rng = np.random.default_rng(seed)
    params = {}
    for name, shape in shapes.items():
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        params[name] = (
            rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
            if len(shape) > 1
            else np.zeros(shape)
        )
    return params


_SHAPES: dict[str, dict[str, tuple[int, ...]]] = {
    "mlp": {"fc1.weight": (32, 64), "fc1.bias": (32,), "fc2.weight": (10, 32), "fc2.bias": (10,)},
    "cnn": {
        "conv1.weight": (8, 1, 3, 3),
        "conv1.bias": (8,),
        "conv2.weight": (16, 8, 3, 3),
        "conv2.bias": (16,),
        "fc.weight": (10, 64),
        "fc.bias": (10,),
    },
}
_GRADS: dict[str, Callable[[Params, np.ndarray, np.ndarray], tuple[np.ndarray, Params]]] = {
    "mlp": _mlp_grads,
    "cnn": _cnn_grads,
}


def train(kind: str, seed: int = 0, epochs: int = 30, lr: float = 0.05) -> Params:
    """Train `kind` ("mlp" or "cnn") on the training split; float32 parameters."""
    if kind not in MODELS:
        raise PimError(f"unknown digits model '{kind}'.", hint=f"Use one of {', '.join(MODELS)}.")
    x, labels = load("train")
    x = x.astype(np.float64)
    onehot = np.eye(10)[labels]
    params = _init(seed, _SHAPES[kind])
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    rng = np.random.default_rng(seed + 1)
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), 32):
            idx = order[start : start + 32]
            _, grads = _GRADS[kind](params, x[idx], onehot[idx])
            for k in params:
                velocity[k] = 0.9 * velocity[k] - lr * grads[k] / len(idx)
                params[k] = params[k] + velocity[k]
    return {k: v.astype(np.float32) for k, v in params.items()}


def numpy_logits(kind: str, params: Params, x: np.ndarray) -> np.ndarray:
    """The trained network's float64 logits by the training code's own forward pass."""
    logits, _ = _GRADS[kind](
        {k: v.astype(np.float64) for k, v in params.items()},
        x.astype(np.float64),
        np.zeros((len(x), 10)),
    )
    return logits


# --- ONNX export -----------------------------------------------------------------------------------


def to_onnx(kind: str, params: Params) -> object:
    """The trained network as an ONNX ModelProto (opset 13, batch dimension "N")."""
    from onnx import TensorProto, helper, numpy_helper

    inits = [numpy_helper.from_array(v, name=k) for k, v in params.items()]
    if kind == "mlp":
        shape: list[int | str] = ["N", 64]
        nodes = [
            helper.make_node("Gemm", ["input", "fc1.weight", "fc1.bias"], ["h"], transB=1),
            helper.make_node("Relu", ["h"], ["r"]),
            helper.make_node("Gemm", ["r", "fc2.weight", "fc2.bias"], ["output"], transB=1),
        ]
    else:
        shape = ["N", 1, 8, 8]
        nodes = [
            helper.make_node(
                "Conv", ["input", "conv1.weight", "conv1.bias"], ["c1"], kernel_shape=[3, 3]
            ),
            helper.make_node("Relu", ["c1"], ["r1"]),
            helper.make_node(
                "Conv",
                ["r1", "conv2.weight", "conv2.bias"],
                ["c2"],
                kernel_shape=[3, 3],
                strides=[2, 2],
            ),
            helper.make_node("Relu", ["c2"], ["r2"]),
            helper.make_node("Flatten", ["r2"], ["f"], axis=1),
            helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["output"], transB=1),
        ]
    graph = helper.make_graph(
        nodes,
        f"digits_{kind}",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 10])],
        initializer=inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="pimdsl.digits"
    )
    model.ir_version = 8
    return model


def save_model(kind: str, path: str | Path, seed: int = 0) -> Path:
    """Train `kind` with `seed` and write it as ONNX to `path`; returns the path."""
    import onnx

    path = Path(path)
    onnx.save(to_onnx(kind, train(kind, seed)), str(path))  # type: ignore[arg-type]
    return path


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(
            "usage: python -m pimdsl.digits DIR   (writes digits-mlp.onnx, digits-cnn.onnx)",
            file=sys.stderr,
        )
        return 1
    folder = Path(args[0])
    folder.mkdir(parents=True, exist_ok=True)
    for kind in MODELS:
        print(save_model(kind, folder / f"digits-{kind}.onnx"))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
