"""Reads Cloud Monitoring dashboard and alert policy files into the Cloud SDK's own API messages, offline.

    python3 monitoring-check.py SDK_ROOT FILE...

A file whose name starts with "dashboard" is a Dashboard (monitoring v1), any other an AlertPolicy (monitoring v3):
the messages `gcloud monitoring dashboards create --config-from-file` and `gcloud alpha monitoring policies create
--policy-from-file` build from them. gcloud itself keeps a field it does not know aside and lets the API refuse it
later; here any such field, anywhere in the file, is an error, and so is a value of the wrong type or an unknown
enum name. Prints "ok FILE" or "FAIL FILE: why" per file and exits 1 if any failed. Sends nothing anywhere.
"""

import json
import os
import sys

sdk_root, files = sys.argv[1], sys.argv[2:]
sys.path.insert(0, os.path.join(sdk_root, "lib", "third_party"))
sys.path.insert(0, os.path.join(sdk_root, "lib"))

from apitools.base.protorpclite import messages  # noqa: E402  (path set up above)
from apitools.base.py import encoding  # noqa: E402
from googlecloudsdk.generated_clients.apis.monitoring.v1 import monitoring_v1_messages as v1  # noqa: E402
from googlecloudsdk.generated_clients.apis.monitoring.v3 import monitoring_v3_messages as v3  # noqa: E402


def unknown_fields(message, path):
    """Every field the API message type does not have, as dotted paths."""
    found = ["%s.%s" % (path, name) for name in message.all_unrecognized_fields()]
    for field in message.all_fields():
        value = message.get_assigned_value(field.name)
        if value is None or not isinstance(field, messages.MessageField):
            continue
        for i, item in enumerate(value if field.repeated else [value]):
            if isinstance(item, messages.Message):
                found += unknown_fields(item, "%s.%s%s" % (path, field.name, "[%d]" % i if field.repeated else ""))
    return found


failed = 0
for path in files:
    kind = v1.Dashboard if os.path.basename(path).startswith("dashboard") else v3.AlertPolicy
    try:
        with open(path, encoding="utf-8") as source:
            message = encoding.PyValueToMessage(kind, json.load(source))
        problems = unknown_fields(message, kind.__name__)
        if problems:
            raise ValueError("fields the API does not have: " + ", ".join(problems))
    except Exception as error:  # anything that stops the conversion is the file's fault
        failed += 1
        print("FAIL %s: %s" % (path, error))
        continue
    print("ok %s" % path)

sys.exit(1 if failed else 0)
