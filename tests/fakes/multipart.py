"""Incremental multipart/form-data parser that streams one file part to a sink.

Starlette's own form parser needs python-multipart, which the project does not
depend on, and a fake upload host must not hold large files in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from email.message import Message

MAX_FIELD_BYTES = 1024 * 1024
MAX_HEADER_BYTES = 16 * 1024


class MultipartError(ValueError):
    """The body is not valid multipart/form-data."""


def boundary_from_content_type(content_type: str) -> bytes:
    """Return the boundary parameter of a multipart Content-Type header."""
    message = Message()
    message["content-type"] = content_type
    boundary = message.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise MultipartError(f"no boundary in Content-Type {content_type!r}")
    return boundary.encode("latin-1")


class MultipartParser:
    """Parse a multipart body fed in chunks of any size.

    The first part that has a filename, or else is named ``file``, goes to
    ``write_file`` chunk by chunk. Other parts are kept in ``fields`` as text.
    """

    def __init__(self, boundary: bytes, write_file: Callable[[bytes], None]) -> None:
        self._first_delimiter = b"--" + boundary
        self._delimiter = b"\r\n--" + boundary
        self._write_file = write_file
        self._buffer = b""
        self._state = "preamble"
        self._part_mode = "field"
        self._field_name = ""
        self._field_value = bytearray()
        self.fields: dict[str, str] = {}
        self.file_field: str | None = None
        self.file_name: str | None = None

    def feed(self, data: bytes) -> None:
        self._buffer += data
        progressing = True
        while progressing and self._state != "done":
            progressing = getattr(self, f"_parse_{self._state}")()

    def close(self) -> None:
        if self._state != "done":
            raise MultipartError(f"multipart body ended in state {self._state}")

    def _parse_preamble(self) -> bool:
        index = self._buffer.find(self._first_delimiter)
        if index < 0:
            self._buffer = self._buffer[-len(self._first_delimiter) :]
            return False
        self._buffer = self._buffer[index + len(self._first_delimiter) :]
        self._state = "after_delimiter"
        return True

    def _parse_after_delimiter(self) -> bool:
        if len(self._buffer) < 2:
            return False
        if self._buffer.startswith(b"--"):
            self._state = "done"
            return False
        line_end = self._buffer.find(b"\r\n")
        if line_end < 0:
            return False
        # RFC 2046 allows whitespace after a boundary before its line break.
        if self._buffer[:line_end].strip(b" \t"):
            raise MultipartError("unexpected bytes after a boundary")
        self._buffer = self._buffer[line_end + 2 :]
        self._state = "headers"
        return True

    def _parse_headers(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > MAX_HEADER_BYTES:
                raise MultipartError("part headers are too long")
            return False
        message = Message()
        for line in self._buffer[:end].decode("utf-8", errors="replace").split("\r\n"):
            header_name, _, header_value = line.partition(":")
            message[header_name.strip()] = header_value.strip()
        self._buffer = self._buffer[end + 4 :]
        name = message.get_param("name", header="content-disposition")
        filename = message.get_param("filename", header="content-disposition")
        self._field_name = name if isinstance(name, str) else ""
        wants_file = isinstance(filename, str) or self._field_name == "file"
        if not wants_file:
            self._part_mode = "field"
        elif self.file_field is None:
            self._part_mode = "file"
            self.file_field = self._field_name
            self.file_name = filename if isinstance(filename, str) else None
        else:
            self._part_mode = "discard"  # only the first file part is kept
        self._field_value = bytearray()
        self._state = "body"
        return True

    def _parse_body(self) -> bool:
        index = self._buffer.find(self._delimiter)
        if index < 0:
            # Keep a tail that could be the start of a delimiter split across chunks.
            keep = len(self._delimiter) - 1
            if len(self._buffer) > keep:
                self._emit(self._buffer[:-keep])
                self._buffer = self._buffer[-keep:]
            return False
        self._emit(self._buffer[:index])
        self._buffer = self._buffer[index + len(self._delimiter) :]
        if self._part_mode == "field":
            self.fields[self._field_name] = self._field_value.decode("utf-8", errors="replace")
        self._state = "after_delimiter"
        return True

    def _emit(self, data: bytes) -> None:
        if not data or self._part_mode == "discard":
            return
        if self._part_mode == "file":
            self._write_file(data)
            return
        self._field_value += data
        if len(self._field_value) > MAX_FIELD_BYTES:
            raise MultipartError(f"field {self._field_name!r} is larger than 1 MiB")
