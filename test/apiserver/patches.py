"""The four PATCH content types, as the API server applies them.

- merge_patch: RFC 7386 (gopkg.in/evanphx/json-patch.v4 MergePatch).
- json_patch: RFC 6902 (evanphx/json-patch.v4 DecodePatch + Apply): add,
  remove, replace, move, copy, test; "~1"/"~0" escapes; "-" appends.
- strategic_merge_patch: k8s.io/apimachinery/pkg/util/strategicpatch for the
  subset a Node or an Event uses: maps merge like a merge patch, lists with a
  patchMergeKey merge by that key, `$patch: replace|delete|merge`,
  `$retainKeys`, `$deleteFromPrimitiveList/<f>`, `$setElementOrder/<f>`.
- Managed fields (server-side apply): ownership of metadata.labels/<key>,
  metadata.annotations/<key> and of the other fields at depth 2, with
  conflicts between managers as structured-merge-diff reports them.
"""

import copy
import json

from apimodel import ApiError, bad_request, generic_invalid, json_type


class PatchError(Exception):
    """Raised with the ApiError the server answers."""

    def __init__(self, api_error):
        super().__init__(api_error.message)
        self.api_error = api_error


# --------------------------------------------------------------------------
# RFC 7386


def _merge(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = _merge(result.get(k), v)
    return result


def merge_patch(doc, patch):
    if patch is None or not isinstance(patch, (dict, list)):
        raise PatchError(bad_request("Invalid JSON Patch"))
    if isinstance(patch, list):
        # evanphx: a non-object patch replaces the document; decoding then fails.
        return _prune_nulls(patch)
    return _merge(doc, patch)


def _prune_nulls(v):
    if isinstance(v, dict):
        return {k: _prune_nulls(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [_prune_nulls(x) for x in v]
    return v


# --------------------------------------------------------------------------
# RFC 6902

MAX_JSON_PATCH_OPS = 10000


def decode_json_patch(patch):
    if not isinstance(patch, list):
        # the handler decodes into its own []jsonPatchOp first (v1.37)
        raise PatchError(bad_request("error decoding patch: json: cannot unmarshal %s into Go value of type "
                                     "[]handlers.jsonPatchOp"
                                     % ("object" if isinstance(patch, dict) else json_type(patch))))
    for op in patch:
        if not isinstance(op, dict):
            raise PatchError(bad_request("error decoding patch: json: cannot unmarshal %s into Go value of type "
                                         "handlers.jsonPatchOp" % json_type(op)))
    if len(patch) > MAX_JSON_PATCH_OPS:
        raise PatchError(ApiError(413, "RequestEntityTooLarge",
                                  "Request entity too large: The allowed maximum operations in a JSON patch "
                                  "is %d, got %d" % (MAX_JSON_PATCH_OPS, len(patch))))
    return patch


class _Fail(Exception):
    pass


def _split(path):
    if path == "":
        return []
    if not isinstance(path, str) or not path.startswith("/"):
        raise _Fail("bad path %r" % path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _container(doc, parts):
    """The container holding the last part of the path."""
    cur = doc
    for p in parts[:-1]:
        cur = _child(cur, p)
    return cur


def _child(cur, p):
    if isinstance(cur, dict):
        if p not in cur:
            raise _Fail("missing %s" % p)
        return cur[p]
    if isinstance(cur, list):
        return cur[_index(cur, p, False)]
    raise _Fail("not a container")


def _index(lst, p, for_add):
    if p == "-" and for_add:
        return len(lst)
    if not p.isdigit() or (len(p) > 1 and p[0] == "0"):
        raise _Fail("bad index %s" % p)
    i = int(p)
    if i > len(lst) or (i == len(lst) and not for_add):
        raise _Fail("index out of range")
    return i


def _get(doc, path):
    parts = _split(path)
    cur = doc
    for p in parts:
        cur = _child(cur, p)
    return cur


def _add(doc, path, value):
    parts = _split(path)
    if not parts:
        return copy.deepcopy(value)
    c = _container(doc, parts)
    key = parts[-1]
    if isinstance(c, dict):
        c[key] = copy.deepcopy(value)
    elif isinstance(c, list):
        c.insert(_index(c, key, True), copy.deepcopy(value))
    else:
        raise _Fail("not a container")
    return doc


def _remove(doc, path):
    parts = _split(path)
    if not parts:
        raise _Fail("cannot remove root")
    c = _container(doc, parts)
    key = parts[-1]
    if isinstance(c, dict):
        if key not in c:
            raise _Fail("Unable to remove nonexistent key: %s: missing value" % key)
        return c.pop(key)
    if isinstance(c, list):
        return c.pop(_index(c, key, False))
    raise _Fail("not a container")


def _replace(doc, path, value):
    parts = _split(path)
    if not parts:
        return copy.deepcopy(value)
    c = _container(doc, parts)
    key = parts[-1]
    if isinstance(c, dict):
        # and EnsurePathExistsOnAdd: a replace of a missing key adds it (v1.37)
        c[key] = copy.deepcopy(value)
    elif isinstance(c, list):
        c[_index(c, key, False)] = copy.deepcopy(value)
    else:
        raise _Fail("not a container")
    return doc


def _equal(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def json_patch(doc, ops):
    """Apply a decoded RFC 6902 patch. Any failing operation answers the
    generic 422 the real server gives (NewGenericServerResponse)."""
    doc = copy.deepcopy(doc)
    try:
        for op in ops:
            kind = op.get("op")
            path = op.get("path", "")
            if kind == "add":
                doc = _add(doc, path, op.get("value"))
            elif kind == "remove":
                _remove(doc, path)
            elif kind == "replace":
                doc = _replace(doc, path, op.get("value"))
            elif kind == "move":
                frm = op.get("from", "")
                if path.startswith(frm + "/"):
                    raise _Fail("cannot move into a child of itself")
                v = _remove(doc, frm)
                doc = _add(doc, path, v)
            elif kind == "copy":
                doc = _add(doc, path, _get(doc, op.get("from", "")))
            elif kind == "test":
                try:
                    cur = _get(doc, path)
                except _Fail:
                    cur = None
                if not _equal(cur, op.get("value")):
                    raise _Fail("testing value %s failed: test failed" % path)
            else:
                raise _Fail("Unexpected kind: %s" % kind)
    except _Fail:
        raise PatchError(generic_invalid()) from None
    return doc


# --------------------------------------------------------------------------
# Strategic merge patch

# patchStrategy:"merge" fields, by JSON path (list items are addressed with []).
MERGE_KEYS = {
    "status.conditions": "type",
    "status.addresses": "type",
    "status.volumesAttached": "name",
    "metadata.ownerReferences": "uid",
}
PRIMITIVE_MERGE_LISTS = {"metadata.finalizers", "spec.finalizers"}

_DIRECTIVE_PATCH = "$patch"
_RETAIN_KEYS = "$retainKeys"
_DELETE_PRIMITIVE = "$deleteFromPrimitiveList/"
_SET_ORDER = "$setElementOrder/"


def strategic_merge_patch(doc, patch):
    if not isinstance(patch, dict):
        raise PatchError(bad_request("json: cannot unmarshal %s into Go value of type map[string]interface {}"
                                     % json_type(patch)))
    return _smp_map(doc if isinstance(doc, dict) else {}, patch, "")


def _smp_map(original, patch, path):
    directive = patch.get(_DIRECTIVE_PATCH)
    if directive is not None:
        if directive == "replace":
            return {k: copy.deepcopy(v) for k, v in patch.items() if k != _DIRECTIVE_PATCH}
        if directive == "delete":
            return None
        if directive != "merge":
            raise PatchError(bad_request("Unknown patch type: %s in map: %s"
                                         % (directive, json.dumps(patch, separators=(",", ":")))))
    result = dict(original)
    retain = patch.get(_RETAIN_KEYS)
    for k, v in patch.items():
        if k in (_DIRECTIVE_PATCH, _RETAIN_KEYS) or k.startswith(_SET_ORDER):
            continue
        if k.startswith(_DELETE_PRIMITIVE):
            field = k[len(_DELETE_PRIMITIVE):]
            if not isinstance(v, list):
                raise PatchError(bad_request("Invalid JSON Patch"))
            if isinstance(result.get(field), list):
                result[field] = [x for x in result[field] if x not in v]
            continue
        sub = path + "." + k if path else k
        if v is None:
            result.pop(k, None)
        elif isinstance(v, dict) and isinstance(result.get(k), dict):
            merged = _smp_map(result[k], v, sub)
            if merged is None:
                result.pop(k, None)
            else:
                result[k] = merged
        elif isinstance(v, dict):
            merged = _smp_map({}, v, sub)
            if merged is None:
                result.pop(k, None)
            else:
                result[k] = merged
        elif isinstance(v, list):
            result[k] = _smp_list(result.get(k), v, sub)
        else:
            result[k] = copy.deepcopy(v)
    if retain is not None:
        if not isinstance(retain, list):
            raise PatchError(bad_request("invalid patch format for retainKeys"))
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _smp_list(original, patch, path):
    original = original if isinstance(original, list) else []
    if path in PRIMITIVE_MERGE_LISTS:
        out = list(original)
        for x in patch:
            if x not in out:
                out.append(x)
        return out
    key = MERGE_KEYS.get(path)
    if key is None:
        # No patchStrategy: the list is replaced (a "$patch" element is meaningless).
        return [copy.deepcopy(x) for x in patch]
    if any(isinstance(x, dict) and x.get(_DIRECTIVE_PATCH) == "replace" for x in patch):
        return [copy.deepcopy(x) for x in patch if not (isinstance(x, dict) and _DIRECTIVE_PATCH in x)]
    out = [copy.deepcopy(x) for x in original]
    patched = []  # the merge keys of the patch's items, in the patch's order
    for item in patch:
        if not isinstance(item, dict):
            raise PatchError(bad_request("unable to find api field in struct for the merge key"))
        if key not in item:
            raise PatchError(bad_request("map: %s does not contain declared merge key: %s"
                                         % (json.dumps(item, separators=(",", ":")), key)))
        idx = next((i for i, x in enumerate(out) if isinstance(x, dict) and x.get(key) == item[key]), None)
        if item.get(_DIRECTIVE_PATCH) == "delete":
            if idx is not None:
                out.pop(idx)
            continue
        if idx is None:
            out.append(_smp_map({}, item, path))
        else:
            out[idx] = _smp_map(out[idx], item, path)
        if item[key] not in patched:
            patched.append(item[key])
    return _smp_order(out, patched, [x.get(key) for x in original if isinstance(x, dict)], key)


def _smp_order(items, patched, server_order, key):
    """strategicpatch's normalizeElementOrder and mergeSortedSlice: the
    patch's items in the patch's order, the live object's other items in
    theirs, interleaved by their place in the live list where both have one;
    an item new to the list goes before the live items (v1.37: a new Node
    condition comes first)."""
    by_key = {x.get(key): x for x in items if isinstance(x, dict)}
    right = [by_key[k] for k in patched if k in by_key]
    left = [x for x in items if isinstance(x, dict) and x.get(key) not in patched]
    out, i, j = [], 0, 0
    while i < len(left) or j < len(right):
        if i >= len(left):
            out.append(right[j])
            j += 1
        elif j >= len(right):
            out.append(left[i])
            i += 1
        else:
            li, ri = left[i].get(key), right[j].get(key)
            if li in server_order and ri in server_order and server_order.index(li) < server_order.index(ri):
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
    return out


# --------------------------------------------------------------------------
# Managed fields (a reduced structured-merge-diff)
#
# A field path is a tuple. Labels and annotations are owned key by key;
# other metadata (finalizers, ownerReferences) as a whole; other top-level
# fields at depth 2 (spec.unschedulable, status.conditions, count, ...).

_SYSTEM_META = {"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink", "generateName"}


def field_paths(obj):
    """{path: value} for every owned field of obj."""
    out = {}
    for k, v in obj.items():
        if k in ("apiVersion", "kind"):
            continue
        if k == "metadata":
            for mk, mv in (v or {}).items():
                if mk in _SYSTEM_META:
                    continue
                if mk in ("labels", "annotations") and isinstance(mv, dict):
                    for lk, lv in mv.items():
                        out[("metadata", mk, lk)] = lv
                else:
                    out[("metadata", mk)] = mv
        elif isinstance(v, dict) and v:
            for sk, sv in v.items():
                out[(k, sk)] = sv
        elif v not in (None, {}, ""):
            out[(k,)] = v
    return out


def fields_v1(paths):
    """Render a set of paths in the FieldsV1 trie format."""
    root = {}
    for p in sorted(paths):
        cur = root
        for part in p:
            cur = cur.setdefault("f:" + part, {})
    return root


def set_path(obj, path, value):
    cur = obj
    for part in path[:-1]:
        if not isinstance(cur.get(part), dict):
            cur[part] = {}
        cur = cur[part]
    cur[path[-1]] = copy.deepcopy(value)


def del_path(obj, path):
    cur = obj
    for part in path[:-1]:
        cur = cur.get(part)
        if not isinstance(cur, dict):
            return
    cur.pop(path[-1], None)


class Managers:
    """Per-object ownership: a list of entries {manager, operation, apiVersion, time, paths}."""

    def __init__(self, entries=None):
        self.entries = entries or []

    def to_json(self):
        return [dict(e, paths=[list(p) for p in sorted(e["paths"])]) for e in self.entries]

    @classmethod
    def from_json(cls, data):
        return cls([dict(e, paths={tuple(p) for p in e["paths"]}) for e in data or []])

    def render(self):
        out = []
        for e in self.entries:
            out.append({"manager": e["manager"], "operation": e["operation"], "apiVersion": e["apiVersion"],
                        "time": e["time"], "fieldsType": "FieldsV1", "fieldsV1": fields_v1(e["paths"])})
        return out

    def _entry(self, manager, operation, api_version, now):
        for e in self.entries:
            if e["manager"] == manager and e["operation"] == operation:
                e["apiVersion"] = api_version
                return e
        e = {"manager": manager, "operation": operation, "apiVersion": api_version, "time": now, "paths": set()}
        self.entries.append(e)
        return e

    def _gc(self):
        self.entries = [e for e in self.entries if e["paths"]]

    def update(self, old_obj, new_obj, manager, api_version, now):
        """A non-apply write: the writer owns what it changed; removed fields lose all owners."""
        old = field_paths(old_obj) if old_obj else {}
        new = field_paths(new_obj)
        changed = {p for p, v in new.items() if p not in old or old[p] != v}
        removed = set(old) - set(new)
        for e in self.entries:
            e["paths"] -= removed
        if changed:
            e = self._entry(manager, "Update", api_version, now)
            e["paths"] |= changed
            e["time"] = now
        self._gc()

    def apply(self, current, config, manager, api_version, now, force):
        """Server-side apply of `config` onto `current` (both JSON dicts).
        Returns the new object, or raises PatchError(409) on conflicts."""
        cur = field_paths(current) if current else {}
        want = field_paths(config)
        conflicts = []
        for p, v in sorted(want.items()):
            if p in cur and cur[p] != v:
                for e in self.entries:
                    if e["manager"] != manager and p in e["paths"]:
                        conflicts.append((e["manager"], e["apiVersion"], p))
        if conflicts and not force:
            raise PatchError(apply_conflict(conflicts))
        result = copy.deepcopy(current) if current else {}
        for p, v in want.items():
            set_path(result, p, v)
        mine = next((e for e in self.entries if e["manager"] == manager and e["operation"] == "Apply"), None)
        previously = mine["paths"] if mine else set()
        for p in previously - set(want):
            if not any(p in e["paths"] for e in self.entries if e is not mine):
                del_path(result, p)
        for e in self.entries:
            if e is not mine:
                if force:
                    e["paths"] -= set(want)
                else:
                    # equal values: ownership is shared, nothing to take away
                    pass
        entry = self._entry(manager, "Apply", api_version, now)
        entry["paths"] = set(want)
        entry["time"] = now
        self._gc()
        return result


def _path_text(p):
    return "." + ".".join(p)


def apply_conflict(conflicts):
    """errors.NewApplyConflict as structured-merge-diff words it."""
    causes = [{"reason": "FieldManagerConflict",
               "message": 'conflict with "%s" using %s' % (m, v), "field": _path_text(p)}
              for m, v, p in conflicts]
    if len(conflicts) == 1:
        m, v, p = conflicts[0]
        msg = 'Apply failed with 1 conflict: conflict with "%s" using %s: %s' % (m, v, _path_text(p))
    else:
        by = {}
        for m, v, p in conflicts:
            by.setdefault((m, v), []).append(p)
        parts = []
        for (m, v), ps in by.items():
            if len(ps) == 1:
                parts.append('conflict with "%s" using %s: %s' % (m, v, _path_text(ps[0])))
            else:
                parts.append('conflicts with "%s" using %s:\n%s'
                             % (m, v, "\n".join("- " + _path_text(p) for p in ps)))
        msg = "Apply failed with %d conflicts: %s" % (len(conflicts), "\n".join(parts))
    return ApiError(409, "Conflict", msg, {"causes": causes})
