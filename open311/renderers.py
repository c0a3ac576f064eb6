"""GeoReport v2's XML: `<services><service>…`, `<service_requests><request>…`,
`<errors><error>…`, UTF-8, with every value escaped."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree as ET

from rest_framework.renderers import BaseRenderer

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
# Lists nest as <plural><singular>…</singular></plural>, as the specification writes them.
ITEM_NAMES = {
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}
# Characters XML 1.0 cannot carry at all, even escaped.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return NOT_XML.sub("", str(value))


def _append(parent: ET.Element, tag: str, value: Any) -> None:
    element = ET.SubElement(parent, tag)
    if isinstance(value, Mapping):
        for key, item in value.items():
            _append(element, str(key), item)
    elif isinstance(value, list | tuple):
        for item in value:
            _append(element, ITEM_NAMES.get(tag, "item"), item)
    else:
        element.text = _text(value)


class Open311XMLRenderer(BaseRenderer):
    """Renders a list as `<{view.xml_root}><{view.xml_item}>…` and a mapping as the children
    of `<{view.xml_root}>`; an error response as `<errors><error>…`."""

    media_type = "text/xml"
    format = "xml"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        context = renderer_context or {}
        response = context.get("response")
        view = context.get("view")
        if response is not None and getattr(response, "exception", False):
            root_tag, item_tag = "errors", "error"
        else:
            root_tag = getattr(view, "xml_root", "response")
            item_tag = getattr(view, "xml_item", "item")
        root = ET.Element(root_tag)
        if isinstance(data, Mapping):
            for key, value in data.items():
                _append(root, str(key), value)
        elif data is not None:
            for item in data:
                _append(root, item_tag, item)
        return DECLARATION + ET.tostring(root, encoding="utf-8")
