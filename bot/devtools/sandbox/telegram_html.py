"""Telegram's HTML parse mode: plain text, entities, and the errors Telegram would answer.

The rules follow https://core.telegram.org/bots/api#html-style (and tdlib's parser for the
wording of errors). Two rules are deliberately stricter than Telegram, because the bot must
escape everything it sends: a `&` that does not start `&lt;`, `&gt;`, `&amp;`, `&quot;` or a
numeric entity is an error, and `<a>` needs an `href`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(?:#([0-9]+)|#[xX]([0-9a-fA-F]+)|([A-Za-z][A-Za-z0-9]*));")
_NAME = re.compile(r"[A-Za-z0-9-]+")
_ATTRIBUTE = re.compile(r"[A-Za-z0-9_-]+")


@dataclass
class ParsedText:
    """The outcome of parsing: plain text, Bot API entities (UTF-16 offsets), errors."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class _OpenTag:
    name: str
    attributes: dict[str, str]
    offset: int  # UTF-16 offset in the plain text where the entity starts
    language: str | None = None


class HtmlError(Exception):
    """A tdlib-style parse error, e.g. 'Unsupported start tag "br" at byte offset 5'."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram counts limits and offsets in."""
    return len(text.encode("utf-16-le")) // 2


def parse_telegram_html(text: str) -> tuple[str, list[str]]:
    """Parse Telegram HTML; return the plain text and the errors (empty when valid)."""
    parsed = parse_html(text)
    return parsed.text, parsed.errors


def parse_html(text: str) -> ParsedText:
    """Parse Telegram HTML into plain text and entities; stops at the first error."""
    parser = _Parser(text)
    try:
        parser.run()
    except HtmlError as error:
        return ParsedText("".join(parser.out), errors=[str(error)])
    entities = sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
    return ParsedText("".join(parser.out), entities)


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0
        self.out: list[str] = []
        self.offset = 0  # UTF-16 length of `out`
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    def byte_offset(self, pos: int) -> int:
        return len(self.source[:pos].encode("utf-8"))

    def emit(self, chars: str) -> None:
        self.out.append(chars)
        self.offset += utf16_len(chars)

    def run(self) -> None:
        while self.pos < len(self.source):
            char = self.source[self.pos]
            if char == "&":
                decoded, self.pos = self.entity(self.pos)
                self.emit(decoded)
            elif char == "<" and self.source.startswith("</", self.pos):
                self.end_tag()
            elif char == "<":
                self.start_tag()
            else:
                self.emit(char)
                self.pos += 1
        if self.stack:
            raise HtmlError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )

    def entity(self, pos: int) -> tuple[str, int]:
        match = _ENTITY.match(self.source, pos)
        where = f"at byte offset {self.byte_offset(pos)}"
        if match is None:
            raise HtmlError(f'Character "&" {where} must be escaped as "&amp;"')
        decimal, hexadecimal, name = match.groups()
        if name is not None:
            if name not in NAMED_ENTITIES:
                raise HtmlError(f'Unsupported HTML entity "{match.group(0)}" {where}')
            return NAMED_ENTITIES[name], match.end()
        code = int(decimal) if decimal is not None else int(hexadecimal, 16)
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise HtmlError(f'Invalid numeric HTML entity "{match.group(0)}" {where}')
        return chr(code), match.end()

    def start_tag(self) -> None:
        begin = self.pos
        where = f"at byte offset {self.byte_offset(begin)}"
        match = _NAME.match(self.source, begin + 1)
        name = match.group(0).lower() if match else ""
        if name not in ENTITY_TYPES:
            raise HtmlError(f'Unsupported start tag "{name}" {where}')
        self.pos = begin + 1 + len(name)
        attributes = self.attributes(name, where)
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise HtmlError(f'Tag "span" must have class "tg-spoiler" {where}')
        if name == "a" and not attributes.get("href"):
            raise HtmlError(f'Tag "a" must have a non-empty attribute "href" {where}')
        if name == "tg-emoji" and not attributes.get("emoji-id"):
            raise HtmlError(f'Tag "tg-emoji" must have attribute "emoji-id" {where}')
        self.stack.append(_OpenTag(name, attributes, self.offset))

    def attributes(self, tag: str, where: str) -> dict[str, str]:
        attributes: dict[str, str] = {}
        source = self.source
        while True:
            while self.pos < len(source) and source[self.pos].isspace():
                self.pos += 1
            if self.pos >= len(source):
                raise HtmlError(f"Unclosed start tag {where}")
            if source[self.pos] == ">":
                self.pos += 1
                return attributes
            match = _ATTRIBUTE.match(source, self.pos)
            if match is None:
                raise HtmlError(f'Unexpected "{source[self.pos]}" in the tag "{tag}" {where}')
            self.pos = match.end()
            attributes[match.group(0).lower()] = self.attribute_value(where)

    def attribute_value(self, where: str) -> str:
        source = self.source
        if not source.startswith("=", self.pos):
            return ""
        self.pos += 1
        quote = source[self.pos] if self.pos < len(source) else ""
        if quote in ('"', "'"):
            end = source.find(quote, self.pos + 1)
            if end < 0:
                raise HtmlError(f"Unclosed start tag {where}")
            value, self.pos = self.decoded(self.pos + 1, end), end + 1
            return value
        end = self.pos
        while end < len(source) and not source[end].isspace() and source[end] != ">":
            end += 1
        value, self.pos = self.decoded(self.pos, end), end
        return value

    def decoded(self, pos: int, end: int) -> str:
        """The attribute value in source[pos:end] with its entities decoded."""
        parts: list[str] = []
        while pos < end:
            if self.source[pos] == "&":
                decoded, pos = self.entity(pos)
                parts.append(decoded)
            else:
                parts.append(self.source[pos])
                pos += 1
        return "".join(parts)

    def end_tag(self) -> None:
        begin = self.pos
        where = f"at byte offset {self.byte_offset(begin)}"
        end = self.source.find(">", begin)
        if end < 0:
            raise HtmlError(f"Unclosed end tag {where}")
        name = self.source[begin + 2 : end].strip().lower()
        if not self.stack:
            raise HtmlError(f'Unexpected end tag "</{name}>" {where}')
        tag = self.stack.pop()
        if tag.name != name:
            raise HtmlError(
                f'Unmatched end tag {where}, expected "</{tag.name}>", found "</{name}>"'
            )
        self.pos = end + 1
        self.close(tag)

    def close(self, tag: _OpenTag) -> None:
        language = tag.attributes.get("class", "")
        parent = self.stack[-1] if self.stack else None
        in_pre = parent is not None and parent.name == "pre"
        if tag.name == "code" and in_pre and language.startswith("language-"):
            assert parent is not None
            parent.language = language.removeprefix("language-")
            return
        length = self.offset - tag.offset
        if length == 0:
            return
        entity: dict[str, Any] = {
            "type": ENTITY_TYPES[tag.name],
            "offset": tag.offset,
            "length": length,
        }
        if tag.name == "a":
            entity["url"] = tag.attributes["href"]
        elif tag.name == "tg-emoji":
            entity["custom_emoji_id"] = tag.attributes["emoji-id"]
        elif tag.name == "pre" and tag.language:
            entity["language"] = tag.language
        elif tag.name == "blockquote" and "expandable" in tag.attributes:
            entity["type"] = "expandable_blockquote"
        self.entities.append(entity)
