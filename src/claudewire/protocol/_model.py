"""The base of every typed model: msgspec Structs that keep what they do not know.

Known fields are typed Struct fields. Fields the model does not declare, and whole
objects of types it does not know, are kept: extra fields live in the instance
``__dict__`` (so ``obj.new_field`` works) and come back out of ``to_dict()``.

An unknown field never overwrites or breaks a typed one: a name the class already uses
(a method such as ``to_dict``, ``type``, anything private or dunder) is kept aside in
``model_extra`` instead of becoming an attribute, and still comes back out of
``to_dict()``.

Decoding takes a fast path and a faithful one. The fast path is msgspec's C decoder on
Structs that forbid unknown fields; it covers every object the API sends today. When it
meets something new (an unknown field or ``type`` tag) it raises, and ``build`` walks the
plain JSON value instead, typing what it knows and keeping the rest.
"""

from __future__ import annotations

import types
import typing
from functools import cache
from typing import Any, ClassVar, Union, get_args, get_origin

import msgspec

__all__ = ["Model", "Unknown", "Decoder", "build", "from_builtins", "to_dict", "merge_extras"]

_SHADOWED = "__shadowed_extras__"  # where extras named like the class's own attributes live


class Model(
    msgspec.Struct,
    kw_only=True,
    omit_defaults=True,
    forbid_unknown_fields=True,
    dict=True,
    repr_omit_defaults=True,
):
    """A typed API object. Attribute access as in the SDK; ``to_dict()`` gives the API's JSON."""

    type: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    def to_json(self, *, indent: int | None = 2) -> str:
        """The API's JSON as a ``str``, indented like the SDK's (``indent=None``: compact)."""
        encoded = msgspec.json.encode(to_dict(self))
        if indent:
            encoded = msgspec.json.format(encoded, indent=indent)
        return encoded.decode()

    @property
    def model_extra(self) -> dict[str, Any]:
        """Every field this version does not declare, as sent (pydantic's name for it)."""
        extras = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        return extras | self.__dict__.get(_SHADOWED, {})


def expose_tags(namespace: dict[str, Any]) -> None:
    """Give each tagged Model the SDK's ``.type`` attribute: its JSON tag.

    (msgspec sets a class's tag after ``__init_subclass__`` runs, hence this pass.)
    """
    for value in namespace.values():
        if _is_model(value) and isinstance(value.__struct_config__.tag, str):
            value.type = value.__struct_config__.tag


class Unknown(Model, forbid_unknown_fields=False):
    """An object whose ``type`` this version does not know: every field is kept."""

    type: str

    def __repr__(self) -> str:
        fields = "".join(f", {k}={v!r}" for k, v in self.__dict__.items() if not k.startswith("_"))
        return f"Unknown(type={self.type!r}{fields})"


@cache
def _always_emitted(cls: type[Model]) -> frozenset[str]:
    """Fields with no default: emitted even when null (``stop_reason``, ``stop_sequence``)."""
    required = (f.name for f in msgspec.structs.fields(cls) if f.required)
    return frozenset(required) | frozenset(getattr(cls, "__always__", ()))


def to_dict(value: Any) -> Any:
    """The JSON-shaped builtins of a model tree, extras included; optional nulls left out."""
    if isinstance(value, Model):
        out: dict[str, Any] = {}
        config = value.__struct_config__
        if isinstance(config.tag, str):
            out[config.tag_field] = config.tag  # type: ignore[index]
        keep = _always_emitted(type(value))
        for name in value.__struct_fields__:
            field = getattr(value, name)
            if field is not None or name in keep:
                out[name] = to_dict(field)
        for name, field in value.__dict__.items():
            if not name.startswith("_"):
                out[name] = to_dict(field)
        for name, field in value.__dict__.get(_SHADOWED, {}).items():
            out.setdefault(name, to_dict(field))
        return out
    if isinstance(value, list):
        return [to_dict(v) for v in value]
    if isinstance(value, dict):
        return {k: to_dict(v) for k, v in value.items()}
    return value


# --- the faithful path ---------------------------------------------------------------


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, Model)


