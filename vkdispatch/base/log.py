"""Logging for vkdispatch (a leaf module). `vd.log_info(...)` etc. go to the "vkdispatch" logger."""
import logging

logger = logging.getLogger("vkdispatch")
logger.addHandler(logging.NullHandler())

LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
              "error": logging.ERROR}


def set_log_level(level) -> None:
    """Set the level by name ('debug', 'info', 'warning', 'error') or logging constant;
    attaches a stderr handler the first time so messages are visible."""
    if isinstance(level, str):
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
