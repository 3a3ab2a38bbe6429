"""Fail fast when the Hugging Face hub cannot be reached.

Without this, every hub call on an offline machine waits for its own network time-out (about
20 s each) before falling back to the cache. One quick probe decides for the whole process and
switches the hub libraries to offline mode, so cached files still load and missing ones fail at
once with a message that says how to provide them.
"""

from __future__ import annotations

import os
import socket
import sys
from functools import lru_cache
from urllib.parse import urlparse

OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")


def _hub_host() -> tuple[str, int]:
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    parsed = urlparse(endpoint)
    return parsed.hostname or "huggingface.co", parsed.port or (443 if parsed.scheme == "https" else 80)


@lru_cache(maxsize=1)
def hub_reachable(timeout_s: float = 2.0) -> bool:
    """True when a TCP connection to the hub opens within ``timeout_s`` (and offline mode is off)."""
    if any(os.environ.get(var, "").lower() in {"1", "true", "yes"} for var in OFFLINE_VARIABLES):
        return False
    host, port = _hub_host()
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def _switch_imported_libraries_offline() -> None:
    """``huggingface_hub`` and ``datasets`` read the offline flags once, at import (transformers asks
    ``huggingface_hub``).

    Setting the variables after they were imported would leave every load waiting for network
    time-outs, so the flags they already read are switched too.
    """
    hub_constants = sys.modules.get("huggingface_hub.constants")
    if hub_constants is not None:
        hub_constants.HF_HUB_OFFLINE = True
    datasets_config = sys.modules.get("datasets.config")
    if datasets_config is not None:
        datasets_config.HF_HUB_OFFLINE = True
        datasets_config.HF_DATASETS_OFFLINE = True


def prepare_hub_access() -> bool:
    """Probe once; when the hub is unreachable, set offline mode for this process. Returns reachability."""
    reachable = hub_reachable()
    if not reachable:
        for var in OFFLINE_VARIABLES:
            os.environ[var] = "1"
        _switch_imported_libraries_offline()
    return reachable
