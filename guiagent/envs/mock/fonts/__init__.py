"""Font files bundled with the mock desktop (a package only so that packaging picks up the .ttf files)."""
