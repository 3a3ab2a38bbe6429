"""junkdna-bench: does a pruning method keep the knowledge that difficult downstream tasks need?"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("junkdna-bench")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"
