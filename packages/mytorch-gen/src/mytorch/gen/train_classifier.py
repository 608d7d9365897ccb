"""Train the metrics classifier and write ``_weights/mnist_classifier.safetensors``.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python -m mytorch.gen.train_classifier [--out PATH]

Recipe: ``MNISTClassifier`` on the 4,000 training images of the MNIST sample bundled with
mytorch-vision (grey levels in [0, 1], no normalization, no augmentation), Adam lr 1e-3, batch
64, 8 epochs, seed 0. It prints the accuracy on the sample's 1,000 held-out images (0.969 for
the shipped weights; about 30 s on 2 shared CPU cores). The sample, not full MNIST, keeps the file reproducible
offline; the metrics that use these features are therefore "classifier-Frechet distances" in
the space of this small network, not Inception FIDs, and not comparable to published FIDs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import mytorch.core as mt
import mytorch.core.functional as F
import mytorch.nn as nn
from mytorch.gen.classifier import WEIGHTS_FILE, MNISTClassifier
from mytorch.vision.datasets import load_sample


def train(epochs: int = 8, seed: int = 0) -> tuple[MNISTClassifier, float]:
    """The trained classifier (eval mode) and its held-out accuracy on the sample."""
    mt.manual_seed(seed)
    rng = np.random.default_rng(seed)
    images, labels = load_sample(train=True)
    x = mt.tensor(images.reshape(-1, 1, 28, 28).astype(np.float32) / 255.0)
    y = mt.tensor(labels)
    model = MNISTClassifier()
    opt = mt.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(epochs):
        model.train()
        perm = rng.permutation(len(labels))
        for i in range(0, len(perm), 64):
            idx = mt.tensor(perm[i : i + 64])
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"epoch {epoch + 1}: last batch loss {loss.item():.4f}")
    model.eval()
    test_images, test_labels = load_sample(train=False)
    with mt.no_grad():
        logits = model(mt.tensor(test_images.reshape(-1, 1, 28, 28).astype(np.float32) / 255.0))
    acc = float((logits.argmax(dim=1).numpy() == test_labels).mean())
    return model, acc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parent / "_weights" / WEIGHTS_FILE
    parser.add_argument("--out", default=str(default), help="where to write the weights")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    model, acc = train(args.epochs, args.seed)
    print(f"held-out accuracy on the sample's 1,000 test images: {acc:.4f}")
    nn.save(model.state_dict(), args.out)  # atomic
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
