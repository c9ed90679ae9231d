"""The spelling vkdispatch's docs once used (`vkdispatch.codegen.abreviations`); same names
as `vkdispatch.codegen.abbreviations`."""
from .abbreviations import *  # noqa: F401,F403
from .abbreviations import __all__  # noqa: F401
