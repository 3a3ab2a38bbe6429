"""Fail fast when the Hugging Face hub cannot be reached.

Without this, every hub call on an offline machine waits for its own network time-out (about
20 s each, and for ever where a firewall accepts connections and never answers: the hub client
sets no read time-out) before falling back to the cache. One quick probe decides for the whole
process and switches the hub libraries to offline mode, so cached files still load and missing
ones fail at once with a message that says how to provide them.

The probe asks what the hub libraries would ask: one HTTP request to the hub endpoint, through
the proxies of the environment, that must be answered within :data:`PROBE_TIMEOUT_S` seconds in
all (name lookup included, which a socket time-out does not bound). Any answer, even an error
status or a certificate the system refuses, counts as reachable and leaves the hub libraries to
do the rest, so a machine with the hub keeps the online path.
"""

from __future__ import annotations

import os
import ssl
import sys
import threading
import urllib.error
import urllib.request
from functools import lru_cache

OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")
# The hub answers in well under a second where it can be reached at all.
PROBE_TIMEOUT_S = 3.0


def _hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def _answers(url: str, timeout_s: float) -> bool:
    """Whether an HTTP server answers ``url`` (any status), reached the way the hub libraries go."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout_s):
            return True
    except urllib.error.HTTPError:
        return True  # an error status is an answer; the hub library reports what it means
    except urllib.error.URLError as exc:
        return isinstance(exc.reason, ssl.SSLError)  # TLS answered; the library has its own CA bundle
    except (OSError, ValueError):  # a time-out or reset while reading, or a malformed HF_ENDPOINT
        return False


@lru_cache(maxsize=1)
def hub_reachable(timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """True when the hub endpoint answers within ``timeout_s`` in all (and offline mode is off)."""
    if any(os.environ.get(var, "").lower() in {"1", "true", "yes"} for var in OFFLINE_VARIABLES):
        return False
    answer: list[bool] = []
    probe = threading.Thread(
        target=lambda: answer.append(_answers(_hub_endpoint(), timeout_s)), name="hub-probe", daemon=True
    )
    probe.start()
    probe.join(timeout_s)  # a hung name lookup is left to the daemon thread
    return bool(answer) and answer[0]


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
