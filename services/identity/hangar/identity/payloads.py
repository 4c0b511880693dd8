"""Events as the audit log shows them: protobuf JSON of the public fields (shared by store and consumers).

Field names as in the .proto (snake_case, `preserving_proto_field_name`), every field present even when it
holds its default (an org-scope membership shows `"team": ""`), 64-bit integers as strings (the protobuf JSON
mapping), keys sorted: one spelling for the same event, whoever writes it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from google.protobuf import json_format
from google.protobuf.message import Message


def public_json(message: Message, private: Iterable[str] = ()) -> str:
    """The message as JSON without its `private` fields (the message itself is left as it was)."""
    public = type(message)()
    public.CopyFrom(message)
    hidden = set(private)
    for name in hidden:
        public.ClearField(name)
    fields = json_format.MessageToDict(
        public, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    for name in hidden:
        fields.pop(name, None)
    return json.dumps(fields, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
