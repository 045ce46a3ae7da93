"""Real X11 programs and helpers for the desktop-environment tests (Xvfb, a Tk test app, xterm)."""
