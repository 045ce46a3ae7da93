"""Models: the interface (``base``), family profiles (``profiles``), the message builder (``history``), backends
(``openai_backend``, ``local_backend``, imported only when used) and config files (``config``). Building a
model from a SPEC string is one layer up, in ``guiagent.agent.spec`` (``guiagent.load_model``).

    from guiagent.models import build_messages, Turn
"""

from guiagent.models.base import ImagePart, Message, Model, ModelResponse, Sampling, TextPart
from guiagent.models.history import Turn, build_messages
from guiagent.models.profiles import PROFILES, HistoryPolicy, Profile, get_profile, guess_family

__all__ = ["HistoryPolicy", "ImagePart", "Message", "Model", "ModelResponse", "PROFILES", "Profile",
           "Sampling", "TextPart", "Turn", "build_messages", "get_profile", "guess_family"]
