"""The Kubernetes API objects the stand-in serves, and the rules it applies.

Everything here mirrors a named piece of upstream Kubernetes (v1.37):

- ApiError / status bodies: k8s.io/apimachinery/pkg/api/errors (StatusError,
  NewNotFound, NewConflict, NewInvalid, ...) and the order in which
  metav1.Status is serialized.
- FieldError: k8s.io/apimachinery/pkg/util/validation/field (Error,
  ErrorBody, ToAggregate).
- is_qualified_name & co: k8s.io/apimachinery/pkg/api/validate/content and
  pkg/util/validation.
- validate_labels / validate_annotations / validate_object_meta*:
  k8s.io/apimachinery/pkg/apis/meta/v1/validation and
  k8s.io/apimachinery/pkg/api/validation/objectmeta.go.
- validate_event_*: pkg/apis/core/validation/events.go.
- decode(): what decoding JSON into the typed Go structs does (type errors,
  unknown fields for fieldValidation=Strict/Warn, time formats, omitempty).
- *_table(): pkg/printers/internalversion/printers.go (server-side Table).

Only the standard library is used.
"""

import datetime
import json
import re

# --------------------------------------------------------------------------
# metav1.Status errors


class ApiError(Exception):
    """An error answered as a metav1.Status (or as plain text, see text=)."""

    def __init__(self, code, reason, message, details=None, headers=None, text=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details  # None: no "details" key at all
        self.headers = dict(headers or {})
        self.text = text  # a plain-text body instead of a Status

    def status(self):
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message}
        if self.reason:
            body["reason"] = self.reason
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def _details(name=None, group=None, kind=None, causes=None, retry_after=None):
    # Field order of metav1.StatusDetails: name, group, kind, uid, causes, retryAfterSeconds.
    d = {}
    if name:
        d["name"] = name
    if group:
        d["group"] = group
    if kind:
        d["kind"] = kind
    if causes:
        d["causes"] = causes
    if retry_after:
        d["retryAfterSeconds"] = retry_after
    return d


def qualified(resource, group):
    return resource + "." + group if group else resource


def not_found(resource, group, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (qualified(resource, group), name),
                    _details(name=name, group=group, kind=resource))


def path_not_found():
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


OPTIMISTIC_LOCK = "the object has been modified; please apply your changes to the latest version and try again"


def conflict(resource, group, name, why=OPTIMISTIC_LOCK):
    return ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": %s'
                    % (qualified(resource, group), name, why),
                    _details(name=name, group=group, kind=resource))


def already_exists(resource, group, name):
    return ApiError(409, "AlreadyExists", '%s "%s" already exists' % (qualified(resource, group), name),
                    _details(name=name, group=group, kind=resource))


def bad_request(message):
    return ApiError(400, "BadRequest", message)


def method_not_allowed():
    return ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})


UNSUPPORTED_MEDIA_TYPE_ROUTE = "415: Unsupported Media Type"


def unsupported_media_type_route():
    """A Content-Type no route consumes: go-restful refuses the request before any handler runs, and
    the apiserver's serviceErrorHandler answers NewGenericServerResponse(415, ..., "415: Unsupported
    Media Type"): reason UnsupportedMediaType, that message, an empty details."""
    return ApiError(415, "UnsupportedMediaType", UNSUPPORTED_MEDIA_TYPE_ROUTE, {})


def not_acceptable():
    return ApiError(406, "NotAcceptable", "only the following media types are accepted: "
                    "application/json, application/yaml, application/vnd.kubernetes.protobuf")


def too_large(limit):
    return ApiError(413, "RequestEntityTooLarge", "Request entity too large: limit is %d" % limit)


def internal_error(why):
    return ApiError(500, "InternalError", "Internal error occurred: %s" % why,
                    _details(causes=[{"message": why}]))


def unauthorized():
    return ApiError(401, "Unauthorized", "Unauthorized")


def forbidden(user, verb, resource, group, namespace, name, path=None):
    """NewForbidden as the RBAC authorizer words it."""
    if resource is None:
        return ApiError(403, "Forbidden", 'forbidden: User "%s" cannot %s path "%s"' % (user, verb, path), {})
    scope = ('in the namespace "%s"' % namespace) if namespace else "at the cluster scope"
    why = 'User "%s" cannot %s resource "%s" in API group "%s" %s' % (user, verb, resource, group, scope)
    q = qualified(resource, group)
    if name:
        msg = '%s "%s" is forbidden: %s' % (q, name, why)
    else:
        msg = "%s is forbidden: %s" % (q, why)
    return ApiError(403, "Forbidden", msg, _details(name=name, group=group, kind=resource))


def invalid(kind, group, name, errs):
    """errors.NewInvalid(GroupKind{group, kind}, name, errs)."""
    # kube >= 1.34 removes duplicates from the ErrorList before building the Status: one cause per
    # distinct (type, field, value, detail) even when several validators (ObjectMeta create- and
    # update-style, then the strategy) report the same error.
    causes = []
    for e in errs:
        c = {"reason": e.type, "message": e.body(), "field": e.field}
        if c not in causes:
            causes.append(c)
    gk = kind + ("." + group if group else "")
    agg = aggregate([str(e) for e in errs])
    msg = '%s "%s" is invalid' % (gk, name)
    if agg:
        msg += ": " + agg
    return ApiError(422, "Invalid", msg, _details(name=name, group=group, kind=kind, causes=causes))


def generic_invalid():
    """NewGenericServerResponse(422, ...): what a failed JSON patch answers."""
    return ApiError(422, "Invalid", "the server rejected our request due to an error in our request", {})


