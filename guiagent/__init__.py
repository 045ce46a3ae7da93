"""guiagent: a framework for multimodal GUI agents."""

__version__ = "0.1.0"
