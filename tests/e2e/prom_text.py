"""A strict parser of the Prometheus text exposition format 0.0.4, as node_exporter's textfile
collector reads it, for tests (Debian's promtool comes in a 96 MB package; it is used too when
it is on PATH)."""

import math
import re

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
FLOAT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z")


class FormatError(ValueError):
    pass


def _value(text, where):
    if text in ("NaN", "+Inf", "-Inf", "Inf"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    if not FLOAT.match(text):
        raise FormatError("%s: value %r is not a float" % (where, text))
    return float(text)


def _labels(text, pos, where):
    """Parse `{a="b",...}` starting at text[pos] == '{'; return (labels, next pos)."""
    labels = {}
    pos += 1
    while True:
        if text[pos:pos + 1] == "}":
            return labels, pos + 1
        m = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*").match(text, pos)
        if not m:
            raise FormatError("%s: bad label name at column %d" % (where, pos + 1))
        name = m.group(0)
        if name.startswith("__"):
            raise FormatError("%s: reserved label name %s" % (where, name))
        if name in labels:
            raise FormatError("%s: duplicate label %s" % (where, name))
        pos = m.end()
        if text[pos:pos + 2] != '="':
            raise FormatError("%s: expected =\" after label %s" % (where, name))
        pos += 2
        value = []
        while True:
            if pos >= len(text):
                raise FormatError("%s: unterminated label value" % where)
            c = text[pos]
            if c == "\\":
                nxt = text[pos + 1:pos + 2]
                if nxt not in ("\\", '"', "n"):
                    raise FormatError("%s: bad escape \\%s in label value" % (where, nxt))
                value.append({"\\": "\\", '"': '"', "n": "\n"}[nxt])
                pos += 2
            elif c == '"':
                pos += 1
                break
            elif c == "\n":
                raise FormatError("%s: raw newline in label value" % where)
            else:
                value.append(c)
                pos += 1
        labels[name] = "".join(value)
        if text[pos:pos + 1] == ",":
            pos += 1
        elif text[pos:pos + 1] != "}":
            raise FormatError("%s: expected , or } after a label" % where)


def parse(text):
    """Return {"families": {name: {"help", "type"}}, "samples": [(name, labels, value)]}.

    Raises FormatError on anything node_exporter or promtool would reject or flag: bad names,
    escapes or floats, HELP/TYPE repeated or after samples, a family split in two, duplicate
    series, blank lines, a missing final newline.
    """
    if text and not text.endswith("\n"):
        raise FormatError("the file does not end with a newline")
    families = {}
    samples = []
    seen_series = set()
    finished = set()
    current = None
    for number, line in enumerate(text.split("\n")[:-1] if text else [], 1):
        where = "line %d" % number
        if line == "":
            raise FormatError("%s: blank line" % where)
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not METRIC_NAME.match(name):
                    raise FormatError("%s: bad metric name %r" % (where, name))
                family = families.setdefault(name, {})
                key = parts[1].lower()
                if key in family:
                    raise FormatError("%s: second %s for %s" % (where, parts[1], name))
                if name in finished or (name == current and any(s[0] == name for s in samples)):
                    raise FormatError("%s: %s for %s after its samples" % (where, parts[1], name))
                if key == "type":
                    if len(parts) != 4 or parts[3] not in TYPES:
                        raise FormatError("%s: bad TYPE line" % where)
                elif len(parts) != 4 or not parts[3]:
                    raise FormatError("%s: empty HELP" % where)
                family[key] = parts[3]
                if current is not None and current != name:
                    finished.add(current)
                current = name
            continue
        m = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*").match(line)
        if not m:
            raise FormatError("%s: bad metric name" % where)
        name = m.group(0)
        pos = m.end()
        labels = {}
        if line[pos:pos + 1] == "{":
            labels, pos = _labels(line, pos, where)
        if line[pos:pos + 1] != " ":
            raise FormatError("%s: expected a space before the value" % where)
        fields = line[pos + 1:].split(" ")
        if len(fields) not in (1, 2):
            raise FormatError("%s: expected a value and an optional timestamp" % where)
        value = _value(fields[0], where)
        if len(fields) == 2 and not re.match(r"-?\d+\Z", fields[1]):
            raise FormatError("%s: bad timestamp" % where)
        if name in finished:
            raise FormatError("%s: samples of %s are not contiguous" % (where, name))
        if current is not None and current != name:
            finished.add(current)
        current = name
        if name not in families or "type" not in families[name]:
            raise FormatError("%s: %s has no TYPE before its samples" % (where, name))
        series = (name, tuple(sorted(labels.items())))
        if series in seen_series:
            raise FormatError("%s: duplicate series %s%s" % (where, name, labels))
        seen_series.add(series)
        samples.append((name, labels, value))
    return {"families": families, "samples": samples}


def values(parsed, metric, **labels):
    """Values of `metric` whose labels include `labels`."""
    return [v for n, l, v in parsed["samples"]
            if n == metric and all(l.get(k) == str(x) for k, x in labels.items())]


def is_nan(x):
    return isinstance(x, float) and math.isnan(x)
