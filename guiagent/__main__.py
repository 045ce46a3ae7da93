import sys

from guiagent.cli import main

sys.exit(main())
