"""The six mock apps, in taskbar order."""

from guiagent.envs.mock.apps.calculator import CalculatorApp
from guiagent.envs.mock.apps.editor import EditorApp
from guiagent.envs.mock.apps.files import FilesApp
from guiagent.envs.mock.apps.mail import MailApp
from guiagent.envs.mock.apps.settings import SettingsApp
from guiagent.envs.mock.apps.webform import WebFormApp

APP_CLASSES = (FilesApp, EditorApp, CalculatorApp, SettingsApp, MailApp, WebFormApp)

__all__ = ["APP_CLASSES", "CalculatorApp", "EditorApp", "FilesApp", "MailApp", "SettingsApp", "WebFormApp"]
