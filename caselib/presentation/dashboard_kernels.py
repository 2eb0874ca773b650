"""The kernels behind the Voilà dashboard obey only what the dashboard needs.

Voilà lets the browser send a kernel widget messages and ``kernel_info_request``, and also
``shutdown_request``: any page could stop the dashboard's kernel from under it. This
kernel manager (``make dashboard`` passes it to Voilà) drops ``shutdown_request`` from that
list, so a shutdown or restart over the websocket is ignored; the page ends its own kernel
when it is closed through Voilà's own handler, as before. And tracebacks never reach the
page: an error shows a generic line, not the server's paths and code.

Importing this module needs jupyter_server (the ``dashboard`` extra).
"""

from __future__ import annotations

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from traitlets import Bool, Unicode, validate

__all__ = ["DashboardKernelManager", "REFUSED_MESSAGES"]

# Messages from the browser the dashboard never needs: they would stop or restart its kernel.
REFUSED_MESSAGES = ("shutdown_request",)


class DashboardKernelManager(AsyncMappingKernelManager):
    """Voilà's kernel manager, without shutdown from the browser and without tracebacks."""

    allow_tracebacks = Bool(False, config=True, help="Tracebacks stay in the server's log.")
    traceback_replacement_message = Unicode(
        "The dashboard met an error; the details are in the server's log.", config=True,
    )

    @validate("allowed_message_types")
    def _without_refused(self, proposal):
        allowed = [t for t in proposal["value"] if t not in REFUSED_MESSAGES]
        # An empty list would mean "everything allowed": keep at least what widgets need.
        return allowed or ["comm_open", "comm_close", "comm_msg", "comm_info_request", "kernel_info_request"]


class _WithoutTraceback:
    """A logging filter: a record keeps its message and the error's name, not the traceback
    (which names the server's files and shows its code)."""

    def filter(self, record) -> bool:
        if record.exc_info:
            kind = record.exc_info[0].__name__ if record.exc_info[0] else "error"
            record.msg = f"{record.getMessage()} ({kind}; details in the server's log)"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        record.stack_info = None
        return True


def keep_tracebacks_from_the_page() -> None:
    """In the dashboard's kernel: errors the kernel logs (a malformed widget message, say)
    reach the page as one line without a traceback. Call it once, from the dashboard."""
    import logging

    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    # A logger without handlers (ipykernel's comm manager's) falls back to logging.lastResort,
    # which writes to the kernel's stderr: the page.
    handlers = [h for logger in loggers for h in logger.handlers] + [logging.lastResort]
    for handler in handlers:
        if handler is not None and not any(isinstance(f, _WithoutTraceback) for f in handler.filters):
            handler.addFilter(_WithoutTraceback())
