"""Python values as Janet source text, for test helpers whose output a Janet
test reads with `parse`: dicts become structs with keyword keys, lists and
tuples become tuples, str becomes a Janet string (every byte that is not
printable ASCII written as \\xHH, so any text survives), bytes become a
buffer of the same bytes, None nil, booleans true/false, ints numbers."""


def string(s):
    """A Janet string literal holding the UTF-8 bytes of `s` (or bytes `s`)."""
    raw = s.encode("utf-8", "surrogatepass") if isinstance(s, str) else bytes(s)
    out = []
    for b in raw:
        if b == 0x22:
            out.append('\\"')
        elif b == 0x5C:
            out.append("\\\\")
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    return '"' + "".join(out) + '"'


def dumps(v):
    """Janet source text for `v`."""
    if v is None:
        return "nil"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        if abs(v) >= 2**53:
            raise ValueError("integer too large for a Janet number: %d" % v)
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (bytes, bytearray)):
        return "@" + string(v)
    if isinstance(v, str):
        return string(v)
    if isinstance(v, dict):
        return "{" + " ".join(":" + str(k) + " " + dumps(x) for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(dumps(x) for x in v) + "]"
    raise TypeError("no Janet form for %r" % (v,))
