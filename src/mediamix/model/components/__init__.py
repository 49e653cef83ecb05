"""Built-in adstock and saturation components, registered on import (see base.py)."""
from mediamix.model.components import (delayed, geometric, hill, logistic, michaelis_menten,  # noqa: F401
                                       no_saturation, weibull_cdf, weibull_pdf)
from mediamix.model.components.base import ADSTOCKS, SATURATIONS, component  # noqa: F401
