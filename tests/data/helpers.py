"""Small frame builders for the data tests."""
import numpy as np
import pandas as pd


def weekly(n: int, start: str = "2022-01-03", **columns) -> pd.DataFrame:
    """A wide weekly frame with ISO date strings and the given columns (arrays or scalars)."""
    dates = pd.date_range(start, periods=n, freq="7D").strftime("%Y-%m-%d")
    frame = pd.DataFrame({"date": dates})
    rng = np.random.default_rng(0)
    for name, values in columns.items():
        frame[name] = values if values is not None else rng.uniform(100, 1000, n)
    return frame
