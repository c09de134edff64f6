"""kg: an open knowledge graph of AI risk mitigations."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kg")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+source"