def aggregate(messages):
    """utilerrors.NewAggregate(...).Error() after field.ErrorList.ToAggregate() deduplication."""
    seen = []
    for m in messages:
        if m not in seen:
            seen.append(m)
    if not seen:
        return ""
    if len(seen) == 1:
        return seen[0]
    return "[" + ", ".join(seen) + "]"


def injected_status(code, message=None, retry_after=None):
    """A Status for an injected HTTP code, worded as the real server words that code."""
    ra = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    if code == 429:
        # The max-in-flight / priority-and-fairness filters answer in plain text.
        return ApiError(429, "TooManyRequests", message or "Too many requests, please try again later.",
                        headers=ra or {"Retry-After": "1"},
                        text=(message or "Too many requests, please try again later.") + "\n")
    table = {
        400: ("BadRequest", "the server rejected our request for an unknown reason"),
        404: ("NotFound", "the server could not find the requested resource"),
        405: ("MethodNotAllowed", "the server does not allow this method on the requested resource"),
        409: ("Conflict", "the server reported a conflict"),
        410: ("Expired", "too old resource version"),
        422: ("Invalid", "the server rejected our request due to an error in our request"),
        500: ("InternalError", "Internal error occurred: injected fault"),
        503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
        504: ("Timeout", "the server was unable to return a response in the time allotted, "
                         "but may still be processing the request"),
    }
    if code == 502:
        return ApiError(502, "", message or "Bad Gateway", headers=ra, text=(message or "Bad Gateway") + "\n")
    reason, default = table.get(code, ("InternalError" if code >= 500 else "",
                                       "the server responded with the status code %d but did not "
                                       "return more information" % code))
    details = None
    if code == 500:
        details = _details(causes=[{"message": message or "injected fault"}])
    if retry_after is not None:
        details = dict(details or {}, retryAfterSeconds=retry_after)
    return ApiError(code, reason, message or default, details, headers=ra)


# --------------------------------------------------------------------------
# Field errors (k8s.io/apimachinery/pkg/util/validation/field)

INVALID = "FieldValueInvalid"
REQUIRED = "FieldValueRequired"
FORBIDDEN = "FieldValueForbidden"
TOO_LONG = "FieldValueTooLong"
NOT_SUPPORTED = "FieldValueNotSupported"
DUPLICATE = "FieldValueDuplicate"

_TYPE_TEXT = {INVALID: "Invalid value", REQUIRED: "Required value", FORBIDDEN: "Forbidden",
              TOO_LONG: "Too long", NOT_SUPPORTED: "Unsupported value", DUPLICATE: "Duplicate value"}


def go_quote(s):
    """strconv.Quote / fmt %q for a string."""
    out = ['"']
    esc = {'"': '\\"', "\\": "\\\\", "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n",
           "\r": "\\r", "\t": "\\t", "\v": "\\v"}
    for ch in s:
        o = ord(ch)
        if ch in esc:
            out.append(esc[ch])
        elif ch.isprintable():
            out.append(ch)
        elif o < 0x80:
            out.append("\\x%02x" % o)
        elif o < 0x10000:
            out.append("\\u%04x" % o)
        else:
            out.append("\\U%08x" % o)
    out.append('"')
    return "".join(out)


class FieldError:
    def __init__(self, type_, field, value, detail):
        self.type = type_
        self.field = field
        self.value = value
        self.detail = detail

    def body(self):
        """field.Error.ErrorBody()."""
        if self.type in (REQUIRED, FORBIDDEN, TOO_LONG):
            s = _TYPE_TEXT[self.type]
        else:
            v = self.value
            if v is None:
                vs = "null"
            elif isinstance(v, bool):
                vs = "true" if v else "false"
            elif isinstance(v, (int, float)):
                vs = str(v)
            elif isinstance(v, str):
                vs = go_quote(v)
            else:  # Go prints a struct with %#v; JSON is the readable stand-in
                vs = json.dumps(v, separators=(",", ":"))
            s = "%s: %s" % (_TYPE_TEXT[self.type], vs)
        if self.detail:
            s += ": " + self.detail
        return s

    def __str__(self):
        return "%s: %s" % (self.field, self.body())


def f_invalid(field, value, detail):
    return FieldError(INVALID, field, value, detail)


def f_required(field, detail=""):
    return FieldError(REQUIRED, field, "", detail)


def f_forbidden(field, detail):
    return FieldError(FORBIDDEN, field, "", detail)


def f_too_long(field, limit):
    return FieldError(TOO_LONG, field, "", "must have at most %d bytes" % limit)


def f_not_supported(field, value, valid):
    return FieldError(NOT_SUPPORTED, field, value, "supported values: " + ", ".join(go_quote(v) for v in valid))


# --------------------------------------------------------------------------
# k8s.io/apimachinery/pkg/util/validation and pkg/api/validate/content (v1.37 wording).
# Label keys (qualified names), label values and the prefix part of a key are checked by the
# content package: lengths in "bytes", "a valid label key" for a key with several '/'. Object
# names and namespaces still go through util/validation's IsDNS1123Subdomain/Label: "characters".

QNAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
QNAME_ERR = ("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
             "an alphanumeric character")
QNAME_MAX = 63
LABEL_VALUE_FMT = "(" + QNAME_FMT + ")?"
LABEL_VALUE_ERR = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
                   "or '.', and must start and end with an alphanumeric character")
LABEL_VALUE_MAX = 63
DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + "(\\." + DNS1123_LABEL_FMT + ")*"
DNS1123_SUBDOMAIN_ERR = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                         "'-' or '.', and must start and end with an alphanumeric character")
DNS1123_SUBDOMAIN_MAX = 253
DNS1123_LABEL_ERR = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
                     "and must start and end with an alphanumeric character")
