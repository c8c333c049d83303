"""The ``recentre`` command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import compile as qc


def cmd_validate(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths] or [qc.BUNDLED]
    report = qc.validate_paths(paths)
    diags = report.diagnostics
    for d in diags.items:
        severity = "error" if args.strict else d.severity
        print(f"{d.location}: {severity}: {d.message}")
    failed = bool(diags.errors) or (args.strict and bool(diags.warnings))
    summary = (
        f"{len(report.compiled)} questionnaire(s) compiled, "
        f"{len(diags.errors)} error(s), {len(diags.warnings)} warning(s)"
    )
    print(summary, file=sys.stderr)
    if not args.quiet:
        for c in report.compiled:
            print(f"ok {c.id} {c.version} ({len(c.questions)} questions, fingerprint {c.fingerprint[:12]})", file=sys.stderr)
    return 1 if failed else 0


def cmd_schema(args: argparse.Namespace) -> int:
    from .jsonschema import questionnaire_schema_text

    text = questionnaire_schema_text()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recentre",
        description="Green and digital self-assessment for SMEs: questionnaires, scoring, web app.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "validate",
        help="check questionnaire files and report every problem as file:line:column",
        description="Load and compile questionnaire, module and catalog files. Exits 0 when "
        "all are valid, 1 otherwise. Folders are searched for *.yaml files.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: the bundled questionnaires)")
    p.add_argument("--strict", action="store_true", help="treat warnings (such as missing translations) as errors")
    p.add_argument("-q", "--quiet", action="store_true", help="print problems only")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser(
        "schema",
        help="print the JSON Schema of questionnaire files, for editors",
        description="Print the JSON Schema of questionnaire, module and catalog files, "
        "generated from the questionnaire language's definitions.",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(func=cmd_schema)

    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
