"""What the widgets and the quiz both need to show things: ipywidgets on demand,
PNG figures, errors in a widget, and display bundles with a text fallback.

Private, so that :mod:`helpers.widgets` and :mod:`helpers.quiz` both depend on it
and not on each other.
"""

import base64
import html
import io
import traceback

__all__ = ["require_ipywidgets", "figure_png", "show_error", "widget_bundle",
           "WIDGET_VIEW_MIMETYPE"]

WIDGET_VIEW_MIMETYPE = "application/vnd.jupyter.widget-view+json"


def require_ipywidgets():
    """Return the ``ipywidgets`` module, or explain how to get it.

    Raises
    ------
    ImportError
        If ipywidgets is not installed; the message says what to install and
        how to work without widgets.
    """
    try:
        import ipywidgets
    except ImportError as error:
        raise ImportError(
            "The course's interactive widgets need ipywidgets: run "
            "`pip install 'ipywidgets>=7.7'` and restart the kernel. Without widgets, "
            "train with helpers.train(...) and answer quiz questions with quiz.check(...)."
        ) from error
    return ipywidgets


def figure_png(fig, *, dpi=80):
    """Render a matplotlib Figure to PNG bytes (for an Image widget or a static display)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def show_error(html_widget, error):
    """Write an exception and its traceback into an HTML widget, for the learner to read.

    Widget callbacks run outside any cell, so an uncaught exception would
    only reach the browser's console; this puts it where the learner looks.
    """
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    html_widget.value = (f"<pre style='color:#b00020;white-space:pre-wrap'>"
                         f"{html.escape(text)}</pre>")


def widget_bundle(widget, text, *, html=None, png=None):
    """A display bundle: the widget where a widget front end exists, static views elsewhere.

    Every widget front end prefers the widget view to the other entries, so
    these only show where widgets cannot run: ``text`` in a terminal, and
    ``html`` or the ``png`` picture (bytes) on a static page (GitHub,
    nbviewer, an HTML export; ``tools/execute_notebooks.py`` saves the
    notebooks with these static views only). ipywidgets 7 and 8 both use
    version 2.0 of the view format.
    """
    bundle = {WIDGET_VIEW_MIMETYPE: {"version_major": 2, "version_minor": 0,
                                     "model_id": widget.model_id},
              "text/plain": text}
    if html is not None:
        bundle["text/html"] = html
    if png is not None:
        bundle["image/png"] = base64.b64encode(png).decode("ascii")
    return bundle
