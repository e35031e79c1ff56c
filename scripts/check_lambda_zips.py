#!/usr/bin/env python3
"""Checks cargo-lambda's zips: one per binary in functions/, each holding exactly one executable
`bootstrap` ELF file for the expected architecture.

usage: check_lambda_zips.py LAMBDA_DIR ARCH   (ARCH: aarch64 or x86_64)
"""
import pathlib
import stat
import struct
import sys
import zipfile

MACHINES = {"aarch64": 183, "x86_64": 62}


def main() -> int:
    lambda_dir, arch = pathlib.Path(sys.argv[1]), sys.argv[2]
    root = pathlib.Path(__file__).resolve().parent.parent
    binaries = sorted(p.name for p in (root / "functions").iterdir() if p.is_dir())
    problems = []
    print(
        "  sizes of the ci-package zips (the `ci-package` profile skips full LTO to build fast: "
        "these check packaging and architecture; the --release zips you deploy are smaller, "
        "BENCHMARKS.md gives their sizes)"
    )
    for name in binaries:
        path = lambda_dir / name / "bootstrap.zip"
        if not path.is_file():
            problems.append(f"{path}: missing")
            continue
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if [entry.filename for entry in entries] != ["bootstrap"]:
                problems.append(f"{path}: holds {[e.filename for e in entries]}, not one `bootstrap`")
                continue
            entry = entries[0]
            mode = entry.external_attr >> 16
            if not mode & stat.S_IXUSR:
                problems.append(f"{path}: bootstrap is not executable (mode {oct(mode)})")
            header = archive.read(entry)[:20]
            if header[:4] != b"\x7fELF" or header[4] != 2:
                problems.append(f"{path}: bootstrap is not a 64-bit ELF file")
                continue
            machine = struct.unpack_from("<H", header, 18)[0]
            if machine != MACHINES[arch]:
                problems.append(f"{path}: built for ELF machine {machine}, expected {arch} ({MACHINES[arch]})")
        size = path.stat().st_size
        print(f"  {name}: bootstrap.zip {size / 1e6:.2f} MB, {arch}")
    for problem in problems:
        print(f"  FAIL {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
