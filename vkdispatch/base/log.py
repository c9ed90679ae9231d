"""Logging for vkdispatch (a leaf module). `vd.log_info(...)` etc. go to the "vkdispatch" logger."""
import enum
import inspect
import logging
import os

logger = logging.getLogger("vkdispatch")
logger.addHandler(logging.NullHandler())

LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
              "error": logging.ERROR}


class LogLevel(enum.IntEnum):
    """vkdispatch 0.1's log levels; each maps to a `logging` level (VERBOSE: DEBUG)."""
    VERBOSE = 0
    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def logging_level(self) -> int:
        return (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR)[self.value]


def set_log_level(level) -> None:
    """Set the level by name ('debug', 'info', 'warning', 'error') or logging constant;
    attaches a stderr handler the first time so messages are visible."""
    if isinstance(level, LogLevel):
        level = level.logging_level
    elif isinstance(level, str):
        if level.lower() not in LOG_LEVELS:
            raise ValueError(f"level must be one of {sorted(LOG_LEVELS)}, got {level!r}")
        level = LOG_LEVELS[level.lower()]
    if not any(isinstance(h, logging.StreamHandler) and not isinstance(h, logging.NullHandler)
               for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[vkdispatch %(levelname)s] %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)


def log_debug(msg, *args):
    logger.debug(msg, *args)


def log_info(msg, *args):
    logger.info(msg, *args)


def log_warning(msg, *args):
    logger.warning(msg, *args)


def log_error(msg, *args):
    logger.error(msg, *args)


def log(text: str, end: str = "\n", level: LogLevel = LogLevel.ERROR, stack_offset: int = 1):
    """vkdispatch 0.1's log call: `text` at `level`, with the caller's file:line."""
    frame = inspect.stack()[stack_offset]
    where = f"{os.path.relpath(frame.filename)}:{frame.lineno}"
    logger.log(LogLevel(level).logging_level, "%s %s", where, text.rstrip(end) if end else text)


def log_verbose(text: str, end: str = "\n"):
    log(text, end, LogLevel.VERBOSE, 2)
