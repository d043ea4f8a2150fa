#!/bin/bash
# Every pointer to a document must lead somewhere: the comments of lib/,
# agent/, the Makefile, the Dockerfile, deploy/ and the test scripts that
# name a Markdown file (docs/api.md, deploy/README.md...), the sections they
# quote after it (`docs/api.md, "Connecting"`, `docs/apparmor.md: "From file
# to kernel", "Ownership"`) and the relative links of the Markdown files
# (`](docs/operations.md#labels)`, `](#commands)`).  A path is taken from the
# file's own folder, then from the top of the repository; a quoted section
# must be a heading of that file, and an anchor the GitHub anchor of one
# (lower case, punctuation dropped, each space a `-`, `-1`, `-2`... for
# repeats).  Headings inside ``` blocks do not count.
# Prints one "ok"/"not ok" line a file (the broken references below it),
# then "N passed, N failed"; exits 1 when one failed.
#   test/tools/doc-refs.sh [ROOT]    ROOT: the repository (default: this one)
set -u
root=${1:-$(dirname "$0")/../..}
cd "$root" || exit 2
exec python3 - <<'EOF'
import os, re, subprocess, sys

def files():
    """The files that may point at a document: tracked ones when in git."""
    try:
        out = subprocess.run(["git", "ls-files"], capture_output=True, text=True, check=True).stdout
        listed = out.split("\n")
    except (OSError, subprocess.CalledProcessError):
        listed = [os.path.relpath(os.path.join(d, f)) for d, _, fs in os.walk(".") for f in fs]
    keep = []
    for f in listed:
        if not f or not os.path.isfile(f) or f == "test/tools/doc-refs.sh":
            continue  # this file's patterns are examples, not references
        top = f.split("/")[0]
        if f in ("Makefile", "Dockerfile", "README.md") or re.fullmatch(r"docs/[^/]+\.md", f):
            keep.append(f)
        elif top in ("lib", "agent") and re.search(r"\.[ch]$", f):
            keep.append(f)
        elif top == "deploy":
            keep.append(f)
        elif top == "test" and not f.startswith("test/data/") and (
                re.search(r"\.(sh|bash|bats|c|h|py|mjs|js|md)$", f) or os.path.basename(f) == "Makefile"):
            keep.append(f)
    return sorted(keep)

def slug(text):
    """GitHub's anchor of a heading's text."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)   # [text](link) -> text
    text = text.replace("`", "").replace("*", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")

headings_cache = {}
def headings(path):
    """(texts, anchors) of a Markdown file's headings."""
    if path not in headings_cache:
        texts, anchors, seen, fence = set(), set(), {}, False
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if re.match(r"\s*(```|~~~)", line):
                    fence = not fence
                    continue
                m = None if fence else re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
                if m:
                    t = m.group(1)
                    texts.add(t.replace("`", ""))
                    a = slug(t)
                    n = seen.get(a, 0)
                    seen[a] = n + 1
                    anchors.add(a if n == 0 else "%s-%d" % (a, n))
                for a in re.findall(r"<a\s+(?:name|id)=\"([^\"]+)\"", line):
                    anchors.add(a)
        headings_cache[path] = (texts, anchors)
    return headings_cache[path]

def resolve(src, target):
    """The path target names from src (its folder first, then the top), or None."""
    for base in (os.path.dirname(src), "."):
        p = os.path.normpath(os.path.join(base, target))
        if not p.startswith("..") and os.path.exists(p):
            return p
    return None

# A document path, an optional anchor, then optional quoted section names:
# `X.md#a`, `X.md, "S"`, `X.md ("S")`, `X.md: "S", "T"`, `X.md, "S" and "T"`.
DOC = re.compile(r"(?<![\w./>-])((?:\.\.?/)*(?:[\w.-]+/)*[\w.-]+\.md)(#[\w-]+)?"
                 r"((?:[,:]\s*\(?|\s*\()\s*\"[^\"\n]+\"(?:(?:,\s*|\s+and\s+)\"[^\"\n]+\")*)?")
LINK = re.compile(r"\]\(([^)\s]+)\)")

def check(src):
    with open(src, encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    text = re.sub(r"[a-z][a-z0-9+.-]*://\S+", " ", text)          # URLs are not ours
    text = re.sub(r"\$\{?\w+\}?/", "", text)                     # $repo/docs/x.md
    if re.search(r"\.[ch]$", src):
        # C: only comments and strings name documents (`d.md` is a member).
        keep = re.compile(r"//[^\n]*|/\*.*?\*/|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'", re.S)
        text = "\n".join(m.group(0) for m in keep.finditer(text))
    refs, bad = 0, []
    if src.endswith(".md"):
        # Links are Markdown, not code: ```blocks``` and `spans` hold none.
        prose = re.sub(r"^\s*```.*?^\s*```", "", text, flags=re.S | re.M)
        prose = re.sub(r"(`+).*?\1", "", prose, flags=re.S)
        for target in LINK.findall(prose):
            if target.startswith(("mailto:", "<")):
                continue
            path, _, anchor = target.partition("#")
            refs += 1
            p = resolve(src, path) if path else src
            if p is None:
                bad.append("link %s: no such file" % target)
            elif anchor and p.endswith(".md") and anchor not in headings(p)[1]:
                bad.append("link %s: no heading with anchor #%s in %s" % (target, anchor, p))
        text = LINK.sub("]()", text)  # checked: not again as a path below
    # Comments run over lines: join them, dropping each line's comment marker.
    flat = re.sub(r"\\?\n[ \t]*(?://|/\*+|\*+(?!/)|#+)?[ \t]*", " ", text)
    for m in DOC.finditer(flat):
        target, anchor, quoted = m.group(1), m.group(2), m.group(3)
        refs += 1
        p = resolve(src, target)
        if p is None:
            bad.append("%s: no such file" % target)
            continue
        if anchor and anchor[1:] not in headings(p)[1]:
            bad.append("%s%s: no heading with that anchor" % (target, anchor))
        for name in re.findall(r"\"([^\"]+)\"", quoted or ""):
            name = name.replace("`", "").strip()
            if name not in headings(p)[0]:
                bad.append("%s, \"%s\": no such heading in %s" % (target, name, p))
    return refs, bad

passed = failed = 0
for f in files():
    refs, bad = check(f)
    if refs == 0:
        continue
    if bad:
        failed += 1
        print("not ok - %s" % f)
        for b in bad:
            print("#   %s" % b)
    else:
        passed += 1
        print("ok - %s (%d references)" % (f, refs))
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
EOF
