"""A fitted model on disk: ArviZ InferenceData (NetCDF) carrying the full spec, the scaling
learned from training data, the share priors and the diagnostics, so a fresh process reloads
it and reproduces contributions exactly from the stored draws."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import arviz as az
import numpy as np

from mediamix.errors import MediamixError
from mediamix.model.design import Scaling
from mediamix.model.priors import SharePriors
from mediamix.model.spec import ModelSpec

FORMAT_VERSION = 2   # 2: transforms as components (per-component sites)


@dataclass
class FittedModel:
    spec: ModelSpec
    scaling: Scaling
    priors: SharePriors
    idata: az.InferenceData
    diagnostics: dict

    def draws(self) -> dict[str, np.ndarray]:
        """Posterior draws with chains flattened: name -> (sample, ...)."""
        post = self.idata.posterior
        n = post.sizes["chain"] * post.sizes["draw"]
        return {k: post[k].to_numpy().reshape((n,) + post[k].shape[2:]) for k in post.data_vars}

    def save(self, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        attrs = {
            "mediamix_format": FORMAT_VERSION,
            "spec_yaml": self.spec.to_yaml(),
            "scaling_json": self.scaling.to_json(),
            "priors_json": json.dumps({"channels": self.priors.channels, "loc": self.priors.loc.tolist(),
                                       "scale": self.priors.scale.tolist(), "source": self.priors.source}),
            "diagnostics_json": json.dumps(self.diagnostics, default=float),
        }
        self.idata.posterior.attrs.update(attrs)
        tmp = path.with_suffix(".tmp.nc")
        self.idata.to_netcdf(str(tmp), engine="h5netcdf")
        tmp.replace(path)  # never leave a half-written posterior under the real name
        return path


def load_fitted(path: Path) -> FittedModel:
    path = Path(path)
    if not path.exists():
        raise MediamixError(f"posterior file {path} does not exist; train the model first")
    try:
        idata = az.from_netcdf(str(path), engine="h5netcdf")
        idata.load() if hasattr(idata, "load") else None
    except Exception as exc:  # a truncated or foreign file
        raise MediamixError(f"cannot read posterior {path}: {exc}; retrain the model") from None
    attrs = idata.posterior.attrs
    version = int(attrs.get("mediamix_format", -1))
    if version != FORMAT_VERSION:
        raise MediamixError(f"posterior {path} has format {version}, this mediamix reads format {FORMAT_VERSION}; "
                            f"retrain the model to rebuild it")
    p = json.loads(attrs["priors_json"])
    priors = SharePriors(p["channels"], np.array(p["loc"]), np.array(p["scale"]), p["source"])
    return FittedModel(spec=ModelSpec.from_yaml(attrs["spec_yaml"]), scaling=Scaling.from_json(attrs["scaling_json"]),
                       priors=priors, idata=idata, diagnostics=json.loads(attrs["diagnostics_json"]))
