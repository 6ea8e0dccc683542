"""Builds queue files in Postern's record format (docs/queue-file.md).

An independent writer for tests: it follows the documented format, not the
C code, so tests catch a reader and the documentation disagreeing.
"""


def record(rtype, data=b""):
    """One record: type byte, LEB128 length, data."""
    if isinstance(data, str):
        data = data.encode()
    length = len(data)
    header = bytearray(rtype.encode())
    while length >= 0x80:
        header.append((length & 0x7F) | 0x80)
        length >>= 7
    header.append(length)
    return bytes(header) + data


def sizes_record(message_size, content_offset, extracted_offset, rcpt_count, flags,
                 body_offset):
    fields = (message_size, content_offset, extracted_offset, rcpt_count, flags, body_offset)
    return record("V", b" ".join(b"%15d" % v for v in fields))


def queue_file(sender, recipients, headers, body_lines, arrival=1700000000,
               attributes=(), extracted_recipients=()):
    """A complete queue file as bytes."""
    envelope = [record("T", f"{arrival}.000000"), record("W", b"%15d" % 0)]
    envelope += [record("A", f"{k}={v}") for k, v in attributes]
    envelope.append(record("S", sender))
    envelope += [record("R", r) for r in recipients]
    lines = list(headers) + [""] + list(body_lines)
    content = [record("M")] + [record("L", line) for line in lines]
    v_len = len(sizes_record(0, 0, 0, 0, 0, 0))
    content_offset = v_len + sum(map(len, envelope))
    body_offset = content_offset + sum(map(len, content[:len(headers) + 2]))
    extracted_offset = content_offset + sum(map(len, content))
    message_size = sum(len(line.encode()) + 1 for line in lines)
    tail = [record("X")] + [record("R", r) for r in extracted_recipients] + [record("E")]
    head = sizes_record(message_size, content_offset, extracted_offset,
                        len(recipients) + len(extracted_recipients), 0, body_offset)
    return head + b"".join(envelope + content + tail)
