"""`slo export openslo|sloth|odcs` and `slo import openslo|odcs`: the specs in other tools' formats, and OpenSLO
documents and ODCS data contracts back in (docs/interop.md)."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from dagster_project.cli.specs import add_slos_option, config_of, load_specs
from dagster_project.errors import EXIT_OK, UsageError

EXPORT_EPILOG = """\
examples:
  slo export openslo                       every product's Service, SLI, SLO and AlertPolicy documents
  slo export openslo -o openslo/           one <product>.openslo.yaml per product
  slo export sloth -o sloth/               Sloth prometheus/v1 specs, then: sloth generate -i sloth/<file> ...
  slo import openslo openslo/product_affinity.openslo.yaml -o slo_definitions/product_affinity.yaml
  slo export odcs -o contracts/              one <product>.odcs.yaml data contract (ODCS v3) per product
"""

IMPORT_EPILOG = """\
examples:
  slo import openslo exported.openslo.yaml -o slo_definitions/imported.yaml
  slo import odcs datacontract.yaml -o slo_definitions/orders.yaml

OpenSLO: the documents must describe one Service and its SLOs, each SLI's metric source of type slo-monitor (as
`slo export openslo` writes them). exit codes: 0 written, 2 not OpenSLO v1 or not importable (each problem at
file:line). ODCS: what the contract says that no SLO of ours measures is listed as warnings at its line (exit 0);
exit 2 when the file is not an ODCS v3 contract or nothing in it could be imported.
"""


def register(sub: Any) -> None:
    export = sub.add_parser(
        "export",
        help="write the specs as OpenSLO v1 documents or Sloth prometheus/v1 specs",
        description="The specs in other tools' formats (docs/interop.md).",
        epilog=EXPORT_EPILOG,
    )
    formats = export.add_subparsers(dest="export_format", metavar="FORMAT", parser_class=type(export))
    formats.required = True
    openslo = formats.add_parser(
        "openslo",
        help="Service, SLI, SLO and AlertPolicy documents (OpenSLO v1); `slo import openslo` reads them back",
        description="OpenSLO v1 documents: a Service per product, an SLI and an SLO per SLO, an AlertPolicy per "
        "burn-rate alert. What OpenSLO has no field for is kept in slo-monitor.dev/ annotations.",
        epilog=EXPORT_EPILOG,
    )
    openslo.add_argument("-o", "--output-dir", type=Path, help="write <dir>/<product>.openslo.yaml instead of printing")
    add_slos_option(openslo)
    openslo.set_defaults(handler=handle_export_openslo)
    sloth = formats.add_parser(
        "sloth",
        help="Sloth prometheus/v1 specs whose generated rules match `slo rules`",
        description="One Sloth spec per product and budget period; each file's header says how to run `sloth "
        "generate` on it. Periods other than 28d and 30d come with Sloth AlertWindows specs in alert-windows/.",
        epilog=EXPORT_EPILOG,
    )
    sloth.add_argument("-o", "--output-dir", type=Path, help="write the files into <dir> instead of printing")
    add_slos_option(sloth)
    sloth.set_defaults(handler=handle_export_sloth)
    odcs = formats.add_parser(
        "odcs",
        help="an ODCS v3 data contract per product (datasets, schema and quality SLOs); `slo import odcs` reads it",
        description="One Open Data Contract Standard v3 contract per product: a schema object per dataset, schema "
        "SLOs as property types, quality SLOs as quality rules, freshness as a latency SLA. Checked with the "
        "open-data-contract-standard package and its JSON Schema before it is written.",
        epilog=EXPORT_EPILOG,
    )
    odcs.add_argument("-o", "--output-dir", type=Path, help="write <dir>/<product>.odcs.yaml instead of printing")
    add_slos_option(odcs)
    odcs.set_defaults(handler=handle_export_odcs)

    imp = sub.add_parser(
        "import",
        help="read OpenSLO v1 documents or an ODCS v3 data contract into a spec",
        description="Another tool's SLO documents as a spec (docs/interop.md).",
        epilog=IMPORT_EPILOG,
    )
    sources = imp.add_subparsers(dest="import_format", metavar="FORMAT", parser_class=type(imp))
    sources.required = True
    from_openslo = sources.add_parser(
        "openslo",
        help="OpenSLO v1 documents (one Service and its SLOs) into one spec file",
        description="Check the documents against OpenSLO v1, map them to a spec, validate it, and write it.",
        epilog=IMPORT_EPILOG,
    )
    from_openslo.add_argument("files", type=Path, nargs="+", metavar="FILE", help="OpenSLO YAML files")
    from_openslo.add_argument("-o", "--output", type=Path, required=True, metavar="SPEC.yaml", help="spec to write")
    from_openslo.set_defaults(handler=handle_import_openslo)
    from_odcs = sources.add_parser(
        "odcs",
        help="an ODCS v3 data contract (datacontract.yaml) into one spec file",
        description="Check the contract against ODCS v3, map its schema, quality rules and latency SLA to SLOs, "
        "validate the spec and write it; what could not be mapped is listed as warnings at the contract's lines.",
        epilog=IMPORT_EPILOG,
    )
    from_odcs.add_argument("file", type=Path, metavar="CONTRACT.yaml", help="the ODCS contract")
    from_odcs.add_argument("-o", "--output", type=Path, metavar="SPEC.yaml", help="spec to write (default: print it)")
    from_odcs.set_defaults(handler=handle_import_odcs)


def _write(directory: Path | None, files: list[tuple[str, str]]) -> None:
    if directory is None:
        sys.stdout.write("".join(text for _name, text in files))
        return
    for name, text in files:
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path}")


def handle_export_openslo(args: argparse.Namespace) -> int:
    from dagster_project.interop.openslo import export_documents
    from dagster_project.interop.yaml_out import dump_all

    specs = load_specs(config_of(args))
    if args.output_dir is None:
        _write(None, [("", dump_all(export_documents(specs)))])
    else:
        _write(args.output_dir, [(f"{s.data_product.id}.openslo.yaml", dump_all(export_documents([s]))) for s in specs])
    return EXIT_OK


def handle_export_sloth(args: argparse.Namespace) -> int:
    from dagster_project.interop.sloth import NotExpressible, export_files
    from dagster_project.interop.yaml_out import dump

    specs = load_specs(config_of(args))
    try:
        files, windows = export_files(specs)
    except NotExpressible as exc:
        raise UsageError(f"cannot export to Sloth: {exc}") from None
    out = [(f.name, f.header + ("---\n" if args.output_dir is None else "") + dump(f.spec)) for f in files]
    out += [(f"alert-windows/{name}", "---\n" + dump(spec)) for name, spec in windows.items()]
    _write(args.output_dir, out)
    return EXIT_OK


def handle_import_openslo(args: argparse.Namespace) -> int:
    from dagster_project.interop.openslo import ImportFailed, import_documents, spec_data
    from dagster_project.interop.yaml_out import dump
    from dagster_project.spec.validate import validate
    from dagster_project.spec.yaml_doc import YamlError
    from dagster_project.spec.yaml_source import load_yaml_stream

    docs = []
    for path in args.files:
        try:
            docs += load_yaml_stream(path)
        except YamlError as exc:
            raise UsageError(str(exc)) from None
    try:
        spec = import_documents(docs)
    except ImportFailed as exc:
        raise UsageError("not importable as a spec:\n" + "\n".join(str(i) for i in exc.issues)) from None
    sources = ", ".join(str(p) for p in args.files)
    text = f"# Imported by `slo import openslo` from {sources}.\n" + dump(spec_data(spec))
    # Validated before it replaces anything: a spec that would not load is reported, and the file left as it was.
    args.output.parent.mkdir(parents=True, exist_ok=True)
    draft = args.output.with_name(f".{args.output.name}.importing.yaml")
    draft.write_text(text)
    try:
        _loaded, issues = validate([draft])
    except BaseException:
        draft.unlink(missing_ok=True)
        raise
    if issues:
        draft.unlink()
        lines = "\n".join(str(i).replace(str(draft), str(args.output)) for i in issues)
        raise UsageError("the imported spec does not validate:\n" + lines)
    draft.replace(args.output)
    print(f"wrote {args.output}")
    return EXIT_OK


def handle_export_odcs(args: argparse.Namespace) -> int:
    from dagster_project.interop.odcs import export_contract
    from dagster_project.interop.yaml_out import dump

    specs = load_specs(config_of(args))
    if args.output_dir is None:
        _write(None, [("", "---\n" + dump(export_contract(s))) for s in specs])
    else:
        _write(args.output_dir, [(f"{s.data_product.id}.odcs.yaml", dump(export_contract(s))) for s in specs])
    return EXIT_OK


def handle_import_odcs(args: argparse.Namespace) -> int:
    import tempfile

    from dagster_project.interop.odcs import NotAContract, import_contract
    from dagster_project.interop.yaml_out import dump
    from dagster_project.spec.validate import validate
    from dagster_project.spec.yaml_doc import YamlError
    from dagster_project.spec.yaml_source import load_yaml

    try:
        imported = import_contract(load_yaml(args.file))
    except YamlError as exc:
        raise UsageError(str(exc)) from None
    except NotAContract as exc:
        if len(exc.issues) == 1:  # one problem, one line
            raise UsageError(f"not an ODCS v3 contract: {exc.issues[0]}") from None
        raise UsageError("not an ODCS v3 contract:\n" + "\n".join(str(i) for i in exc.issues)) from None
    if not imported.data["slos"]:
        lines = "\n".join(str(w) for w in sorted(imported.warnings))
        raise UsageError(f"nothing in {args.file} maps to an SLO" + (":\n" + lines if lines else ""))
    target = args.output if args.output is not None else Path("-")
    header = f"# Imported by `slo import odcs` from {args.file}.\n"
    with tempfile.TemporaryDirectory(prefix="slo-import-") as tmp:
        # Validated before it replaces anything; an SLO the spec refuses (a query reading another table) is left
        # out and reported at its rule, the rest imported. The target is replaced only by a spec that validates.
        draft = Path(tmp) / (args.output.name if args.output is not None else "imported.yaml")
        data, origins, warnings = imported.data, list(imported.origins), list(imported.warnings)
        while True:
            draft.write_text(header + dump(data))
            _loaded, issues = validate([draft])
            refused = {int(m.group(1)): i for i in issues if (m := re.match(r"slos\.(\d+)", i.path))}
            if not issues or len(refused) != len(issues) or len(refused) == len(data["slos"]):
                break
            for n in sorted(refused, reverse=True):
                del data["slos"][n]
                warnings.append(imported.warning_at(origins.pop(n), f"not imported: {refused[n].message}"))
        for w in sorted(warnings):
            print(str(w), file=sys.stderr)
        if issues:
            lines = "\n".join(str(i).replace(str(draft), str(target)) for i in issues)
            raise UsageError(
                f"nothing importable from {args.file}:\n" + lines
                if refused
                else "the imported spec does not validate:\n" + lines
            )
        if args.output is None:
            sys.stdout.write(draft.read_text())
            return EXIT_OK
        args.output.parent.mkdir(parents=True, exist_ok=True)
        staged = args.output.with_name(f".{args.output.name}.importing.yaml")
        staged.write_text(draft.read_text())
        staged.replace(args.output)
    print(f"wrote {args.output} ({len(data['slos'])} SLOs, {len(warnings)} warnings)")
    return EXIT_OK
