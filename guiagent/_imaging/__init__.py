"""Private: screenshot imaging shared by the model layer and the recorder (resize, PNG encoding, the per-step
prepared screenshot). Not a public API; import what you need from ``guiagent`` or the layer packages."""
