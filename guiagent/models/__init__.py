"""Models: the interface (``base``), family profiles (``profiles``), the message builder (``history``), backends
(``openai_backend``, ``local_backend``, imported only when used) and SPEC strings (``spec``).

    from guiagent.models import load_model, build_messages, Turn
"""

from guiagent.models.base import ImagePart, Message, Model, ModelResponse, Sampling, TextPart
from guiagent.models.history import Turn, build_messages
from guiagent.models.profiles import PROFILES, HistoryPolicy, Profile, get_profile, guess_family
from guiagent.models.spec import LoadedModel, load_model

__all__ = ["HistoryPolicy", "ImagePart", "LoadedModel", "Message", "Model", "ModelResponse", "PROFILES", "Profile",
           "Sampling", "TextPart", "Turn", "build_messages", "get_profile", "guess_family", "load_model"]
