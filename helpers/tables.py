"""A results table: the numbers behind the curves, one row per run."""

import html

from .result import as_results, run_labels

__all__ = ["ResultsTable", "results_table"]

COLUMNS = ("run", "batch size", "learning rate", "updates / epoch", "updates",
           "train acc", "val acc", "val-loss jitter", "training seconds", "test acc")


class ResultsTable:
    """Rows of a results table; shows as HTML in Jupyter and as text elsewhere.

    Attributes
    ----------
    rows : list of dict
        One dict per run, keyed by ``COLUMNS``.
    """

    def __init__(self, rows):
        self.rows = rows
        # The test split is scored only for chosen settings: its column shows when every run has it.
        self.columns = tuple(c for c in COLUMNS
                             if c != "test acc" or all(r[c] is not None for r in rows))

    def _cells(self, row):
        out = []
        for column in self.columns:
            value = row[column]
            if isinstance(value, float):
                value = f"{value:.3f}" if column != "learning rate" else f"{value:g}"
            out.append(str(value))
        return out

    def __str__(self):
        table = [list(self.columns)] + [self._cells(r) for r in self.rows]
        widths = [max(len(line[i]) for line in table) for i in range(len(self.columns))]
        lines = ["  ".join(cell.rjust(w) if i else cell.ljust(w)
                           for i, (cell, w) in enumerate(zip(line, widths))) for line in table]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self):
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in self._cells(r))
                       + "</tr>" for r in self.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def results_table(results, *, labels=None):
    """Tabulate runs: batch size, learning rate, updates, final accuracies, jitter, time.

    Parameters
    ----------
    results : TrainResult or list of TrainResult
    labels : list of str, optional
        Names of the runs; default ``result.label``.

    Returns
    -------
    ResultsTable
        Displays as an HTML table in Jupyter; ``str()`` gives plain text.

    Examples
    --------
    >>> print(results_table([sgd, full], labels=["SGD", "batch GD"]))   # doctest: +SKIP
    """
    results = as_results(results)
    labels = run_labels(results, labels)
    rows = []
    for result, label in zip(results, labels):
        per_epoch = result.updates_per_epoch
        rows.append({
            "run": label + (f" (diverged at epoch {result.diverged_at})" if result.diverged else ""),
            "batch size": result.config["batch_size"],
            "learning rate": result.config["learning_rate"],
            "updates / epoch": per_epoch if isinstance(per_epoch, int) else "varies",
            "updates": int(result.updates[-1]),
            "train acc": result.final("accuracy"),
            "val acc": result.final("val_accuracy"),
            "val-loss jitter": result.jitter("val_loss"),
            "training seconds": result.seconds,
            "test acc": result.test_accuracy,
        })
    return ResultsTable(rows)
