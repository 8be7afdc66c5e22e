"""Cross-compile a model into the bare-metal measurement harness, with a cache.

Each image is ``startup.c`` (vector table, reset handler) + a generated glue
``tcg_bench_glue.c`` that includes ``NAME.h`` + ``NAME.c``, linked with
``-nostartfiles -Wl,--gc-sections`` and the harness linker script filled in for
a memory map.  The *stub* image links the same harness and glue with a model
that does nothing (``harness/tcg_stub.c``): model flash/RAM are image sizes
minus the stub's, so the soft-float and libm routines a model pulls in count
as the model's, and a do-nothing model measures 0 bytes.

Builds are cached in ``cache_dir/<target>/<key>/`` where the key hashes the C
sources, the harness, the flags and the compiler version.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tinycodegen.targets.toolchain import (
    COMMON_CFLAGS,
    FLASH_ORIGIN,
    RAM_ORIGIN,
    MemoryMap,
    TargetSpec,
    content_key,
    cross_libc,
    find_cross_gcc,
    harness_text,
    model_sources,
    run_tool,
    tool_version,
)

GLUE = "tcg_bench_glue.c"
_FLASH_SECTIONS = (".text", ".rodata", ".ARM.extab", ".ARM.exidx", ".tdata", ".data")
_RAM_SECTIONS = (".tdata", ".data", ".tbss", ".bss")


@dataclass(frozen=True)
class ImageSizes:
    """Bytes of the linked image: flash = text+rodata+data, RAM = data+bss (no stack)."""

    flash: int
    ram: int
    sections: dict[str, int]


@dataclass(frozen=True)
class BuiltImage:
    elf: Path
    sizes: ImageSizes
    memory_map: MemoryMap
    libc: str
    cflags: tuple[str, ...]


def render_linker_script(mm: MemoryMap) -> str:
    return (
        harness_text("link.ld.in")
        .replace("@FLASH_LEN@", str(mm.flash))
        .replace("@RAM_LEN@", str(mm.ram))
        .replace("@STACK_SIZE@", str(mm.stack))
    )


STUB_NAME = "tcg_stub"


def render_glue(name: str) -> str:
    return harness_text("glue.c.in").replace("@NAME@", name).replace("@UPPER@", name.upper())


def image_sizes(elf: Path) -> ImageSizes:
    from elftools.elf.elffile import ELFFile

    with open(elf, "rb") as fh:
        sections = {
            s.name: s["sh_size"]
            for s in ELFFile(fh).iter_sections()
            if s["sh_flags"] & 0x2  # SHF_ALLOC
        }
    flash = sum(sections.get(n, 0) for n in _FLASH_SECTIONS)
    ram = sum(sections.get(n, 0) for n in _RAM_SECTIONS)
    return ImageSizes(flash, ram, sections)


def _overflowed(message: str) -> bool:
    return "overflowed by" in message or "will not fit in region" in message


def build_image(
    spec: TargetSpec,
    c_dir: Path | None,
    name: str | None,
    cache_dir: Path,
    memory_map: MemoryMap,
) -> BuiltImage:
    """Link ``name`` (or the stub when ``name`` is None) for ``spec``; cached."""
    gcc = find_cross_gcc()
    libc, libc_flags = cross_libc(gcc)
    cflags = (*spec.cpu_flags, *COMMON_CFLAGS, "-Wall", *libc_flags)
    ldflags = ("-nostartfiles", "-Wl,--gc-sections", "-Wl,--no-warn-rwx-segments")
    if c_dir is None or name is None:  # the baseline: the do-nothing model
        name = STUB_NAME
        sources = [(f, harness_text(f).encode()) for f in ("tcg_stub.c", "tcg_stub.h")]
    else:
        c_file, h_file, headers = model_sources(c_dir, name)
        sources = [(p.name, p.read_bytes()) for p in (c_file, h_file, *headers)]
    glue = render_glue(name)
    script = render_linker_script(memory_map)
    key = content_key(
        [
            tool_version(gcc),
            " ".join(cflags + ldflags),
            harness_text("startup.c"),
            glue,
            script,
            *[f"{n}\0" for n, _ in sources],
            *[data for _, data in sources],
        ]
    )
    out_dir = cache_dir / spec.name / f"{name}-{memory_map.name}-{key}"
    elf = out_dir / "image.elf"
    if not elf.is_file():
        _link(gcc, cflags, ldflags, sources, glue, script, out_dir, spec, memory_map)
    return BuiltImage(elf, image_sizes(elf), memory_map, libc, cflags)


def _link(
    gcc: str,
    cflags: tuple[str, ...],
    ldflags: tuple[str, ...],
    sources: list[tuple[str, bytes]],
    glue: str,
    script: str,
    out_dir: Path,
    spec: TargetSpec,
    mm: MemoryMap,
) -> None:
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=out_dir.parent))
    try:
        for fname, data in sources:
            (work / fname).write_bytes(data)
        (work / GLUE).write_text(glue)
        (work / "startup.c").write_text(harness_text("startup.c"))
        (work / "link.ld").write_text(script)
        c_files = [GLUE] + [n for n, _ in sources if n.endswith(".c")]
        cmd = [gcc, *cflags, "-I.", "-c"]
        run_tool([*cmd, "-fno-tree-loop-distribute-patterns", "startup.c"], "harness", work)
        run_tool([*cmd, *c_files], f"cross-compiling for {spec.name}", work)
        objs = ["startup.o"] + [Path(c).with_suffix(".o").name for c in c_files]
        link = [gcc, *cflags, *ldflags, "-T", "link.ld", "-Wl,-Map,image.map"]
        run_tool([*link, *objs, "-lm", "-o", "image.elf"], f"linking for {spec.name}", work)
        try:
            os.replace(work, out_dir)
        except OSError:  # another process finished the same build first
            if not (out_dir / "image.elf").is_file():
                raise
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


def link_or_grow(
    spec: TargetSpec, c_dir: Path | None, name: str | None, cache_dir: Path
) -> BuiltImage:
    """Link into the large map, falling back to the huge one if the model is bigger."""
    from tinycodegen.errors import BuildError
    from tinycodegen.targets.toolchain import HUGE_MAP, LARGE_MAP

    try:
        return build_image(spec, c_dir, name, cache_dir, LARGE_MAP)
    except BuildError as exc:
        if not _overflowed(str(exc)):
            raise
    return build_image(spec, c_dir, name, cache_dir, HUGE_MAP)


__all__ = [
    "FLASH_ORIGIN",
    "RAM_ORIGIN",
    "BuiltImage",
    "ImageSizes",
    "build_image",
    "image_sizes",
    "link_or_grow",
    "render_glue",
    "render_linker_script",
]
