"""The `element` schedule (`pimdsl.isa.element`): row-granular tokens between the layers of one
image, chunks of every core's image loop ordered by key, and a software pipeline of chunks.

Oracles: onnxruntime on zoo models (several partitions, cores holding many layers, pools,
concats, residual adds); geometry and token counts by hand."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from xdsl.dialects.builtin import ModuleOp

from pimdsl.dialects import pim_isa as isa
from pimdsl.isa import element
from pimdsl.isa.builder import Aff, CoreCode
from pimdsl.isa.element import Geometry, unit_tiles

ort = pytest.importorskip("onnxruntime")
models = pytest.importorskip("pimdsl.models")
frontend = pytest.importorskip("pimdsl.frontend")
from test_batch_schedule import _error_vs_onnxruntime, _executions, _lowered  # noqa: E402  (one way to lower a zoo model)


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("zoo_element_schedule")
    files = {}
    for name in ("resnet18", "squeezenet1_1", "googlenet", "mobilenetv2", "vgg11"):
        size = models.get_spec(name).min_image_size
        files[name] = models.save_model(name, d / f"{name}.onnx", seed=0, image_size=size)
    return files


@pytest.mark.parametrize("cores", [2, 5])
@pytest.mark.parametrize("name", ["resnet18", "squeezenet1_1", "googlenet", "mobilenetv2", "vgg11"])
def test_element_schedule_matches_onnxruntime(name: str, cores: int, zoo: dict[str, Path]) -> None:
    path = zoo[name]
    module = _lowered(path, 3, cores, "element")
    program = isa.find_program(module)
    assert program is not None
    assert any(isinstance(op, isa.RecvOp) and op.tag.value.data < 0 for op in program.walk())
    rel = _error_vs_onnxruntime(module, path, seed=5)
    assert rel <= 1e-4, f"{name}: max abs error / max abs reference = {rel:.3g}"


def test_element_schedule_emits_row_tokens_and_unrolled_tiles(zoo: dict[str, Path]) -> None:
    """Same MVMs per image as the layer schedule; more tokens (per tile, not per image)."""
    layer = _executions(_lowered(zoo["vgg11"], 2, 5, "layer"))
    elem = _executions(_lowered(zoo["vgg11"], 2, 5, "element"))
    assert elem["pim_isa.mvm"] == layer["pim_isa.mvm"] > 0
    assert elem["pim_isa.recv"] > layer["pim_isa.recv"]


# --- the pieces, by hand ----------------------------------------------------------------------


def test_geometry_rows_a_tile_reads() -> None:
    same = Geometry((3, 3), (1, 1), (1, 1, 1, 1), (1, 1), (8, 8))
    assert same.rows(0, 1) == (0, 1)  # row -1 is padding
    assert same.rows(3, 2) == (2, 5)
    assert same.rows(7, 1) == (6, 7)  # row 8 is padding
    down = Geometry((3, 3), (2, 2), (0, 0, 0, 0), (1, 1), (9, 9))
    assert down.rows(1, 1) == (2, 4)
    assert down.cols(0, 4) == (0, 8)
    dilated = Geometry((3, 3), (1, 1), (2, 2, 2, 2), (2, 2), (10, 10))
    assert dilated.rows(5, 1) == (3, 7)


def test_unit_tiles_unroll_groups_and_cut_rectangles_into_rows() -> None:
    tiles = [(0, 4, 0, 8, 2), (4, 1, 0, 8, 1)]
    assert unit_tiles(tiles, banded=True) == [(0, 2, 0, 8, 2), (2, 2, 0, 8, 2), (4, 1, 0, 8, 1)]
    # without line buffers a tile is a whole rectangle of windows: cut into rows
    assert unit_tiles([(3, 3, 2, 5, 3)], banded=False) == [
        (3, 1, 2, 5, 1),
        (4, 1, 2, 5, 1),
        (5, 1, 2, 5, 1),
    ]


def _producer(rows: int, per_tile: float) -> dict[int, list[element.Produced]]:
    """Core 1 wrote rows 0..rows-1 of an 8-wide map, one row a tile, `per_tile` ns each."""
    return {
        1: [
            element.Produced(y, 1, 0, 8, [], (y * per_tile, 1.0, 0.0, float(y)), (y + 1) * per_tile)
            for y in range(rows)
        ]
    }


def test_row_tokens_wait_once_for_the_last_producer_tile_a_tile_reads() -> None:
    codes: dict[int, CoreCode] = {}
    tags = iter(range(1, 100))
    produced = _producer(6, 10.0)
    geo = Geometry((3, 3), (1, 1), (1, 1, 1, 1), (1, 1), (6, 8))
    rt = element.RowTokens(
        lambda: next(tags),
        lambda c: codes.setdefault(c, CoreCode(c)),
        [("x", geo, produced)],
        {},
        step=2,
    )
    # output row 0 reads rows 0-1 -> tile 1; row 1 reads rows 0-2 -> tile 2; row 2 -> tile 3
    assert rt.needs((0, 1, 0, 8, 1)) == [("x", 1, 1)]
    assert rt.needs((1, 1, 0, 8, 1)) == [("x", 1, 2)]
    code = codes.setdefault(0, CoreCode(0))
    code.chunk_key = (10.0,)
    rt.before(0, (0, 1, 0, 8, 1))
    code.chunk_key = (20.0,)
    rt.before(0, (1, 1, 0, 8, 1))
    code.chunk_key = (30.0,)
    rt.before(0, (0, 1, 0, 8, 1))  # a chunk before it waited for a later tile: no token
    code.chunk_key = (5.0,)
    rt.before(0, (0, 1, 0, 8, 1))  # runs before both chunks that waited: a token of its own
    recvs = [op for op in code.ops if isinstance(op, isa.RecvOp)]
    assert [(op.peer.value.data, op.tag.value.data) for op in recvs] == [(1, -1), (1, -2), (1, -3)]
    sends = {k: [op.tag.value.data for op in produced[1][k].slot] for k in range(6)}
    assert sends == {0: [], 1: [-1, -3], 2: [-2], 3: [], 4: [], 5: []}
    # the consumer's own core needs no token: program order
    rt.before(1, (3, 1, 0, 8, 1))
    assert not codes[1].ops


def test_tiles_are_ordered_and_keyed_by_when_their_inputs_are_ready() -> None:
    # A replica of rows 3..5 of a 3x3 convolution under a producer whose row y runs from
    # 10y to 10(y + 1) ns: output row 3 reads rows 2-4 (row 4 ends at 50; ready one producer
    # tile later: 60); rows 4 and 5 read up to rows 5 and 6 (ready at 70 and 80). With 5 ns a
    # tile: starts 60, 70, 80.
    produced = _producer(7, 10.0)
    geo = Geometry((3, 3), (1, 1), (1, 1, 1, 1), (1, 1), (7, 8))
    rt = element.RowTokens(lambda: 1, lambda c: CoreCode(c), [("x", geo, produced)], {}, step=4)
    tiles = [(3, 1, 0, 8, 1), (4, 1, 0, 8, 1), (5, 1, 0, 8, 1)]
    ordered, keys, ends = rt.order(tiles, segment=1, durations=[5.0, 5.0, 5.0])
    assert ordered == tiles
    assert [k[0] for k in keys] == [60.0, 70.0, 80.0]
    assert ends == [65.0, 75.0, 85.0]
    assert keys[0][1:] == (4.0, 1.0, 0.0)
    # a top-halo tile whose producer rows come last runs last
    late = {
        1: [
            element.Produced(y, 1, 0, 8, [], (0.0, 1.0, 0.0, 0.0), 100.0 if y == 2 else 10.0)
            for y in range(7)
        ]
    }
    rt2 = element.RowTokens(lambda: 1, lambda c: CoreCode(c), [("x", geo, late)], {}, step=4)
    ordered, _, _ = rt2.order(tiles, segment=0, durations=[1.0, 1.0, 1.0])
    assert ordered[-1] == (3, 1, 0, 8, 1)


def test_chunks_run_in_key_order_as_a_software_pipeline() -> None:
    """A chunk of key t runs image n - floor(t / period) in iteration n, by t mod period."""
    code = CoreCode(0)
    code.open_loop("n", 3)
    for key, dst in [
        ((250.0, 2.0, 0.0, 0.0), 1),
        ((10.0, 1.0, 0.0, 0.0), 2),
        ((120.0, 1.0, 0.0, 1.0), 3),
    ]:
        code.chunk_key = key
        code.add(isa.VReluOp(code.addr(Aff.of(dst * 64, n=2)), code.addr(0), 1))
    code.period = 100.0
    code.close_loop()
    ops = code.finish()

    # stages 2, 0, 1: iterations 0..4; segments [0,1): key 10; [1,2): 10, 120; [2,3): 10, 120, 250
    # (by t mod period: 10, 20, 50); [3,4): 120, 250; [4,5): 250
    def dsts(loop: isa.LoopOp) -> list[int]:
        return [isa.ints(op.dst)[0] // 64 for op in loop.body.block.ops]  # type: ignore[attr-defined]

    assert [(loop.trip_count, dsts(loop)) for loop in ops] == [  # type: ignore[attr-defined]
        (1, [2]),
        (1, [2, 3]),
        (1, [2, 3, 1]),
        (1, [3, 1]),
        (1, [1]),
    ]


def test_only_a_token_names_a_buffer(parse: Callable[[str], ModuleOp]) -> None:
    from xdsl.utils.exceptions import VerifyException

    def program(tag: int) -> str:
        return f"""builtin.module {{ pim_isa.program elem_bytes 2 {{
  pim_isa.buffer "t" {{role = #pim_isa.role<temp>, shape = array<i64: 64>}}
  pim_isa.partition 0 {{
    pim_isa.core 0 {{ pim_isa.send {{peer = 1 : i64, src = array<i64: 0>, len = 1 : i64, tag = {tag} : i64, buffer = "t"}} }}
    pim_isa.core 1 {{ pim_isa.recv {{peer = 0 : i64, dst = array<i64: 0>, len = 1 : i64, tag = {tag} : i64, buffer = "t"}} }}
  }} }} }}"""

    module = parse(program(-4))
    module.verify()
    recv = next(op for op in module.walk() if isinstance(op, isa.RecvOp))
    assert recv.token_buffer == "t"
    with pytest.raises(VerifyException, match="only a token"):
        parse(program(4)).verify()
