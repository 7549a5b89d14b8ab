"""CostPlan engine.

- ``costplan.core``: pure numpy kernels. No I/O, no logging, no AWS, no HTTP.
- ``costplan.catalog``: price and model data, loaded once per process.
- ``costplan.services``: one module per use case; validation, fallback chain, warnings.
- ``costplan.adapters``: HTTP app factory, observability, storage. The core never imports it.
"""

__version__ = "0.1.0"
