"""The seed's Python sandbox (UzonCalc's ui/api/app/sandbox, FastAPI), served for bench/service.ts.

Bench glue only, kept out of the product: the seed's code is not in this repository. Point UZC_SEED_DIR at a
checkout of https://github.com/uyoufu/UzonCalc at a revision that has ui/api/app/sandbox (before the commit
that moved it, 4397120); its `uzoncalc` package and sandbox run unmodified from there, with Debian's
python3-fastapi, python3-uvicorn, python3-pint, python3-numpy, python3-openpyxl and python3-matplotlib.

Usage: python3 serve.py PORT (the seed checkout from UZC_SEED_DIR). Prints "listening PORT" when ready.
"""

import os
import sys

seed = os.environ["UZC_SEED_DIR"]
sys.path[:0] = [seed, os.path.join(seed, "ui", "api", "app", "sandbox")]

# Debian's pint (0.19) predates `UnitRegistry.formatter` (0.24), which the seed's units module sets once:
# forward it to the registry's own `default_format`.
import pint  # noqa: E402

if not hasattr(pint.UnitRegistry, "formatter"):

    class _Formatter:
        def __init__(self, registry):
            object.__setattr__(self, "_registry", registry)

        def __setattr__(self, name, value):
            setattr(self._registry, name, value)

        def __getattr__(self, name):
            return getattr(self._registry, name)

    pint.UnitRegistry.formatter = property(lambda self: _Formatter(self))

import uvicorn  # noqa: E402
import sandbox_server  # noqa: E402
from core.executor_local import LocalSandboxExecutor  # noqa: E402

app = sandbox_server.app


# Debian's FastAPI (0.92) predates the `lifespan=` argument (0.93) the server sets its executor up in.
@app.on_event("startup")
async def _start_executor():
    if sandbox_server.executor is None:
        sandbox_server.executor = LocalSandboxExecutor()


class _Announce(uvicorn.Server):
    async def startup(self, sockets=None):
        await super().startup(sockets=sockets)
        print(f"listening {self.config.port}", flush=True)


if __name__ == "__main__":
    port = int(sys.argv[1])
    server = _Announce(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    server.run()
