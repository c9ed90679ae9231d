"""`python -m vkdispatch`: vdlist, as in vkdispatch 0.1."""
import sys

from .cli import main

sys.exit(main())
