import sys

from tinycodegen.cli import main

sys.exit(main())
