"""Gettext catalogues without GNU gettext: read a .po file, write it back, compile a .mo.

`make setup` compiles the translations with `mutualaid compilemessages` (GNU msgfmt) when
msgfmt is installed, and with this module otherwise, so a machine without gettext still
gets a working Spanish site. The tests use `parse` to check that the Spanish catalogue is
complete (every message translated, none fuzzy).

    python -m mutualaid.lib.po compile mutualaid/locale      # every django.po below it

Framework-free. Supports what Django's catalogues use: msgctxt, plural forms, flags
("#, fuzzy", "#, python-format"), comments, obsolete entries ("#~", skipped).
"""

from __future__ import annotations

import ast
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Entry:
    msgid: str
    msgstr: list[str]  # one string, or one per plural form
    msgctxt: str | None = None
    msgid_plural: str | None = None
    flags: set[str] = field(default_factory=set)
    comments: list[str] = field(default_factory=list)  # "#: ...", "#. ...", "# ..." lines

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    @property
    def translated(self) -> bool:
        return all(self.msgstr) and bool(self.msgstr)

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)


class POError(ValueError):
    """A line of a .po file that cannot be read; the message names the line."""


def _unquote(text: str, where: str) -> str:
    text = text.strip()
    if not (len(text) >= 2 and text[0] == '"' and text[-1] == '"'):
        raise POError(f"{where}: expected a quoted string, got {text!r}")
    try:
        return ast.literal_eval(text)
    except (SyntaxError, ValueError) as exc:
        raise POError(f"{where}: bad string {text!r} ({exc})") from None


def parse(text: str, *, name: str = "<po>") -> list[Entry]:
    """Every entry of a .po file, the header (msgid "") first. Obsolete entries are left out."""
    entries: list[Entry] = []
    current: dict | None = None
    comments: list[str] = []
    flags: set[str] = set()
    last: tuple[str, int | None] | None = None

    def finish():
        nonlocal current
        if current is not None:
            strs = current["msgstr"]
            entries.append(
                Entry(
                    msgid=current["msgid"],
                    msgstr=[strs[i] for i in sorted(strs)],
                    msgctxt=current.get("msgctxt"),
                    msgid_plural=current.get("msgid_plural"),
                    flags=current["flags"],
                    comments=current["comments"],
                )
            )
        current = None

    for number, raw in enumerate(text.splitlines(), 1):
        where = f"{name}:{number}"
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#"):
            if current is not None and current["msgstr"]:
                finish()
            if line.startswith("#,"):
                flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
            else:
                comments.append(line)
            continue
        if line.startswith('"'):
            if last is None or current is None:
                raise POError(f"{where}: a string continues nothing")
            keyword, index = last
            value = _unquote(line, where)
            if keyword == "msgstr":
                current["msgstr"][index] += value
            else:
                current[keyword] += value
            continue
        keyword, _, rest = line.partition(" ")
        # A new entry starts with msgctxt or msgid once the previous one has its msgstr.
        if keyword in ("msgctxt", "msgid") and (current is None or current["msgstr"]):
            finish()
            current = {"msgstr": {}, "flags": flags, "comments": comments}
            flags, comments = set(), []
        if current is None:
            raise POError(f"{where}: {keyword} before any msgid")
        if keyword in ("msgctxt", "msgid", "msgid_plural"):
            current[keyword] = _unquote(rest, where)
            last = (keyword, None)
        elif keyword == "msgstr":
            current["msgstr"][0] = _unquote(rest, where)
            last = ("msgstr", 0)
        elif keyword.startswith("msgstr[") and keyword.endswith("]"):
            index = int(keyword[7:-1])
            current["msgstr"][index] = _unquote(rest, where)
            last = ("msgstr", index)
        else:
            raise POError(f"{where}: unknown keyword {keyword!r}")
    finish()
    return entries


def _quote(text: str) -> str:
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{out}"'


def _field(keyword: str, text: str) -> str:
    if "\n" in text.rstrip("\n"):
        parts = text.splitlines(keepends=True)
        return f'{keyword} ""\n' + "\n".join(_quote(p) for p in parts)
    return f"{keyword} {_quote(text)}"


def dumps(entries: list[Entry]) -> str:
    """A .po file for these entries (no line wrapping)."""
    blocks = []
    for entry in entries:
        # Comments, references, flags, then the previous msgid ("#|"), as gettext orders them.
        lines = [c for c in entry.comments if not c.startswith("#|")]
        if entry.flags:
            lines.append("#, " + ", ".join(sorted(entry.flags)))
        lines += [c for c in entry.comments if c.startswith("#|")]
        if entry.msgctxt is not None:
            lines.append(_field("msgctxt", entry.msgctxt))
        lines.append(_field("msgid", entry.msgid))
        if entry.msgid_plural is not None:
            lines.append(_field("msgid_plural", entry.msgid_plural))
            for index, value in enumerate(entry.msgstr):
                lines.append(_field(f"msgstr[{index}]", value))
        else:
            lines.append(_field("msgstr", entry.msgstr[0] if entry.msgstr else ""))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def mo_bytes(entries: list[Entry]) -> bytes:
    """The GNU .mo (little-endian, revision 0) of the translated, non-fuzzy entries; the
    header always. What msgfmt writes, less its hash table (optional in the format)."""
    catalog: dict[bytes, bytes] = {}
    for entry in entries:
        if entry.msgid and (entry.fuzzy or not entry.translated):
            continue
        key = entry.msgid
        if entry.msgid_plural is not None:
            key += "\0" + entry.msgid_plural
        if entry.msgctxt is not None:
            key = entry.msgctxt + "\x04" + key
        catalog[key.encode()] = "\0".join(entry.msgstr).encode()
    keys = sorted(catalog)
    ids = b""
    strs = b""
    offsets = []
    for key in keys:
        offsets.append((len(ids), len(key), len(strs), len(catalog[key])))
        ids += key + b"\0"
        strs += catalog[key] + b"\0"
    count = len(keys)
    key_table = 7 * 4
    value_table = key_table + count * 8
    ids_start = value_table + count * 8
    strs_start = ids_start + len(ids)
    output = struct.pack("<7I", 0x950412DE, 0, count, key_table, value_table, 0, ids_start)
    for id_offset, id_length, _, _ in offsets:
        output += struct.pack("<2I", id_length, ids_start + id_offset)
    for _, _, str_offset, str_length in offsets:
        output += struct.pack("<2I", str_length, strs_start + str_offset)
    return output + ids + strs


def compile_file(po_path: Path, mo_path: Path | None = None) -> Path:
    po_path = Path(po_path)
    mo_path = Path(mo_path) if mo_path else po_path.with_suffix(".mo")
    entries = parse(po_path.read_text(encoding="utf-8"), name=str(po_path))
    tmp = mo_path.with_suffix(".mo.tmp")
    tmp.write_bytes(mo_bytes(entries))
    tmp.replace(mo_path)
    return mo_path


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "compile":
        print("usage: python -m mutualaid.lib.po compile LOCALE_DIR_OR_PO_FILE", file=sys.stderr)
        return 2
    target = Path(argv[1])
    files = [target] if target.is_file() else sorted(target.rglob("*.po"))
    if not files:
        print(f"no .po files under {target}", file=sys.stderr)
        return 1
    for po_path in files:
        try:
            print(f"compiled {compile_file(po_path)}")
        except POError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
