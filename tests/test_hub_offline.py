"""A machine that cannot reach the Hugging Face hub fails in seconds, with one line that says the fix.

The hub is faked by local servers: one that accepts connections and never answers (a firewall
that swallows packets: the hub client, which sets no read time-out, would wait for ever), one
that answers every request (the online path must stay online), and a name lookup that hangs
(an unreachable resolver, which a socket time-out does not bound).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import datasets.config
import huggingface_hub.constants
import pytest

from junkdna_bench.data.sources import SourceUnavailable, read_hub
from junkdna_bench.data.specs import HubSource
from junkdna_bench.hub import OFFLINE_VARIABLES, PROBE_TIMEOUT_S, hub_reachable, prepare_hub_access
from junkdna_bench.models import (
    ModelSpec,
    ModelUnavailable,
    load_for_sequence_classification,
    load_tokenizer,
    resolve_model,
)

# The probe's bound, plus what loading from an empty cache costs on a slow shared machine.
FAST_S = PROBE_TIMEOUT_S + 10


@pytest.fixture
def fresh_probe(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No offline flag, an empty hub cache and a probe not yet run; all the probe switches is undone."""
    for variable in OFFLINE_VARIABLES:
        monkeypatch.setenv(variable, "")  # recorded, so the "1" the probe may set is undone too
        monkeypatch.delenv(variable)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf-home" / "hub"))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-home" / "datasets")
    hub_reachable.cache_clear()
    yield
    hub_reachable.cache_clear()


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """An endpoint that accepts every connection and never sends a byte."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


class _NotFound(BaseHTTPRequestHandler):
    def do_HEAD(self) -> None:
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def answering_endpoint() -> Iterator[str]:
    """An endpoint that answers every request at once (with 404: any answer means reachable)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _offline_flags() -> dict[str, object]:
    return {
        **{variable: os.environ.get(variable) for variable in OFFLINE_VARIABLES},
        "huggingface_hub": huggingface_hub.constants.HF_HUB_OFFLINE,
        "datasets": datasets.config.HF_DATASETS_OFFLINE,
    }


@pytest.mark.usefixtures("fresh_probe")
def test_a_silent_hub_is_found_unreachable_within_the_bound(
    silent_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", silent_endpoint)
    started = time.perf_counter()
    assert prepare_hub_access() is False
    assert time.perf_counter() - started < PROBE_TIMEOUT_S + 1
    assert set(_offline_flags().values()) == {"1", True}  # every hub library is now offline


@pytest.mark.usefixtures("fresh_probe")
def test_a_hanging_name_lookup_is_bounded_too(monkeypatch: pytest.MonkeyPatch) -> None:
    released = threading.Event()

    def hanging_lookup(*args: object, **kwargs: object) -> list[object]:
        released.wait(60)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", hanging_lookup)
    monkeypatch.setenv("HF_ENDPOINT", "https://hub.invalid")
    started = time.perf_counter()
    try:
        assert hub_reachable() is False
        assert time.perf_counter() - started < PROBE_TIMEOUT_S + 1
    finally:
        released.set()


@pytest.mark.usefixtures("fresh_probe")
def test_a_hub_that_answers_stays_online(answering_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", answering_endpoint)
    before = _offline_flags()
    assert prepare_hub_access() is True
    assert _offline_flags() == before  # nothing switched off for a machine that has the hub


@pytest.mark.usefixtures("fresh_probe")
def test_the_offline_flag_skips_the_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_request(*args: object, **kwargs: object) -> None:
        raise AssertionError("probed although HF_HUB_OFFLINE=1")

    monkeypatch.setattr("urllib.request.urlopen", no_request)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub_reachable() is False


def _assert_one_line_fix(message: str) -> None:
    assert "\n" not in message
    assert "the hub is unreachable from this machine" in message
    assert "hf download FacebookAI/roberta-base" in message and "--model /path/to/local/dir" in message


LOADS: dict[str, Callable[[ModelSpec], object]] = {
    "tokenizer": load_tokenizer,
    "model": lambda spec: load_for_sequence_classification(spec, 2, "single_label_classification"),
}


@pytest.mark.usefixtures("fresh_probe")
@pytest.mark.parametrize("part", sorted(LOADS))
def test_an_uncached_hub_model_fails_fast_in_one_line(
    part: str, silent_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", silent_endpoint)
    spec = resolve_model("roberta-base")
    started = time.perf_counter()
    with pytest.raises(ModelUnavailable) as caught:
        LOADS[part](spec)
    assert time.perf_counter() - started < FAST_S
    _assert_one_line_fix(str(caught.value))


@pytest.mark.usefixtures("fresh_probe")
def test_an_uncached_hub_dataset_fails_fast(silent_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", silent_endpoint)
    started = time.perf_counter()
    with pytest.raises(SourceUnavailable, match="the hub is unreachable"):
        read_hub(HubSource(path="nyu-mll/glue", name="rte"))
    assert time.perf_counter() - started < FAST_S


def test_run_with_a_silent_hub_ends_in_seconds_with_one_line(silent_endpoint: str, tmp_path: Path) -> None:
    """The command of the report: ``run --model roberta-base`` on a machine whose hub never answers."""
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_VARIABLES}
    env.update(HF_ENDPOINT=silent_endpoint, HF_HOME=str(tmp_path / "hf-home"), COLUMNS="400")
    command = ["run", "--model", "roberta-base", "--method", "magnitude", "--tier", "hard"]
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "junkdna_bench.cli", *command, "--results", str(tmp_path / "results")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    elapsed = time.perf_counter() - started
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output and "LocalEntryNotFoundError" not in output
    [error] = [line for line in output.splitlines() if line.startswith("error:")]
    _assert_one_line_fix(error)
    assert elapsed < 60, f"took {elapsed:.0f} s"  # imports included; waited for ever before
