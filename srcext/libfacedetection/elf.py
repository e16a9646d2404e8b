"""A small reader of 64-bit little-endian ELF shared libraries: exported symbols, their bytes, relocations.

Why: libfacedetection compiles YuNet's weights into ``libfacedetection.so`` as exported float arrays
(``backbone__model0_pw_weight``, ...) and a layer table (``param_pConvInfo``) whose pointers the dynamic
linker fills from ``.rela.dyn``. Reading those three things is all we need to rebuild the network, so this
module reads only them: the section headers, ``.dynsym`` with its ``.dynstr``, ``.rela.dyn``, and the file
offset of a virtual address (through the ``PT_LOAD`` program headers). Anything malformed or truncated is
an :class:`ElfError` naming what is wrong; nothing here executes or maps the library.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
ELFCLASS64 = 2
ELFDATA2LSB = 1
PT_LOAD = 1
SHT_DYNSYM = 11
SHT_RELA = 4
SHN_UNDEF = 0
R_X86_64_64 = 1

HEADER = struct.Struct("<16sHHIQQQIHHHHHH")
SECTION = struct.Struct("<IIQQQQIIQQ")
SEGMENT = struct.Struct("<IIQQQQQQ")
SYMBOL = struct.Struct("<IBBHQQ")
RELA = struct.Struct("<QQq")


class ElfError(ValueError):
    """The file is not a 64-bit little-endian ELF file, or a part of it is malformed or cut short."""


@dataclass(frozen=True)
class Symbol:
    name: str
    value: int  # virtual address
    size: int
    section: int


@dataclass(frozen=True)
class Relocation:
    offset: int  # virtual address that the linker writes
    kind: int
    symbol: str
    addend: int


@dataclass(frozen=True)
class _Section:
    kind: int
    offset: int
    size: int
    link: int
    entry_size: int


@dataclass(frozen=True)
class _Segment:
    offset: int
    address: int
    file_size: int


class ElfFile:
    """The parsed tables of one ELF file held in memory (a few hundred KB for libfacedetection)."""

    def __init__(self, data: bytes, origin: str = "ELF file") -> None:
        self.data = data
        self.origin = origin
        header = self._unpack(HEADER, 0, "ELF header")
        ident = header[0]
        if ident[:4] != ELF_MAGIC:
            raise ElfError(f"{origin}: not an ELF file (magic {ident[:4]!r})")
        if ident[4] != ELFCLASS64 or ident[5] != ELFDATA2LSB:
            raise ElfError(f"{origin}: only 64-bit little-endian ELF is read (class {ident[4]}, data {ident[5]})")
        ph_offset, sh_offset = header[5], header[6]
        ph_size, ph_count, sh_size, sh_count = header[9], header[10], header[11], header[12]
        if ph_count and ph_size != SEGMENT.size or sh_count and sh_size != SECTION.size:
            raise ElfError(f"{origin}: unexpected header entry sizes ({ph_size}, {sh_size})")
        self.sections = [self._section(sh_offset + i * SECTION.size, i) for i in range(sh_count)]
        headers = [self._unpack(SEGMENT, ph_offset + i * SEGMENT.size, f"program header {i}") for i in range(ph_count)]
        self.segments = [_Segment(h[2], h[3], h[5]) for h in headers if h[0] == PT_LOAD]
        self.symbols = self._dynamic_symbols()

    @classmethod
    def read(cls, path: Path) -> "ElfFile":
        return cls(Path(path).read_bytes(), str(path))

    def _unpack(self, layout: struct.Struct, offset: int, what: str) -> tuple:
        if offset < 0 or offset + layout.size > len(self.data):
            raise ElfError(f"{self.origin}: truncated: {what} at byte {offset} runs past the end ({len(self.data)})")
        return layout.unpack_from(self.data, offset)

    def _section(self, offset: int, index: int) -> _Section:
        _name, kind, _flags, _address, start, size, link, _info, _align, entry_size = self._unpack(
            SECTION, offset, f"section header {index}")
        return _Section(kind, start, size, link, entry_size)

    def _section_bytes(self, index: int, what: str) -> bytes:
        if not 0 <= index < len(self.sections):
            raise ElfError(f"{self.origin}: {what} names section {index}, which does not exist")
        section = self.sections[index]
        if section.offset + section.size > len(self.data):
            raise ElfError(f"{self.origin}: truncated: {what} (section {index}) runs past the end of the file")
        return self.data[section.offset:section.offset + section.size]

    def _dynamic_symbols(self) -> dict[str, Symbol]:
        found = [i for i, s in enumerate(self.sections) if s.kind == SHT_DYNSYM]
        if not found:
            raise ElfError(f"{self.origin}: no .dynsym section (no exported symbols)")
        table = self.sections[found[0]]
        if table.entry_size != SYMBOL.size:
            raise ElfError(f"{self.origin}: .dynsym entries of {table.entry_size} bytes, expected {SYMBOL.size}")
        raw = self._section_bytes(found[0], ".dynsym")
        names = self._section_bytes(table.link, ".dynstr")
        self._dynsym_names: list[str] = []
        symbols: dict[str, Symbol] = {}
        for start in range(0, len(raw) - SYMBOL.size + 1, SYMBOL.size):
            name_at, _info, _other, section, value, size = SYMBOL.unpack_from(raw, start)
            name = _c_string(names, name_at, self.origin)
            self._dynsym_names.append(name)
            if name and section != SHN_UNDEF:
                symbols[name] = Symbol(name, value, size, section)
        return symbols

    def file_offset(self, address: int, size: int) -> int:
        """The file offset of ``size`` bytes at virtual ``address``, which must lie in one loaded segment."""
        for segment in self.segments:
            if segment.address <= address and address + size <= segment.address + segment.file_size:
                return segment.offset + address - segment.address
        raise ElfError(f"{self.origin}: address 0x{address:x} (+{size} bytes) is in no loaded part of the file")

    def symbol_bytes(self, name: str) -> bytes:
        """The initialised bytes of exported data symbol ``name``."""
        symbol = self.symbols.get(name)
        if symbol is None:
            raise ElfError(f"{self.origin}: no exported symbol {name!r}")
        start = self.file_offset(symbol.value, symbol.size)
        if start + symbol.size > len(self.data):
            raise ElfError(f"{self.origin}: truncated: symbol {name!r} runs past the end of the file")
        return self.data[start:start + symbol.size]

    def relocations(self) -> list[Relocation]:
        """Every ``SHT_RELA`` entry that refers to ``.dynsym``, with its symbol's name ('' for none)."""
        out: list[Relocation] = []
        for index, section in enumerate(self.sections):
            if section.kind != SHT_RELA or section.entry_size != RELA.size:
                continue
            raw = self._section_bytes(index, "relocation table")
            for start in range(0, len(raw) - RELA.size + 1, RELA.size):
                offset, info, addend = RELA.unpack_from(raw, start)
                symbol_index = info >> 32
                if symbol_index >= len(self._dynsym_names):
                    raise ElfError(f"{self.origin}: relocation at 0x{offset:x} names symbol {symbol_index}, "
                                   f"beyond .dynsym ({len(self._dynsym_names)})")
                out.append(Relocation(offset, info & 0xFFFFFFFF, self._dynsym_names[symbol_index], addend))
        return out


def _c_string(table: bytes, start: int, origin: str) -> str:
    end = table.find(b"\0", start)
    if start >= len(table) or end < 0:
        raise ElfError(f"{origin}: truncated: a symbol name at {start} runs past .dynstr")
    return table[start:end].decode("ascii", errors="replace")
