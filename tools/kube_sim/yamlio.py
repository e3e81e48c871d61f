# yamlio: YAML streams -> JSON-like Python values, with PyYAML (Debian's python3-yaml).
# Follows sigs.k8s.io/yaml (go-yaml v2 underneath), as kube-apiserver and kubectl read YAML:
# YAML 1.1 booleans (y/yes/on/true ... n/no/off/false), Go's integer forms (0x, 0o, 0b, leading-0
# octal, underscores), floats with or without a dot, timestamps kept as strings, and every
# mapping key turned into a string the way YAMLToJSON does.

import json
import math
import re

import yaml

YAMLError = yaml.YAMLError

_BOOL = {v: True for v in ("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON")}
_BOOL.update({v: False for v in ("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF")})
_NULL = ("", "~", "null", "Null", "NULL")
_SPECIAL_FLOAT = {".nan": math.nan, ".NaN": math.nan, ".NAN": math.nan}
for _sign, _v in (("", math.inf), ("+", math.inf), ("-", -math.inf)):
    for _s in (".inf", ".Inf", ".INF"):
        _SPECIAL_FLOAT[_sign + _s] = _v

_INT = re.compile(r"^[-+]?(0[bB][01_]+|0[oO][0-7_]+|0[xX][0-9a-fA-F_]+|0[0-7_]*|[1-9][0-9_]*)$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


def _go_int(s):
    """strconv.ParseInt(strings.Replace(s, "_", "", -1), 0, 64) as go-yaml v2 calls it."""
    t = s.replace("_", "")
    sign = -1 if t.startswith("-") else 1
    t = t.lstrip("+-")
    if len(t) > 1 and t[0] == "0" and t[1] in "0123456789":
        return sign * int(t, 8)
    return sign * int(t, 0)


class _Resolver(yaml.resolver.Resolver):
    pass


# Only go-yaml v2's implicit tags: no timestamps (v2 leaves them strings in an interface{}),
# no sexagesimal numbers, no '=' values.
_Resolver.yaml_implicit_resolvers = {}
_Resolver.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(
    "^(?:%s)$" % "|".join(re.escape(k) for k in _BOOL)), list("yYnNtTfFoO"))
_Resolver.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"),
                                ["~", "n", "N", ""])
_Resolver.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))
_Resolver.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+.0123456789"))
_Resolver.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(
    "^(?:%s)$" % "|".join(re.escape(k) for k in _SPECIAL_FLOAT)), list("-+."))
_Resolver.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


class _Constructor(yaml.constructor.SafeConstructor):
    def construct_yaml_bool(self, node):
        return _BOOL[self.construct_scalar(node)]

    def construct_yaml_int(self, node):
        s = self.construct_scalar(node)
        try:
            return _go_int(s)
        except ValueError:
            return s

    def construct_yaml_float(self, node):
        s = self.construct_scalar(node)
        if s in _SPECIAL_FLOAT:
            return _SPECIAL_FLOAT[s]
        return float(s.replace("_", ""))

    def construct_yaml_timestamp(self, node):
        return self.construct_scalar(node)

    def construct_mapping(self, node, deep=False):
        """Keys become strings as they are read, so that 1 and true stay two keys."""
        if not isinstance(node, yaml.MappingNode):
            raise yaml.constructor.ConstructorError(None, None, "expected a mapping node, but found %s" % node.id,
                                                    node.start_mark)
        self.flatten_mapping(node)
        mapping = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, (dict, list)):
                raise yaml.constructor.ConstructorError("while constructing a mapping", node.start_mark,
                                                        "found a key that is not a scalar", key_node.start_mark)
            mapping[_key(key)] = self.construct_object(value_node, deep=deep)
        return mapping


_Constructor.add_constructor("tag:yaml.org,2002:bool", _Constructor.construct_yaml_bool)
_Constructor.add_constructor("tag:yaml.org,2002:int", _Constructor.construct_yaml_int)
_Constructor.add_constructor("tag:yaml.org,2002:float", _Constructor.construct_yaml_float)
_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_timestamp)

_CParser = getattr(yaml, "CParser", None)
if _CParser is not None:
    class _Loader(_CParser, _Constructor, _Resolver):
        def __init__(self, stream):
            _CParser.__init__(self, stream)
            _Constructor.__init__(self)
            _Resolver.__init__(self)
else:
    class _Loader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer,
                  _Constructor, _Resolver):
        def __init__(self, stream):
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            _Constructor.__init__(self)
            _Resolver.__init__(self)


def _key(k):
    """The JSON key sigs.k8s.io/yaml's YAMLToJSON makes of a non-string YAML key."""
    if isinstance(k, str):
        return k
    if isinstance(k, bool):
        return "true" if k else "false"
    if k is None:
        return "null"
    if isinstance(k, float):
        return json.dumps(k) if math.isfinite(k) else str(k)
    return str(k)


def yaml_load_all(text):
    """The documents of a YAML stream (empty ones dropped); JSON text is read as JSON."""
    t = text.strip()
    if t.startswith(("{", "[")):
        try:
            return [json.loads(t)]
        except ValueError:
            pass
    return [d for d in yaml.load_all(text, Loader=_Loader) if d is not None]
