#!/usr/bin/env python3
"""Copy the shared sysfs fixtures into Tests/Fixtures, restoring their symbolic links.

The fixtures under ../shared/fixtures reached us with every symbolic link flattened
into a small regular file holding the link's target ("../../../devices/pci0000:00/...",
no trailing newline). Real sysfs attributes always end in a newline, so such files are
unambiguous; this script turns them back into relative links, as the kernel made them,
and copies everything else byte for byte. It also copies the hex dumps from
../shared/realdata (text dumps only) for the --dump tests.

Usage: Scripts/import-fixtures.py [SHARED_DIR]   (default: ../shared next to the repository)
"""
import os
import shutil
import sys

repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
shared = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(repo, "..", "shared"))
dest = os.path.join(repo, "Tests", "Fixtures")


def is_flattened_link(path):
    if os.path.islink(path) or not os.path.isfile(path) or os.path.getsize(path) > 4096:
        return None
    with open(path, "rb") as f:
        data = f.read()
    if data.startswith(b"../") and not data.endswith(b"\n") and b"\0" not in data:
        return data.decode()
    return None


def import_tree(src, dst):
    links = files = 0
    for dirpath, dirnames, filenames in os.walk(src):
        rel = os.path.relpath(dirpath, src)
        out = os.path.join(dst, rel)
        os.makedirs(out, exist_ok=True)
        for name in filenames:
            s = os.path.join(dirpath, name)
            d = os.path.join(out, name)
            target = is_flattened_link(s)
            if target is not None:
                os.symlink(target, d)
                links += 1
            else:
                shutil.copyfile(s, d)
                files += 1
    return links, files


def main():
    fixtures = os.path.join(shared, "fixtures")
    sysfs = os.path.join(dest, "sysfs")
    shutil.rmtree(sysfs, ignore_errors=True)
    os.makedirs(sysfs)
    for name in sorted(os.listdir(fixtures)):
        src = os.path.join(fixtures, name)
        if not os.path.isdir(src):
            continue
        links, files = import_tree(src, os.path.join(sysfs, name))
        print(f"{name}: {files} files, {links} links restored")
    shutil.copyfile(os.path.join(fixtures, "FORMAT.md"), os.path.join(sysfs, "FORMAT.md"))

    realdata = os.path.join(dest, "realdata")
    shutil.rmtree(realdata, ignore_errors=True)
    count = 0
    for dirpath, _, filenames in os.walk(os.path.join(shared, "realdata")):
        for name in filenames:
            s = os.path.join(dirpath, name)
            rel = os.path.relpath(s, os.path.join(shared, "realdata"))
            if name.endswith(".bin"):
                continue
            d = os.path.join(realdata, rel)
            os.makedirs(os.path.dirname(d), exist_ok=True)
            shutil.copyfile(s, d)
            count += 1
    print(f"realdata: {count} files")


if __name__ == "__main__":
    main()
