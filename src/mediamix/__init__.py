"""mediamix: open marketing mix modeling and multi-touch attribution."""
import os as _os

# JAX reads this once at import: give NUTS one CPU device per chain so chains run in parallel.
_os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")

from mediamix.errors import MediamixError  # noqa: E402

__version__ = "0.1.0"
__all__ = ["MediamixError", "__version__"]
