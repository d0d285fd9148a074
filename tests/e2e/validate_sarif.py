"""Validates a SARIF file against the official SARIF 2.1.0 schema. Usage: validate_sarif.py FILE"""

import json
import os
import sys

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.join(HERE, "node_modules", "@microsoft", "jest-sarif", "lib", "schemas", "sarif-2.1.0-rtm.5.json")

schema = json.load(open(SCHEMA))
doc = json.load(open(sys.argv[1]))
errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
for e in errors:
    print("/".join(map(str, e.path)), e.message)
if errors:
    sys.exit(1)
print("sarif: valid")
