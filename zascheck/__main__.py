import sys

from zascheck.cli import main

sys.exit(main())
