"""Pictures for the notebooks: learning curves and the layer graph of a model (matplotlib only)."""
from __future__ import annotations

from typing import Any


def plot_history(history: Any, metric: str = "accuracy"):
    """Training and validation curves of `loss` and `metric` from a Keras `History` (or its dict)."""
    import matplotlib.pyplot as plt

    logs = getattr(history, "history", history)
    names = [m for m in ("loss", metric) if m in logs] or sorted(k for k in logs
                                                                 if not k.startswith("val_"))
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.2), squeeze=False)
    for ax, name in zip(axes[0], names):
        epochs = range(1, len(logs[name]) + 1)
        ax.plot(epochs, logs[name], label="training")
        if f"val_{name}" in logs:
            ax.plot(epochs, logs[f"val_{name}"], label="validation")
        ax.set_xlabel("epoch")
        ax.set_title(name.replace("_", " "))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig
