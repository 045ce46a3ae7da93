"""The stub OpenAI-compatible server now ships in the package (``guiagent.testing.stub_openai``); this name stays
so ``from stub_openai import StubOpenAI`` in the project's tests keeps working."""

from guiagent.testing.stub_openai import RecordedRequest, Reply, StubOpenAI  # noqa: F401
