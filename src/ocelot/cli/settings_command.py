"""``ocelot settings list|get|set|reset``: general options, validated, with their help text."""

from __future__ import annotations

import argparse
import json
import sys

from ocelot.inventory.setting_catalogue import CATALOGUE, SettingError, definition
from ocelot.inventory.setting_values import global_values, reset_global, set_global


def run(args: argparse.Namespace) -> int:
    try:
        if args.action == "list":
            values = global_values()
            rows = [
                {
                    "name": d.name,
                    "value": values.get(d.name, d.default),
                    "default": d.default,
                    "category": d.category,
                    "unit": d.unit,
                    "scopes": list(d.scopes),
                    "help": d.help,
                }
                for d in CATALOGUE
                if not args.category or d.category == args.category
            ]
            if args.json:
                print(json.dumps(rows, indent=2))
            else:
                for row in rows:
                    marker = "" if row["value"] == row["default"] else " (default {})".format(row["default"])
                    unit = f" {row['unit']}" if row["unit"] else ""
                    print(f"{row['name']} = {row['value']}{unit}{marker}  [{row['category']}]")
                    print(f"    {row['help']}")
            return 0
        if args.action == "get":
            spec = definition(args.name)
            print(global_values().get(spec.name, spec.default))
            return 0
        if args.action == "set":
            value = set_global(args.name, args.value)
            print(f"{definition(args.name).name} = {value}")
            return 0
        reset_global(args.name)
        spec = definition(args.name)
        print(f"{spec.name} = {spec.default} (default)")
        return 0
    except SettingError as exc:
        print(f"ocelot settings: {exc}", file=sys.stderr)
        return 2
