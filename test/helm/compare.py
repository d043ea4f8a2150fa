#!/usr/bin/env python3
"""Compares two sets of Kubernetes objects object by object.

    compare.py KUSTOMIZE.yaml HELM.yaml

Objects are matched by kind, namespace and name; each pair must then be
equal as parsed YAML (map order, quoting and comments do not matter), after
removing from the Helm side exactly what HELM_ONLY_LABELS lists, the one
documented difference. Prints one line per difference and exits 1 when
there is one, 0 when the sets are the same.
"""
import sys

import yaml

# The labels the chart adds to every object's metadata.labels (and nowhere
# else: not to selectors, not to the pod template). Each must be present on
# every Helm object; they are removed before comparing.
HELM_ONLY_LABELS = ("helm.sh/chart", "app.kubernetes.io/managed-by", "app.kubernetes.io/instance")


def load(path):
    with open(path) as f:
        return [o for o in yaml.safe_load_all(f) if o is not None]


def key(o):
    m = o.get("metadata", {})
    return "%s/%s/%s" % (o.get("kind"), m.get("namespace", ""), m.get("name"))


def index(objs, what, problems):
    out = {}
    for o in objs:
        k = key(o)
        if k in out:
            problems.append("%s: %s twice" % (what, k))
        out[k] = o
    return out


def diff(a, b, path, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            p = "%s.%s" % (path, k)
            if k not in b:
                out.append("%s: only in kustomize: %r" % (p, a[k]))
            elif k not in a:
                out.append("%s: only in helm: %r" % (p, b[k]))
            else:
                diff(a[k], b[k], p, out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, "%s[%d]" % (path, i), out)
    elif type(a) is not type(b) or a != b:
        out.append("%s: kustomize %r, helm %r" % (path, a, b))


def normalise_helm(o, problems):
    labels = o.get("metadata", {}).get("labels") or {}
    for label in HELM_ONLY_LABELS:
        if label not in labels:
            problems.append("%s: metadata.labels has no %s" % (key(o), label))
        labels.pop(label, None)
    return o


def compare(kust, helm):
    """Returns (list of problems, number of objects compared)."""
    problems = []
    a = index(kust, "kustomize", problems)
    b = index(helm, "helm", problems)
    for k in sorted(set(a) - set(b)):
        problems.append("%s: only in kustomize" % k)
    for k in sorted(set(b) - set(a)):
        problems.append("%s: only in helm" % k)
    both = sorted(set(a) & set(b))
    for k in both:
        d = []
        diff(a[k], normalise_helm(b[k], problems), k, d)
        problems.extend(d)
    return problems, len(both)


def main():
    problems, n = compare(load(sys.argv[1]), load(sys.argv[2]))
    for p in problems:
        print(p)
    print("%d objects compared, %d differences" % (n, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