@cache
def _fields(cls: type[Model]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {name: hints[name] for name in cls.__struct_fields__}


@cache
def _tag_map(tp: Any) -> dict[str, type[Model]] | None:
    """For a union of tagged Models, tag -> class; None if the type holds no Model."""
    members = [a for a in get_args(tp) if _is_model(a)]
    if not members:
        return None
    mapping: dict[str, type[Model]] = {}
    for cls in members:
        tag = cls.__struct_config__.tag
        if isinstance(tag, str):
            mapping[tag] = cls
    return mapping


def _contains_model(tp: Any) -> bool:
    if _is_model(tp):
        return True
    return any(_contains_model(a) for a in get_args(tp))


def build(tp: Any, value: Any) -> Any:
    """Type ``value`` (plain JSON) as ``tp``, keeping unknown fields and unknown types."""
    if value is None or not _contains_model(tp):
        return msgspec.convert(value, tp) if tp is not Any else value
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        if isinstance(value, dict):
            tags = _tag_map(tp)
            if tags:
                cls = tags.get(value.get("type"))  # type: ignore[arg-type]
                if cls is not None:
                    return build(cls, value)
                if isinstance(value.get("type"), str):
                    return _build_model(Unknown, value)
            for arg in get_args(tp):
                if _is_model(arg):
                    return build(arg, value)
        for arg in get_args(tp):
            if arg is not type(None) and not _contains_model(arg):
                return msgspec.convert(value, arg)
        raise msgspec.ValidationError(f"Expected an object, got {type(value).__name__}")
    if origin is list:
        (item,) = get_args(tp)
        if not isinstance(value, list):
            raise msgspec.ValidationError(f"Expected `array`, got `{type(value).__name__}`")
        return [build(item, v) for v in value]
    if origin is dict:
        _, item = get_args(tp)
        return {k: build(item, v) for k, v in value.items()}
    if _is_model(tp):
        return _build_model(tp, value)
    return msgspec.convert(value, tp)


def _build_model(cls: type[Model], value: Any) -> Model:
    if not isinstance(value, dict):
        raise msgspec.ValidationError(f"Expected `object`, got `{type(value).__name__}`")
    fields = _fields(cls)
    known: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, item in value.items():
        if key in fields:
            known[key] = build(fields[key], item)
        else:
            extra[key] = item
    tag = cls.__struct_config__.tag
    if isinstance(tag, str):
        known.pop("type", None)
    if cls is Unknown:
        known = {"type": value.get("type", "")}
        extra = {k: v for k, v in value.items() if k != "type"}
    obj = cls(**known)
    _keep_extras(obj, extra)
    return obj


def _reserved(cls: type, name: str) -> bool:
    """A name an extra may not take as an attribute: private, dunder, or already the class's."""
    return name.startswith("_") or hasattr(cls, name)


def _keep_extras(obj: Model, extra: dict[str, Any]) -> None:
    cls = type(obj)
    for key, item in extra.items():
        if _reserved(cls, key):
            obj.__dict__.setdefault(_SHADOWED, {})[key] = item
        else:
            obj.__dict__[key] = item


def merge_extras(target: Model, source: Model, *, typed: bool) -> None:
    """Carry ``source``'s unknown fields onto ``target`` (newer fields of a delta onto the snapshot).

    A name that is one of ``target``'s typed fields is set only when ``typed`` is true and
    the value has that field's type; otherwise it stays on ``source`` alone. Names the
    target reserves are kept aside, as in decoding. Nothing typed is ever overwritten
    with a value of the wrong shape.
    """
    fields = _fields(type(target))
    extras = {k: v for k, v in source.__dict__.items() if not k.startswith("_")}
    for name, value in extras.items():
        if name in fields:
            if not typed:
                continue
            try:
                value = build(fields[name], value)
            except (msgspec.ValidationError, TypeError, ValueError, RecursionError):
                continue
            setattr(target, name, value)
        elif _reserved(type(target), name):
            target.__dict__.setdefault(_SHADOWED, {})[name] = value
        else:
            target.__dict__[name] = value


def from_builtins(tp: Any, value: Any) -> Any:
    """Type a value already in JSON shape: C-fast when fully known, faithful when not."""
    try:
        return msgspec.convert(value, tp)
    except msgspec.ValidationError:
        return build(tp, value)


class Decoder:
    """Decode JSON into ``tp``: C-fast when the input is fully known, faithful when not."""

    __slots__ = ("_fast", "_type")

    def __init__(self, tp: Any) -> None:
        self._type = tp
        self._fast = msgspec.json.Decoder(tp)

    def decode(self, data: str | bytes) -> Any:
        try:
            return self._fast.decode(data)
        except msgspec.ValidationError:
            return build(self._type, msgspec.json.decode(data))