DNS1123_LABEL_MAX = 63
TOTAL_ANNOTATION_SIZE = 256 * 1024

# Go's regexp ^...$ never matches across a trailing newline: use fullmatch.
_QNAME_RE = re.compile(QNAME_FMT)
_LABEL_VALUE_RE = re.compile(LABEL_VALUE_FMT)
_SUBDOMAIN_RE = re.compile(DNS1123_SUBDOMAIN_FMT)
_DNS_LABEL_RE = re.compile(DNS1123_LABEL_FMT)


def blen(s):
    """Go's len(string): bytes of UTF-8."""
    return len(s.encode("utf-8", "surrogatepass"))


def max_len_error(n, content=False):
    """util/validation.MaxLenError ("characters"), content.MaxLenError ("bytes")."""
    return "must be no more than %d %s" % (n, "bytes" if content else "characters")


def regex_error(msg, fmt, *examples):
    if not examples:
        return msg + " (regex used for validation is '" + fmt + "')"
    msg += " (e.g. "
    for i, ex in enumerate(examples):
        if i > 0:
            msg += " or "
        msg += "'" + ex + "', "
    return msg + "regex used for validation is '" + fmt + "')"


def is_dns1123_subdomain(value, content=False):
    errs = []
    if blen(value) > DNS1123_SUBDOMAIN_MAX:
        errs.append(max_len_error(DNS1123_SUBDOMAIN_MAX, content))
    if not _SUBDOMAIN_RE.fullmatch(value):
        errs.append(regex_error(DNS1123_SUBDOMAIN_ERR, DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def is_dns1123_label(value):
    errs = []
    if blen(value) > DNS1123_LABEL_MAX:
        errs.append(max_len_error(DNS1123_LABEL_MAX))
    if not _DNS_LABEL_RE.fullmatch(value):
        if _SUBDOMAIN_RE.fullmatch(value):
            errs.append("must not contain dots")
        else:
            errs.append(regex_error(DNS1123_LABEL_ERR, DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def is_qualified_name(value):
    errs = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in is_dns1123_subdomain(prefix, content=True))
    else:
        return ["a valid label key " + regex_error(QNAME_ERR, QNAME_FMT, "MyName", "my.name", "123-abc")
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    if not name:
        errs.append("name part must be non-empty")
    elif blen(name) > QNAME_MAX:
        errs.append("name part " + max_len_error(QNAME_MAX, content=True))
    if not _QNAME_RE.fullmatch(name):
        errs.append("name part " + regex_error(QNAME_ERR, QNAME_FMT, "MyName", "my.name", "123-abc"))
    return errs


def is_valid_label_value(value):
    errs = []
    if blen(value) > LABEL_VALUE_MAX:
        errs.append(max_len_error(LABEL_VALUE_MAX, content=True))
    if not _LABEL_VALUE_RE.fullmatch(value):
        errs.append(regex_error(LABEL_VALUE_ERR, LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"]


def validate_node_taints(node):
    """pkg/apis/core/validation validateNodeTaints: key a qualified name, value a label value,
    effect required and supported, unique by (key, effect)."""
    errs, seen = [], set()
    for i, t in enumerate((node.get("spec") or {}).get("taints") or []):
        # v1.37 reports them under metadata.taints (ValidateNode passes the
        # metadata path to validateNodeTaints)
        fld = "metadata.taints[%d]" % i
        key, value, effect = t.get("key", ""), t.get("value", ""), t.get("effect", "")
        errs += [f_invalid(fld + ".key", key, m) for m in is_qualified_name(key)]
        if is_valid_label_value(value):
            errs.append(f_invalid(fld + ".value", value, ";".join(is_valid_label_value(value))))
        if not effect:
            errs.append(f_required(fld + ".effect"))
        elif effect not in TAINT_EFFECTS:
            errs.append(f_not_supported(fld + ".effect", effect, TAINT_EFFECTS))
        if (key, effect) in seen:
            # the internal core.Taint, json-encoded: no tags, every field
            dup = {"Key": key, "Value": value, "Effect": effect, "TimeAdded": t.get("timeAdded")}
            e = FieldError(DUPLICATE, fld, dup, "taints must be unique by key and effect pair")
            errs.append(e)
        seen.add((key, effect))
    return errs


def path_segment_name_errors(name, prefix=False):
    """path.ValidatePathSegmentName (names of events and other loosely named objects)."""
    if prefix:
        return ['may not contain "%s"' % c for c in ("/", "%") if c in name]
    if name in (".", ".."):
        return ['may not be "%s"' % name]
    return ['may not contain "%s"' % c for c in ("/", "%") if c in name]


def dns_subdomain_name_errors(name, prefix=False):
    """apimachineryvalidation.NameIsDNSSubdomain."""
    if prefix:
        name = mask_trailing_dash(name)
    return is_dns1123_subdomain(name)


def mask_trailing_dash(name):
    if len(name) > 1 and name.endswith("-"):
        return name[:-2] + "a"
    return name


# --------------------------------------------------------------------------
# ObjectMeta validation


def validate_labels(labels, fld):
    errs = []
    for k in sorted(labels or {}):
        errs += [f_invalid(fld, k, m) for m in is_qualified_name(k)]
        errs += [f_invalid(fld, labels[k], m) for m in is_valid_label_value(labels[k])]
    return errs


def validate_annotations(annotations, fld):
    errs = []
    total = 0
    for k in sorted(annotations or {}):
        # "The rule is QualifiedName except that case doesn't matter."
        errs += [f_invalid(fld, k, m) for m in is_qualified_name(k.lower())]
        total += blen(k) + blen(annotations[k])
    if total > TOTAL_ANNOTATION_SIZE:
        errs.append(f_too_long(fld, TOTAL_ANNOTATION_SIZE))
    return errs


def validate_finalizers(finalizers, fld):
    errs = []
    for f in finalizers or []:
        errs += [f_invalid(fld, f, m) for m in is_qualified_name(f)]
    return errs


def _meta_common(meta, namespaced):
    errs = []
    if namespaced:
        ns = meta.get("namespace", "")
        if not ns:
            errs.append(f_required("metadata.namespace"))
        else:
            errs += [f_invalid("metadata.namespace", ns, m) for m in is_dns1123_label(ns)]
    elif meta.get("namespace"):
        errs.append(f_forbidden("metadata.namespace", "not allowed on this type"))
    if meta.get("generation", 0) < 0:
        errs.append(f_invalid("metadata.generation", meta["generation"], "must be greater than or equal to 0"))
    errs += validate_labels(meta.get("labels"), "metadata.labels")
    errs += validate_annotations(meta.get("annotations"), "metadata.annotations")
    errs += validate_finalizers(meta.get("finalizers"), "metadata.finalizers")
    return errs


def validate_object_meta(meta, namespaced, name_fn):
    """ValidateObjectMetaAccessor (create)."""
    errs = []
    gen = meta.get("generateName", "")
    if gen:
        errs += [f_invalid("metadata.generateName", gen, m) for m in name_fn(gen, True)]
    name = meta.get("name", "")
    if not name:
        errs.append(f_required("metadata.name", "name or generateName is required"))
    else:
        errs += [f_invalid("metadata.name", name, m) for m in name_fn(name, False)]
    return errs + _meta_common(meta, namespaced)


def validate_object_meta_update(new, old):
    """ValidateObjectMetaAccessorUpdate."""
    errs = []
    if not new.get("resourceVersion"):
        errs.append(f_invalid("metadata.resourceVersion", "", "must be specified for an update"))
    if new.get("generation", 0) < old.get("generation", 0):
        errs.append(f_invalid("metadata.generation", new.get("generation", 0), "must not be decremented"))
    for f in ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp",
              "deletionGracePeriodSeconds"):
        if new.get(f) != old.get(f):
            errs.append(f_invalid("metadata." + f, new.get(f, ""), "field is immutable"))
    errs += validate_labels(new.get("labels"), "metadata.labels")
    errs += validate_annotations(new.get("annotations"), "metadata.annotations")
    errs += validate_finalizers(new.get("finalizers"), "metadata.finalizers")
    return errs


# --------------------------------------------------------------------------
# Events (pkg/apis/core/validation/events.go); e is the core/v1 form.

REPORTING_INSTANCE_LIMIT = 128
ACTION_LIMIT = 128
REASON_LIMIT = 128
NOTE_LIMIT = 1024


def _legacy_validate_event(e):
    errs = []
    ns = e["metadata"].get("namespace", "")
    inv_ns = e.get("involvedObject", {}).get("namespace", "")
    if not e.get("eventTime"):
        if not inv_ns:
            if ns not in ("", "default"):
                errs.append(f_invalid("involvedObject.namespace", inv_ns, "does not match event.namespace"))
        elif ns != inv_ns:
            errs.append(f_invalid("involvedObject.namespace", inv_ns, "does not match event.namespace"))
    else:
        if not inv_ns and ns not in ("default", "kube-system"):
            errs.append(f_invalid("involvedObject.namespace", inv_ns, "does not match event.namespace"))
        rc = e.get("reportingComponent", "")
        if not rc:
            errs.append(f_required("reportingController"))
        errs += [f_invalid("reportingController", rc, m) for m in is_qualified_name(rc)]
        ri = e.get("reportingInstance", "")
        if not ri:
            errs.append(f_required("reportingInstance"))
        if blen(ri) > REPORTING_INSTANCE_LIMIT:
            errs.append(f_invalid("reportingInstance", "", "can have at most %d characters"
                                  % REPORTING_INSTANCE_LIMIT))
        action = e.get("action", "")
        if not action:
            errs.append(f_required("action"))
        if blen(action) > ACTION_LIMIT:
            errs.append(f_invalid("action", "", "can have at most %d characters" % ACTION_LIMIT))
        reason = e.get("reason", "")
        if not reason:
            errs.append(f_required("reason"))
        if blen(reason) > REASON_LIMIT:
            errs.append(f_invalid("reason", "", "can have at most %d characters" % REASON_LIMIT))
        if blen(e.get("message", "")) > NOTE_LIMIT:
            errs.append(f_invalid("message", "", "can have at most %d characters" % NOTE_LIMIT))
    errs += [f_invalid("namespace", ns, m) for m in is_dns1123_subdomain(ns)]
    return errs


def _validate_v1_series(e):
    errs = []
    s = e.get("series")
    if s is not None:
        if s.get("count", 0) < 2:
            errs.append(f_invalid("series.count", "", "should be at least 2"))
        if not s.get("lastObservedTime"):
            errs.append(f_required("series.lastObservedTime"))
    return errs


def validate_event_create(e, strict):
    """strict: the request came through events.k8s.io/v1."""
    errs = _legacy_validate_event(e)
    if not strict:
        return errs
    errs += validate_object_meta(e["metadata"], True, dns_subdomain_name_errors)
    errs += _validate_v1_series(e)
    if not e.get("eventTime"):
        errs.append(f_required("eventTime"))
    if e.get("type", "") not in ("Normal", "Warning"):
        errs.append(f_invalid("type", "", "has invalid value: %s" % e.get("type", "")))
    for f in ("firstTimestamp", "lastTimestamp", "count"):
        if e.get(f):
            errs.append(f_invalid(f, "", "needs to be unset"))
    if e.get("source", {}).get("component") or e.get("source", {}).get("host"):
        errs.append(f_invalid("source", "", "needs to be unset"))
    return errs


def validate_event_update(new, old, strict):
    errs = _legacy_validate_event(new)
    if not strict:
        return errs
    errs += validate_object_meta_update(new["metadata"], old["metadata"])
    if new.get("series") != old.get("series"):
        errs += _validate_v1_series(new)
    for f in ("involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp", "count",
              "type", "eventTime", "action", "related", "reportingComponent", "reportingInstance"):
        if new.get(f) != old.get(f):
            name = "reportingController" if f == "reportingComponent" else f
            errs.append(f_invalid(name, new.get(f, ""), "field is immutable"))
    return errs


def lint_core_event(e):
    """NOT kube: what --strict-core-events adds for core/v1 Events, which kube
    itself accepts without a reason, a message or a known type."""
    errs = []
    io = e.get("involvedObject", {})
    for f in ("kind", "name"):
        if not io.get(f):
            errs.append(f_required("involvedObject." + f))
    for f in ("reason", "message"):
        if not e.get(f):
            errs.append(f_required(f))
    if e.get("type", "") not in ("Normal", "Warning"):
        errs.append(f_not_supported("type", e.get("type", ""), ["Normal", "Warning"]))
    return errs


# --------------------------------------------------------------------------
# Decoding into the typed structs


class DecodeError(Exception):
    """A JSON value that does not fit the Go type (a non-strict decoding error)."""


class T:
    """A field type. kind: str, int, int32, bool, time, microtime, strmap, any, obj, list."""

    def __init__(self, kind, go=None, fields=None, item=None, keep=()):
        self.kind = kind
        self.go = go  # Go type name used in messages
        self.fields = fields or {}
        self.item = item
        self.keep = keep  # fields Go always serializes (no omitempty, or a struct)


STR = T("str", "string")
INT = T("int", "int64")
INT32 = T("int32", "int32")
BOOL = T("bool", "bool")
TIME = T("time", "v1.Time")
MICROTIME = T("microtime", "v1.MicroTime")
STRMAP = T("strmap", "map[string]string")
ANY = T("any")


def OBJ(go, fields, keep=()):
    return T("obj", go, fields, keep=keep)


def LIST(item):
    return T("list", "[]" + (item.go or "interface {}"), item=item)


OWNER_REF = OBJ("OwnerReference", {"apiVersion": STR, "kind": STR, "name": STR, "uid": STR,
                                   "controller": BOOL, "blockOwnerDeletion": BOOL})
MANAGED_FIELDS_ENTRY = OBJ("ManagedFieldsEntry", {"manager": STR, "operation": STR, "apiVersion": STR,
                                                  "time": TIME, "fieldsType": STR, "fieldsV1": ANY,
                                                  "subresource": STR})
OBJECT_META = OBJ("ObjectMeta", {
    "name": STR, "generateName": STR, "namespace": STR, "selfLink": STR, "uid": STR,
    "resourceVersion": STR, "generation": INT, "creationTimestamp": TIME, "deletionTimestamp": TIME,
    "deletionGracePeriodSeconds": INT, "labels": STRMAP, "annotations": STRMAP,
    "ownerReferences": LIST(OWNER_REF), "finalizers": LIST(STR), "managedFields": LIST(MANAGED_FIELDS_ENTRY),
}, keep=("creationTimestamp",))

TAINT = OBJ("Taint", {"key": STR, "value": STR, "effect": STR, "timeAdded": TIME})

# Its two times are metav1.Time structs (not pointers): v1.37 answers null
# for one that was not sent, and refuses one that is not RFC 3339.
NODE_CONDITION = OBJ("NodeCondition", {"type": STR, "status": STR, "lastHeartbeatTime": TIME,
                                       "lastTransitionTime": TIME, "reason": STR, "message": STR},
                     keep=("lastHeartbeatTime", "lastTransitionTime"))

NODE = OBJ("Node", {
    "kind": STR, "apiVersion": STR, "metadata": OBJECT_META,
    "spec": OBJ("NodeSpec", {"podCIDR": STR, "podCIDRs": LIST(STR), "providerID": STR, "unschedulable": BOOL,
                             "taints": LIST(TAINT), "configSource": ANY, "externalID": STR}),
    "status": OBJ("NodeStatus", {"capacity": ANY, "allocatable": ANY, "phase": STR, "conditions": LIST(NODE_CONDITION),
                                 "addresses": LIST(ANY), "daemonEndpoints": ANY, "nodeInfo": ANY,
                                 "images": LIST(ANY), "volumesInUse": LIST(STR), "volumesAttached": LIST(ANY),
                                 "config": ANY, "runtimeHandlers": LIST(ANY), "features": ANY},
                  keep=("daemonEndpoints", "nodeInfo")),
}, keep=("metadata", "spec", "status"))

NAMESPACE = OBJ("Namespace", {
    "kind": STR, "apiVersion": STR, "metadata": OBJECT_META,
    "spec": OBJ("NamespaceSpec", {"finalizers": LIST(STR)}),
    "status": OBJ("NamespaceStatus", {"phase": STR, "conditions": LIST(ANY)}),
}, keep=("metadata", "spec", "status"))

OBJECT_REF = OBJ("ObjectReference", {"kind": STR, "namespace": STR, "name": STR, "uid": STR,
                                     "apiVersion": STR, "resourceVersion": STR, "fieldPath": STR})
EVENT_SOURCE = OBJ("EventSource", {"component": STR, "host": STR})
EVENT_SERIES = OBJ("EventSeries", {"count": INT32, "lastObservedTime": MICROTIME}, keep=("lastObservedTime",))

CORE_EVENT = OBJ("Event", {
    "kind": STR, "apiVersion": STR, "metadata": OBJECT_META, "involvedObject": OBJECT_REF, "reason": STR,
    "message": STR, "source": EVENT_SOURCE, "firstTimestamp": TIME, "lastTimestamp": TIME, "count": INT32,
    "type": STR, "eventTime": MICROTIME, "series": EVENT_SERIES, "action": STR, "related": OBJECT_REF,
    "reportingComponent": STR, "reportingInstance": STR,
}, keep=("metadata", "involvedObject", "source", "firstTimestamp", "lastTimestamp", "eventTime",
         "reportingComponent", "reportingInstance"))

EVENTS_V1_EVENT = OBJ("Event", {
    "kind": STR, "apiVersion": STR, "metadata": OBJECT_META, "eventTime": MICROTIME, "series": EVENT_SERIES,
    "reportingController": STR, "reportingInstance": STR, "action": STR, "reason": STR,
    "regarding": OBJECT_REF, "related": OBJECT_REF, "note": STR, "type": STR,
    "deprecatedSource": EVENT_SOURCE, "deprecatedFirstTimestamp": TIME, "deprecatedLastTimestamp": TIME,
    "deprecatedCount": INT32,
}, keep=("metadata", "eventTime", "regarding", "deprecatedSource", "deprecatedFirstTimestamp",
         "deprecatedLastTimestamp"))

_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})")
_RFC3339_MICRO = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{6})(Z|[+-]\d{2}:\d{2})")
RFC3339_LAYOUT = "2006-01-02T15:04:05Z07:00"
RFC3339_MICRO_LAYOUT = "2006-01-02T15:04:05.000000Z07:00"


def go_value(v):
    """fmt's %v of a decoded JSON value (map[string]interface{} and friends),
    as kube quotes a strategic merge patch in an Invalid error."""
    if isinstance(v, dict):
        return "map[" + " ".join("%s:%s" % (k, go_value(v[k])) for k in sorted(v)) + "]"
    if isinstance(v, list):
        return "[" + " ".join(go_value(x) for x in v) + "]"
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        f = float(v)
        if f.is_integer() and abs(f) < 1e21:
            return "%d" % f
        return repr(f).replace("e+0", "e+").replace("e-0", "e-")
    return str(v)


def json_type(v):
    """The JSON type name of a decoded value, for error messages."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def parse_time(s, micro):
    """metav1.Time / metav1.MicroTime UnmarshalJSON; returns an aware UTC datetime."""
    m = (_RFC3339_MICRO if micro else _RFC3339).fullmatch(s)
    layout = RFC3339_MICRO_LAYOUT if micro else RFC3339_LAYOUT
    if not m:
        raise DecodeError('parsing time %s as "%s": cannot parse %s as "%s"'
                          % (go_quote(s), layout, go_quote(_time_rest(s, micro)), _time_elem(s, micro)))
    y, mo, d, h, mi, sec, frac, tz = m.groups()
    try:
        us = int((frac or ".0")[1:].ljust(6, "0")[:6])
        dt = datetime.datetime(int(y), int(mo), int(d), int(h), int(mi), int(sec), us)
        if tz == "Z":
            off = datetime.timedelta(0)
        else:
            sign = 1 if tz[0] == "+" else -1
            off = sign * datetime.timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6]))
        return dt.replace(tzinfo=datetime.timezone(off)).astimezone(datetime.timezone.utc)
    except ValueError as e:
        raise DecodeError('parsing time %s: %s' % (go_quote(s), e)) from None


def _time_rest(s, micro):
    return _go_time_walk(s, micro)[0]


def _time_elem(s, micro):
    return _go_time_walk(s, micro)[1]


def _go_time_walk(s, micro):
    """Where Go's time.Parse stops on an RFC 3339 layout: (the rest of the
    value, the layout element it could not match), as its ParseError says
    'cannot parse REST as ELEM' (the literal before an element counts as
    one: "2026-01-01" stops at "T")."""
    elems = [("2006", r"\d{4}"), ("-", None), ("01", r"\d{2}"), ("-", None), ("02", r"\d{2}"), ("T", None),
             ("15", r"\d{2}"), (":", None), ("04", r"\d{2}"), (":", None), ("05", r"\d{2}")]
    if micro:
        elems.append((".000000", r"\.\d{6}"))
    else:
        elems.append(("", r"(\.\d+)?"))
    elems.append(("Z07:00", r"(Z|[+-]\d{2}:\d{2})"))
    rest = s
    for name, pat in elems:
        if pat is None:
            if not rest.startswith(name):
                return rest, name
            rest = rest[len(name):]
            continue
        m = re.match(pat, rest)
        if not m:
            return rest, name
        rest = rest[m.end():]
    return rest, ""


def format_time(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_microtime(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _is_zero(v):
    return v is None or v == "" or v == 0 or v is False or v == {} or v == []


def decode(t, value, unknown, path="", parent_go=None):
    """Decode a JSON value into type t the way Go's decoder does.

    Returns the normalized value (Go's re-encoding of it: omitempty fields
    dropped, times normalized to UTC). Unknown fields are appended to
    `unknown` as 'unknown field "a.b"' strings; type mismatches raise
    DecodeError with the Go message.
    """
    def type_err(go):
        where = ("Go struct field %s.%s" % (parent_go, path)) if parent_go else "Go value"
        jt = json_type(value)
        if jt == "number":
            jt = "number " + json.dumps(value)
        raise DecodeError("json: cannot unmarshal %s into %s of type %s" % (jt, where, go))

    k = t.kind
    if k == "any":
        return value
    if value is None:
        return None
    if k == "str":
        if not isinstance(value, str):
            type_err("string")
        return value
    if k in ("int", "int32"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            type_err(t.go)
        if isinstance(value, float):
            if not value.is_integer():
                type_err(t.go)
            value = int(value)
        lim = 2 ** 31 if k == "int32" else 2 ** 63
        if not -lim <= value < lim:
            type_err(t.go)
        return value
    if k == "bool":
        if not isinstance(value, bool):
            type_err("bool")
        return value
    if k in ("time", "microtime"):
        if not isinstance(value, str):
            type_err("string")
        dt = parse_time(value, k == "microtime")
        return format_microtime(dt) if k == "microtime" else format_time(dt)
    if k == "strmap":
        if not isinstance(value, dict):
            type_err("map[string]string")
        for mk, mv in value.items():
            if mv is not None and not isinstance(mv, str):
                value = mv
                type_err("string")
        return {mk: (mv if mv is not None else "") for mk, mv in value.items()}
    if k == "list":
        if not isinstance(value, list):
            type_err(t.go)
        return [decode(t.item, v, unknown, "%s[%d]" % (path, i), parent_go) for i, v in enumerate(value)]
    if k == "obj":
        if not isinstance(value, dict):
            type_err("v1." + t.go)
        out = {}
        for fk in value:
            if fk not in t.fields:
                unknown.append('unknown field "%s"' % (path + "." + fk if path else fk))
        for fk, ft in t.fields.items():  # Go writes fields in struct order
            if fk in value:
                dv = decode(ft, value[fk], unknown, path + "." + fk if path else fk, t.go)
            else:
                dv = None
            if ft.kind == "obj" and dv is None:
                dv = {}
            if not _is_zero(dv):
                out[fk] = dv
            elif fk in t.keep:  # no omitempty, or a struct: Go always writes it
                out[fk] = dv if ft.kind == "obj" else (None if ft.kind in ("time", "microtime") else "")
        return out
    raise AssertionError(k)


def decode_object(t, obj, directive):
    """Decode a whole object; returns (normalized, warnings). Raises DecodeError.

    directive: Ignore, Warn or Strict (fieldValidation). For Strict an unknown
    field raises StrictError.
    """
    unknown = []
    out = decode(t, obj, unknown)
    if unknown and directive == "Strict":
        raise StrictError(unknown)
    return out, (unknown if directive == "Warn" else [])


class StrictError(Exception):
    def __init__(self, errs):
        super().__init__("strict decoding error: " + ", ".join(errs))
        self.errs = errs


# --------------------------------------------------------------------------
# core/v1 Event <-> events.k8s.io/v1 Event

_V1_TO_CORE = [("regarding", "involvedObject"), ("note", "message"),
               ("reportingController", "reportingComponent"), ("deprecatedSource", "source"),
               ("deprecatedFirstTimestamp", "firstTimestamp"), ("deprecatedLastTimestamp", "lastTimestamp"),
               ("deprecatedCount", "count")]


def events_v1_to_core(ev):
    out = {}
    rename = dict(_V1_TO_CORE)
    for k, v in ev.items():
        out[rename.get(k, k)] = v
    out["apiVersion"] = "v1"
    out["kind"] = "Event"
    norm, _ = decode_object(CORE_EVENT, out, "Ignore")  # core field order and always-written fields
    return norm


def core_to_events_v1(ev):
    rename = {c: v for v, c in _V1_TO_CORE}
    out = {}
    for k, v in ev.items():
        out[rename.get(k, k)] = v
    out["apiVersion"] = "events.k8s.io/v1"
    out["kind"] = "Event"
    # re-apply Go's omitempty rules for the events.k8s.io struct
    norm, _ = decode_object(EVENTS_V1_EVENT, out, "Ignore")
    return norm


# --------------------------------------------------------------------------
# Server-side Tables (pkg/printers/internalversion/printers.go)


def human_duration(seconds):
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return "%ds" % s
    minutes = s // 60
    if minutes < 10:
        r = s % 60
        return "%dm" % minutes if r == 0 else "%dm%ds" % (minutes, r)
    if minutes < 180:
        return "%dm" % minutes
    hours = s // 3600
    if hours < 8:
        m = minutes % 60
        return "%dh" % hours if m == 0 else "%dh%dm" % (hours, m)
    if hours < 48:
        return "%dh" % hours
    if hours < 24 * 8:
        h = hours % 24
        return "%dd" % (hours // 24) if h == 0 else "%dd%dh" % (hours // 24, h)
    if hours < 24 * 365 * 2:
        return "%dd" % (hours // 24)
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return "%dy" % (hours // 24 // 365) if dy == 0 else "%dy%dd" % (hours // 24 // 365, dy)
    return "%dy" % (hours // 24 // 365)


def since(ts, micro=False):
    if not ts:
        return "<unknown>"
    dt = parse_time(ts, micro)
    return human_duration((datetime.datetime.now(datetime.timezone.utc) - dt).total_seconds())


def _col(name, type_, desc, priority=0, fmt=""):
    c = {"name": name, "type": type_, "format": fmt, "description": desc, "priority": priority}
    return c


NAME_DESC = ("Name must be unique within a namespace. Is required when creating resources, although some "
             "resources may allow a client to request the generation of an appropriate name automatically. "
             "Name is primarily intended for creation idempotence and configuration definition. Cannot be "
             "updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names")
CREATED_DESC = ("CreationTimestamp is a timestamp representing the server time when this object was created. "
                "It is not guaranteed to be set in happens-before order across separate operations. Clients "
                "may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the "
                "system. Read-only. Null for lists. More info: "
                "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata")

NODE_COLUMNS = [
    _col("Name", "string", NAME_DESC, fmt="name"),
    _col("Status", "string", "The status of the node"),
    _col("Roles", "string", "The roles of the node"),
    _col("Age", "string", CREATED_DESC),
    _col("Version", "string", "Kubelet Version reported by the node."),
    _col("Internal-IP", "string", "List of addresses reachable to the node.", 1),
    _col("External-IP", "string", "List of addresses reachable to the node.", 1),
    _col("OS-Image", "string", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 "
                               "(wheezy)).", 1),
    _col("Kernel-Version", "string", "Kernel Version reported by the node from 'uname -r' (e.g. "
                                     "3.16.0-0.bpo.4-amd64).", 1),
    _col("Container-Runtime", "string", "ContainerRuntime Version reported by the node through runtime remote "
                                        "API (e.g. containerd://1.4.2).", 1),
]

EVENT_COLUMNS = [
    _col("Last Seen", "string", "The time at which the most recent occurrence of this event was recorded."),
    _col("Type", "string", "Type of this event (Normal, Warning), new types could be added in the future"),
    _col("Reason", "string", "This should be a short, machine understandable string that gives the reason "
                             "for the transition into the object's current status."),
    _col("Object", "string", "The object that this event is about."),
    _col("Subobject", "string", "If referring to a piece of an object instead of an entire object, this "
                                "string should contain a valid JSON/Go field access statement, such as "
                                "desiredState.manifest.containers[2].", 1),
    _col("Source", "string", "The component reporting this event. Should be a short machine understandable "
                             "string.", 1),
    _col("Message", "string", "A human-readable description of the status of this operation."),
    _col("First Seen", "string", "The time at which the event was first recorded. (Time of server receipt is "
                                 "in TypeMeta.)", 1),
    _col("Count", "string", "The number of times this event has occurred.", 1),
    _col("Name", "string", NAME_DESC, 1, "name"),
]

NAMESPACE_COLUMNS = [
    _col("Name", "string", NAME_DESC, fmt="name"),
    _col("Status", "string", "The status of the namespace"),
    _col("Age", "string", CREATED_DESC),
]


def node_cells(n):
    conds = {c.get("type"): c.get("status") for c in n.get("status", {}).get("conditions", [])
             if isinstance(c, dict)}
    status = []
    for t in ("Ready",):
        if t in conds:
            status.append(t if conds[t] == "True" else "Not" + t)
    if not status:
        status.append("Unknown")
    if n.get("spec", {}).get("unschedulable"):
        status.append("SchedulingDisabled")
    labels = n["metadata"].get("labels", {})
    roles = sorted({k[len("node-role.kubernetes.io/"):] for k in labels
                    if k.startswith("node-role.kubernetes.io/") and k != "node-role.kubernetes.io/"}
                   | ({labels["kubernetes.io/role"]} if labels.get("kubernetes.io/role") else set()))
    info = n.get("status", {}).get("nodeInfo", {}) or {}
    addrs = n.get("status", {}).get("addresses", [])

    def addr(kind):
        for a in addrs:
            if isinstance(a, dict) and a.get("type") == kind:
                return a.get("address", "")
        return "<none>"
    return [n["metadata"]["name"], ",".join(status), ",".join(roles) or "<none>",
            since(n["metadata"].get("creationTimestamp")), info.get("kubeletVersion", ""),
            addr("InternalIP"), addr("ExternalIP"), info.get("osImage", "<unknown>") or "<unknown>",
            info.get("kernelVersion", "<unknown>") or "<unknown>",
            info.get("containerRuntimeVersion", "<unknown>") or "<unknown>"]


def event_cells(e):
    first = since(e.get("firstTimestamp")) if e.get("firstTimestamp") else since(e.get("eventTime"), True)
    last = since(e.get("lastTimestamp")) if e.get("lastTimestamp") else first
    count = e.get("count", 0)
    if e.get("series"):
        last = since(e["series"].get("lastObservedTime"), True)
        count = e["series"].get("count", 0)
    elif count == 0:
        count = 1
    io = e.get("involvedObject", {})
    target = "%s/%s" % (io.get("kind", "").lower(), io["name"]) if io.get("name") else io.get("kind", "").lower()
    src = e.get("source", {})
    if src.get("component") or src.get("host"):
        source = src.get("component", "") + (", " + src["host"] if src.get("host") else "")
    else:
        source = e.get("reportingComponent", "") + (", " + e["reportingInstance"]
                                                    if e.get("reportingInstance") else "")
    return [last, e.get("type", ""), e.get("reason", ""), target, io.get("fieldPath", ""), source,
            e.get("message", "").strip(), first, count, e["metadata"]["name"]]


def namespace_cells(ns):
    return [ns["metadata"]["name"], ns.get("status", {}).get("phase", ""),
            since(ns["metadata"].get("creationTimestamp"))]


def table(columns, cells_fn, objects, list_rv, include_object, group_version):
    rows = []
    for o in objects:
        row = {"cells": cells_fn(o)}
        if include_object == "Object":
            row["object"] = o
        elif include_object != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": o["metadata"]}
        rows.append(row)
    meta = {"resourceVersion": list_rv} if list_rv else {}
    return {"kind": "Table", "apiVersion": group_version, "metadata": meta, "columnDefinitions": columns,
            "rows": rows}
