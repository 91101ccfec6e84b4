"""JSON helpers that keep numbers exactly as the client spelled them.

App specs may carry fields the simulator does not know. They must come back
unchanged, so numbers are parsed into int/float subclasses that remember their
source text (``1.50`` stays ``1.50``, ``1e3`` stays ``1e3``) and ``dumps``
writes that text back. Key order is kept because dicts keep insertion order.
Strings are re-escaped canonically (UTF-8, no ``\\u`` escapes for non-ASCII).
"""

import json
import math


class RawInt(int):
    """An int that remembers the JSON text it was parsed from."""

    def __new__(cls, text):
        obj = int.__new__(cls, text)
        obj.raw = str(text)
        return obj

    def __deepcopy__(self, memo):
        return self

    def __copy__(self):
        return self


class RawFloat(float):
    """A float that remembers the JSON text it was parsed from."""

    def __new__(cls, text):
        obj = float.__new__(cls, text)
        obj.raw = str(text)
        return obj

    def __deepcopy__(self, memo):
        return self

    def __copy__(self):
        return self


def _reject_constant(name):
    raise ValueError("invalid JSON number: %s" % name)


def loads(text):
    """Parse JSON text (str or bytes), keeping the spelling of every number."""
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8")
    return json.loads(text, parse_int=RawInt, parse_float=RawFloat,
                      parse_constant=_reject_constant)


def _encode(obj, out):
    if obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, str):
        out.append(json.dumps(obj, ensure_ascii=False))
    elif isinstance(obj, (RawInt, RawFloat)):
        out.append(obj.raw)
    elif isinstance(obj, int):
        out.append(int.__repr__(obj))
    elif isinstance(obj, float):
        if math.isnan(obj) or math.isinf(obj):
            raise ValueError("cannot encode %r as JSON" % obj)
        out.append(float.__repr__(obj))
    elif isinstance(obj, dict):
        out.append("{")
        first = True
        for key, value in obj.items():
            if not first:
                out.append(",")
            first = False
            out.append(json.dumps(str(key), ensure_ascii=False))
            out.append(":")
            _encode(value, out)
        out.append("}")
    elif isinstance(obj, (list, tuple)):
        out.append("[")
        for i, value in enumerate(obj):
            if i:
                out.append(",")
            _encode(value, out)
        out.append("]")
    else:
        raise TypeError("cannot encode %s as JSON" % type(obj).__name__)


def dumps(obj):
    """Serialise obj as compact JSON text, writing remembered numbers verbatim."""
    out = []
    _encode(obj, out)
    return "".join(out)


def plain(obj):
    """Return a copy of obj with Raw numbers turned back into int/float."""
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [plain(v) for v in obj]
    if isinstance(obj, RawInt):
        return int(obj)
    if isinstance(obj, RawFloat):
        return float(obj)
    return obj
