"""What the widgets and the quiz both show things with: ipywidgets on demand, PNG figures,
errors in a widget, display bundles with static fallbacks."""

import base64
import html
import io
import traceback

__all__ = ["require_ipywidgets", "figure_png", "show_error", "widget_bundle", "WIDGET_VIEW_MIMETYPE"]

WIDGET_VIEW_MIMETYPE = "application/vnd.jupyter.widget-view+json"


def require_ipywidgets():
    """The ``ipywidgets`` module; an ImportError says how to install it or work without."""
    try:
        import ipywidgets
    except ImportError as error:
        raise ImportError(
            "The course's interactive widgets need ipywidgets: run `pip install 'ipywidgets>=7.7'` and restart the "
            "kernel. Without widgets, train with helpers.train(...) and answer quiz questions with quiz.check(...)."
        ) from error
    return ipywidgets


def figure_png(fig, *, dpi=80):
    """Render a matplotlib Figure to PNG bytes (for an Image widget or a static display)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def show_error(html_widget, error):
    """Write an exception and its traceback into an HTML widget (a callback's error would
    otherwise reach only the browser's console)."""
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    html_widget.value = f"<pre style='color:#b00020;white-space:pre-wrap'>{html.escape(text)}</pre>"


def widget_bundle(widget, text, *, html=None, png=None):
    """A display bundle: the widget where a widget front end runs, else ``text`` (a terminal) or
    ``html`` or ``png`` bytes (a static page). ipywidgets 7 and 8 both use view format 2.0."""
    bundle = {WIDGET_VIEW_MIMETYPE: {"version_major": 2, "version_minor": 0, "model_id": widget.model_id},
              "text/plain": text}
    if html is not None:
        bundle["text/html"] = html
    if png is not None:
        bundle["image/png"] = base64.b64encode(png).decode("ascii")
    return bundle
