"""crossbar-level module -> pim_isa program (the `crossbar-to-isa` pass).

The program processes `images` = pim.batch x N images (N = @main's batch dimension). Per
partition, every core runs: its weight writes (ld_weight + wr_xbar per tile), then, in the
partition's program order, the steps it takes part in, each in its own loop over the images.
A step reads its inputs from DRAM and writes its output to DRAM. Cores meet by point-to-point
tokens, not barriers: after a step, each core that stored a value sends a 1-element token
(negative tag) per image to every other core of each later step reading it, which receives it
before that image. So a producer never waits for its consumers, and layers on different cores
overlap over the batch (a core holding several layers runs them one after another, each over
all images). Partial sums of row tiles on other cores travel by send/recv inside the window
loop of the block's home core (the lowest core id among its tiles, so messages always flow
from higher to lower ids).

@main becomes `pim_isa.execute` of the program on its arguments (retyped to hold all images).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ModuleOp,
    TensorType,
    f32,
)
from xdsl.ir import Attribute, Block, Region, SSAValue

from pimdsl.chip import Chip
from pimdsl.dialects import crossbar as xb
from pimdsl.dialects import nn
from pimdsl.dialects import pim_isa as isa
from pimdsl.errors import PimError
from pimdsl.isa import line_buffer as lb
from pimdsl.isa.builder import Aff, CoreCode
from pimdsl.isa.emit import Emit
from pimdsl.isa.emit_layout import chw_to_nhwc, nhwc_to_chw
from pimdsl.isa.emitters import shape, where
from pimdsl.isa.placement import NEG_INF, Place, feature_map, plain
from pimdsl.isa.state import PartitionState
from pimdsl.module_attrs import SCHEDULE_POLICIES, get_batch, get_chip
from pimdsl.network import main_func
from pimdsl.shapes import pair, quad


def _pads_needed(
    x: tuple[int, ...],
    kernel: tuple[int, int],
    strides: tuple[int, int],
    pads: tuple[int, ...],
    dil: tuple[int, int],
    out_hw: tuple[int, int],
) -> tuple[int, int, int, int]:
    """Halo a window loop reads: top/left as given, bottom/right as far as the last window goes."""
    h, w = x[2], x[3]
    last_y = (out_hw[0] - 1) * strides[0] + (kernel[0] - 1) * dil[0] - pads[0]
    last_x = (out_hw[1] - 1) * strides[1] + (kernel[1] - 1) * dil[1] - pads[1]
    return pads[0], pads[1], max(0, last_y - (h - 1)), max(0, last_x - (w - 1))


@dataclass
class Need:
    pads: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    zero: bool = False  # a reader needs a zero halo (convolution, average pool)
    neg_inf: bool = False  # a reader needs a -inf halo (max pool)

    def add(self, pads: tuple[int, int, int, int], fill: float) -> None:
        if not any(pads):
            return
        self.pads = [max(a, b) for a, b in zip(self.pads, pads, strict=True)]
        if fill == 0.0:
            self.zero = True
        else:
            self.neg_inf = True


class Lowering:
    def __init__(self, module: ModuleOp, elem_bytes: int, schedule: str = "layer"):
        chip = get_chip(module)
        if chip is None:
            raise PimError(
                "crossbar-to-isa needs the chip: the module has no pim.chip attribute.",
                hint="Pass --chip NAME to pim-opt.",
            )
        self.module = module
        self.chip: Chip = chip
        self.elem = elem_bytes
        if schedule not in SCHEDULE_POLICIES:
            raise PimError(
                f"crossbar-to-isa: unknown schedule '{schedule}'; expected one of "
                f"{', '.join(SCHEDULE_POLICIES)}."
            )
        self.schedule = schedule
        self.part_schedule = "layer"  # the schedule of the partition being lowered
        self.batch = get_batch(module)
        self.fn = main_func(module)
        self.canon: dict[SSAValue, SSAValue] = {}
        self.needs: dict[SSAValue, Need] = {}
        self.places: dict[SSAValue, Place] = {}
        self.buffers: dict[str, tuple[tuple[int, ...], float]] = {}
        self.roles: dict[str, str] = {}
        self.counter = 0
        self.images = 0

    # --- values ----------------------------------------------------------------------------

    def c(self, v: SSAValue) -> SSAValue:
        return self.canon.get(v, v)

    def new_buffer(self, hint: str) -> str:
        self.counter += 1
        return f"t{self.counter}.{hint}"

    def declare(self, place: Place) -> Place:
        if place.buffer not in self.buffers:
            self.buffers[place.buffer] = (place.shape, place.fill)
        return place

    def place_for(self, v: SSAValue, hint: str) -> Place:
        """The DRAM place of a value about to be stored (created on first request)."""
        v = self.c(v)
        if v in self.places:
            return self.places[v]
        s = shape(v)
        name = self.new_buffer(hint)
        if len(s) == 4:
            need = self.needs.get(v, Need())
            if need.zero and need.neg_inf:
                raise PimError(
                    f"crossbar-to-isa: a feature map {list(s)} is read both by a padded "
                    "convolution (zero halo) and a padded max pool (-inf halo); this layout "
                    "conflict is not supported yet."
                )
            fill = NEG_INF if need.neg_inf else 0.0
            place = feature_map(name, (self.images, *s[1:]), tuple(need.pads), fill)  # type: ignore[arg-type]
        else:
            place = plain(name, (self.images, *s[1:]))
        self.places[v] = self.declare(place)
        return place

    # --- the module ------------------------------------------------------------------------

    def run(self) -> None:
        block = self.fn.body.block
        parts = [op for op in block.ops if isinstance(op, xb.PartitionOp)]
        ret = block.last_op
        others = [
            op
            for op in block.ops
            if op not in parts and op is not ret and not isinstance(op, nn.WeightOp | nn.ConstantOp)
        ]
        if not parts or not isinstance(ret, func.ReturnOp) or others:
            bad = where(others[0]) if others else "no crossbar.partition"
            raise PimError(
                f"crossbar-to-isa expects @main to hold only crossbar.partition ops and "
                f"func.return (found {bad}).",
                hint="Run --partition (or --ga-group) and --partition-to-crossbar first, or "
                "--lower-to-isa for the whole flow.",
            )
        args: list[SSAValue] = list(self.fn.body.block.args)
        ns = {shape(a)[0] for a in args} | {shape(v)[0] for v in ret.operands}
        if len(ns) != 1:
            raise PimError(
                "crossbar-to-isa: @main's inputs and outputs must share one batch dimension."
            )
        self.images = self.batch * ns.pop()
        for p in parts:
            inner = p.body.block
            for arg, operand in zip(inner.args, p.inputs, strict=True):
                self.canon[arg] = self.c(operand)
            last = inner.last_op
            assert isinstance(last, xb.YieldOp)
            for res, v in zip(p.outputs, last.values, strict=True):
                self.canon[res] = self.c(v)
        self.plan_halos(parts)
        # Network inputs: row-major buffers the host fills; feature maps are relaid as NHWC.
        in_names = []
        for i, a in enumerate(args):
            name = "input" if len(args) == 1 else f"input{i}"
            in_names.append(name)
            s = (self.images, *shape(a)[1:])
            self.buffers[name] = (s, 0.0)
            self.roles[name] = "input"
            if len(s) != 4:
                self.places[a] = plain(name, s)
        out_names = [""] * len(ret.operands)  # filled by the partition that produces each
        partitions = []
        for k, p in enumerate(parts):
            partitions.append(self.partition(k, p, args, in_names, list(ret.operands), out_names))
        if not all(out_names):
            raise PimError("crossbar-to-isa: a result of @main is not computed by any partition.")
        buffers = [
            isa.BufferOp(name, s, self.roles.get(name, "temp"), fill)
            for name, (s, fill) in self.buffers.items()
        ]
        program = isa.ProgramOp(self.elem, [*buffers, *partitions])
        self.rewrite_main(program, in_names, out_names)

    def plan_halos(self, parts: list[xb.PartitionOp]) -> None:
        for p in parts:
            for op in p.body.block.ops:
                if isinstance(op, xb.Im2colOp):
                    x = shape(op.input)
                    pads = _pads_needed(
                        x,
                        pair(xb.ints(op.kernel)),
                        pair(xb.ints(op.strides)),
                        quad(xb.ints(op.pads)),
                        pair(xb.ints(op.dilations)),
                        op.out_hw(),
                    )
                    self.needs.setdefault(self.c(op.input), Need()).add(pads, 0.0)
                elif isinstance(op, nn.MaxPoolOp | nn.AvgPoolOp):
                    x, y = shape(op.input), shape(op.output)
                    pads = _pads_needed(
                        x,
                        pair(nn.ints(op.kernel)),
                        pair(nn.ints(op.strides)),
                        quad(nn.ints(op.pads)),
                        op.dilation_values(),
                        pair(y[2:]),
                    )
                    fill = NEG_INF if isinstance(op, nn.MaxPoolOp) else 0.0
                    self.needs.setdefault(self.c(op.input), Need()).add(pads, fill)

    def rewrite_main(
        self, program: isa.ProgramOp, in_names: list[str], out_names: list[str]
    ) -> None:
        block = self.fn.body.block
        ret = block.last_op
        assert isinstance(ret, func.ReturnOp)

        def widen(t: Attribute) -> TensorType[Attribute]:
            assert isinstance(t, TensorType)
            s = list(t.get_shape())
            s[0] = self.images
            return TensorType(f32, s)

        out_types = [widen(v.type) for v in ret.operands]
        in_types = [widen(a.type) for a in block.args]
        body = Block(arg_types=in_types)
        for new, old in zip(body.args, block.args, strict=True):
            new.name_hint = old.name_hint
        execute = isa.ExecuteOp(list(body.args), in_names, out_names, out_types)
        body.add_ops([execute, func.ReturnOp(*execute.results)])
        main = func.FuncOp(self.fn.sym_name.data, (in_types, out_types), Region(body))
        parent = self.module.body.block
        parent.insert_op_before(program, self.fn)
        parent.insert_op_before(main, self.fn)
        self.fn.detach()
        self.fn.erase(safe_erase=False)

    # --- one partition ---------------------------------------------------------------------

    def partition(
        self,
        k: int,
        p: xb.PartitionOp,
        args: list[SSAValue],
        in_names: list[str],
        returned: list[SSAValue],
        out_names: list[str],
    ) -> isa.PartitionOp:
        # the schedule the partition pass costed this partition for, unless the pass option
        # overrides it for every partition
        self.part_schedule = p.schedule_name if self.schedule == "auto" else self.schedule
        tiles = p.tiles()
        part_cores = sorted({t.core_index for t in tiles}) or [0]
        e = Emit(self.chip, self.elem, self.images, {})
        if self.part_schedule == "element":
            e.tile_rows = lb.ELEMENT_ROWS
        # Weight writes: stage each tile's block in local memory, program its crossbar.
        for t in sorted(tiles, key=lambda t: (t.core_index, t.xbar_index)):
            code = e.code(t.core_index)
            rows, cols = t.block_shape
            code.add(
                isa.LdWeightOp(
                    t.weight.data,
                    t.layout.data,
                    pair(xb.ints(t.rows)),
                    pair(xb.ints(t.cols)),
                    code.addr(0),
                    groups=t.group_count,
                )
            )
            code.add(isa.WrXbarOp(t.xbar_index, code.addr(0), rows, cols))
        state = PartitionState(self, e, part_cores)
        # Network inputs read here for the first time: relayout to padded NHWC.
        for a, name in zip(args, in_names, strict=True):
            if a not in self.places and any(self.c(o) is a for o in p.inputs):
                place = self.place_for(a, "input")
                core = state.vector_core()
                state.sync({core}, [])
                chw_to_nhwc(e, core, name, (self.images, *shape(a)[1:]), place, "input relayout")
                state.wrote(a, {core})
        state.body(p)
        # Network outputs produced here: a feature map is relaid as row-major NCHW; any other
        # value's buffer is the output buffer as it is.
        last = p.body.block.last_op
        assert isinstance(last, xb.YieldOp)
        produced = {self.c(v) for v in last.values}
        for i, v in enumerate(returned):
            v = self.c(v)
            if v not in produced or out_names[i]:
                continue
            place = self.places[v]
            if place.rank == 4 and (place.padded or place.h * place.w != 1):
                name = "output" if len(returned) == 1 else f"output{i}"
                out = plain(name, (self.images, math.prod(shape(v)[1:])))
                self.buffers[name] = ((self.images, *shape(v)[1:]), 0.0)
                core = state.vector_core([v])
                state.sync({core}, [v])
                nhwc_to_chw(e, core, place, out, "output relayout")
            else:
                name = place.buffer
            out_names[i] = name
            self.roles[name] = "output"
        state.close()
        cores = [isa.CoreOp(c, e.cores[c].finish()) for c in sorted(e.cores) if e.cores[c].finish()]
        return isa.PartitionOp(k, cores)


def lower_module(module: ModuleOp, elem_bytes: int = 2, schedule: str = "auto") -> dict[str, Any]:
    """Rewrite a crossbar-level module in place into a pim_isa program; returns a summary.
    `schedule`: "layer" (each step of a core over the whole batch, then the next), "batch"
    (a core's steps as a software pipeline over the images, `pimdsl.isa.pipeline`) or "auto"
    (each partition's `schedule` property, which the partition pass costed; absent: layer)."""
    low = Lowering(module, elem_bytes, schedule)
    low.run()
    return {"images": low.images, "buffers": len(low.buffers)}


__all__ = ["Aff", "CoreCode", "Lowering", "lower_module"]
