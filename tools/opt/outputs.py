"""pim-opt's outputs: the IR of `-o` held until the whole command succeeded (then staged into
place by `pimdsl.output`), the input files no output may overwrite, and `--report`."""

from __future__ import annotations

import io
import os
import sys
from typing import IO

from xdsl.dialects.builtin import ModuleOp

from pimdsl import module_attrs, output
from pimdsl.errors import PimError


class CapturedText(io.StringIO):
    """A text stream whose content survives `close()` (xDSL closes the -o stream)."""

    text = ""

    def close(self) -> None:
        if not self.closed:
            self.text = self.getvalue()
        super().close()


def protect_inputs(outputs: output.Outputs, source: str | None, module: ModuleOp | None) -> None:
    """The input file and the weight files its module names are never overwritten."""
    outputs.protect(source, "input file")
    specs = (module_attrs.get_weights(module) if module is not None else None) or []
    base = os.path.dirname(os.path.abspath(source)) if source else os.getcwd()
    for spec in specs:  # every weight file it names
        for candidate in (os.path.join(base, spec), os.path.abspath(spec)):
            outputs.protect(candidate, "weight file (pim.weights)")


def report_after_passes(module: ModuleOp, dest: str, output_file: str | None) -> None:
    """`--report DEST` after the pipeline; `-` with the IR on stdout prints the table on
    stderr, so stdout stays parseable."""
    ir_on_stdout = output_file in (None, "-")
    write_report(module, dest, sys.stderr if ir_on_stdout else sys.stdout)


def write_report(module: ModuleOp, dest: str, table_stream: IO[str] | None = None) -> None:
    """`--report`: the partition report of pimdsl.report (written by the partitioning pass);
    `dest` "-" prints a table on `table_stream`."""
    try:
        from pimdsl.report import write_report as write
    except ImportError as exc:
        if exc.name != "pimdsl.report":
            raise
        raise PimError(
            "--report needs pimdsl.report (the partition report), which this build does not have yet.",
            hint="Drop --report, or update pimdsl.",
        ) from None
    if dest == "-" and table_stream is not None:
        write(module, dest, table_stream=table_stream)
    else:
        write(module, dest)
