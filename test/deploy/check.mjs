// Offline checks of the rendered manifests of deploy/ (run by test.sh, from
// a copy placed next to the npm cache's node_modules).
//
//   node check.mjs REPO BASE.yaml EXAMPLES.yaml [HELP.txt]
//
// BASE.yaml is `kubectl kustomize deploy/`, EXAMPLES.yaml the same for
// deploy/examples/, HELP.txt the output of `profiled --help` (optional).
// Prints one `ok N - name` / `not ok N - name` line per check, with the
// reasons of a failure on `#` lines below it, and exits 1 when one failed.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { parse, plan, celEnv, isCelError } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import { Environment } from "@marcbachmann/cel-js";

const [repo, basePath, examplesPath, helpPath] = process.argv.slice(2);
let n = 0;
let failed = 0;

// One check: fn returns a list of problems (empty: ok), or { problems, notes },
// or throws.
async function t(name, fn) {
	let problems;
	let notes = [];
	try {
		const r = (await fn()) ?? [];
		// A check may return { problems, notes }: notes are printed under its line.
		if (Array.isArray(r)) problems = r;
		else ({ problems, notes } = r);
	} catch (e) {
		problems = [`exception: ${e && e.stack ? e.stack : e}`];
	}
	n++;
	if (problems.length === 0) {
		console.log(`ok ${n} - ${name}`);
		for (const note of notes) console.log(`#   ${note}`);
	} else {
		failed++;
		console.log(`not ok ${n} - ${name}`);
		for (const p of problems) console.log(`#   ${String(p).replaceAll("\n", "\n#   ")}`);
	}
}

function loadYaml(path) {
	const docs = parseAllDocuments(readFileSync(path, "utf8"), { uniqueKeys: true });
	const out = [];
	for (const d of docs) {
		if (d.errors.length) throw new Error(`${path}: ${d.errors.map((e) => e.message).join("; ")}`);
		const o = d.toJS();
		if (o !== null) out.push(o);
	}
	return out;
}

const base = loadYaml(basePath);
const examples = loadYaml(examplesPath);
const id = (o) => `${o.kind}/${o.metadata?.namespace ? o.metadata.namespace + "/" : ""}${o.metadata?.name}`;
const byKind = (objs, kind) => objs.filter((o) => o.kind === kind);
const one = (objs, kind) => {
	const l = byKind(objs, kind);
	if (l.length !== 1) throw new Error(`expected exactly one ${kind}, found ${l.length}`);
	return l[0];
};
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// ---------------------------------------------------------------------------
// 1. Schema: kubernetes-models' validate() (types, enums, required fields),
// and unknown fields, which validate() lets through. The models ship their
// OpenAPI schemas as compiled validators, not as JSON, so the unknown-field
// check watches the validator itself: it runs on a Proxy of the object that
// records every property the validator reads. A compiled JSON-schema
// validator reads each property its schema defines, and enumerates only
// maps (additionalProperties: labels, ConfigMap data...). Any key of a
// non-map object that it never read is not in the schema.

async function modelFor(o) {
	if (typeof o.apiVersion !== "string" || typeof o.kind !== "string") throw new Error("no apiVersion/kind");
	const mod = await import(`kubernetes-models/${o.apiVersion}/${o.kind}`);
	const Model = mod[o.kind] ?? mod.default;
	if (typeof Model !== "function") throw new Error(`kubernetes-models has no ${o.apiVersion} ${o.kind}`);
	return Model;
}

function validateErrors(Model, o) {
	try {
		new Model(o).validate();
		return [];
	} catch (e) {
		return [`${id(o)}: ${e.message}`];
	}
}

function unknownFields(Model, o) {
	const records = [];
	const proxies = new WeakMap();
	const wrap = (value, path) => {
		if (value === null || typeof value !== "object") return value;
		if (proxies.has(value)) return proxies.get(value);
		const rec = { value, path, read: new Set(), enumerated: false };
		records.push(rec);
		const p = new Proxy(value, {
			get(target, key, receiver) {
				const v = Reflect.get(target, key, receiver);
				if (typeof key !== "string") return v;
				rec.read.add(key);
				return Object.hasOwn(target, key) ? wrap(v, `${path}/${key}`) : v;
			},
			has(target, key) {
				if (typeof key === "string") rec.read.add(key);
				return Reflect.has(target, key);
			},
			ownKeys(target) {
				rec.enumerated = true;
				return Reflect.ownKeys(target);
			},
		});
		proxies.set(value, p);
		return p;
	};
	// The model's validate() runs the compiled schema on `this`.
	const copy = structuredClone(o);
	Model.prototype.validate.call(wrap(copy, ""));
	const unknown = [];
	for (const rec of records) {
		if (Array.isArray(rec.value) || rec.enumerated) continue;
		for (const k of Object.keys(rec.value)) {
			if (!rec.read.has(k)) unknown.push(`${id(o)}: unknown field ${rec.path}/${k}`);
		}
	}
	return unknown;
}

async function schemaProblems(o) {
	const Model = await modelFor(o);
	const errs = validateErrors(Model, o);
	// The walk is meaningful only on a valid object (a failing validator may
	// stop early and leave properties unread).
	return errs.length ? errs : unknownFields(Model, o);
}

for (const [label, objs] of [["deploy/", base], ["deploy/examples/", examples]]) {
	for (const o of objs) {
		await t(`schema: ${label} ${id(o)} is valid and has no unknown field`, () => schemaProblems(o));
	}
}

// The checker must catch what it exists for: a misspelt field, a bad enum,
// a field in the wrong place. Each mutation of the DaemonSet must fail.
await t("schema: the checker rejects a misspelt, a misplaced and a mistyped field (negative controls)", async () => {
	const ds = one(base, "DaemonSet");
	const Model = await modelFor(ds);
	const cases = {
		"readOnlyRootFileSystem": (d) => {
			const sc = d.spec.template.spec.containers[0].securityContext;
			sc.readOnlyRootFileSystem = sc.readOnlyRootFilesystem;
			delete sc.readOnlyRootFilesystem;
		},
		"capabilities at pod level": (d) => {
			d.spec.template.spec.securityContext = { capabilities: { add: ["MAC_ADMIN"] } };
		},
		"imagePullPolicy: Sometimes": (d) => {
			d.spec.template.spec.containers[0].imagePullPolicy = "Sometimes";
		},
		"hostPath type: Folder": (d) => {
			d.spec.template.spec.volumes.find((v) => v.hostPath).hostPath.type = "Folder";
		},
		"containerPort as a string": (d) => {
			d.spec.template.spec.containers[0].ports[0].containerPort = "9860";
		},
		"unknown key in a probe": (d) => {
			d.spec.template.spec.containers[0].livenessProbe.httpGet.paht = "/healthz";
		},
	};
	const missed = [];
	for (const [name, mutate] of Object.entries(cases)) {
		const d = structuredClone(ds);
		mutate(d);
		const errs = validateErrors(Model, d);
		if (errs.length === 0 && unknownFields(Model, d).length === 0) missed.push(`not caught: ${name}`);
	}
	return missed;
});

// ---------------------------------------------------------------------------
// 2. Least privilege, as documented in deploy/*.yaml and docs/security.md.

const ds = one(base, "DaemonSet");
const pod = ds.spec.template.spec;
const ctr = pod.containers[0];
const sa = one(base, "ServiceAccount");

await t("inventory: exactly the expected kinds in deploy/", () => {
	const kinds = base.map((o) => o.kind).sort();
	const want = ["ClusterRole", "ClusterRoleBinding", "ConfigMap", "DaemonSet", "Namespace", "NetworkPolicy", "Role",
		"RoleBinding", "ServiceAccount", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"];
	return same(kinds, want) ? [] : [`kinds: ${kinds.join(", ")}`];
});

await t("daemonset: one container, not privileged, no privilege escalation, read-only root filesystem", () => {
	const p = [];
	if (pod.containers.length !== 1) p.push(`${pod.containers.length} containers`);
	if (pod.initContainers?.length) p.push("init containers");
	const sc = ctr.securityContext ?? {};
	if (sc.privileged !== false && sc.privileged !== undefined) p.push(`privileged: ${sc.privileged}`);
	if (sc.allowPrivilegeEscalation !== false) p.push(`allowPrivilegeEscalation: ${sc.allowPrivilegeEscalation}`);
	if (sc.readOnlyRootFilesystem !== true) p.push(`readOnlyRootFilesystem: ${sc.readOnlyRootFilesystem}`);
	if (sc.procMount && sc.procMount !== "Default") p.push(`procMount: ${sc.procMount}`);
	if (sc.runAsUser !== 0) p.push(`runAsUser: ${sc.runAsUser} (documented: 0)`);
	return p;
});

await t("daemonset: capabilities drop ALL and add only MAC_ADMIN", () => {
	const caps = ctr.securityContext?.capabilities ?? {};
	const p = [];
	if (!same(caps.drop, ["ALL"])) p.push(`drop: ${JSON.stringify(caps.drop)}`);
	if (!same(caps.add, ["MAC_ADMIN"])) p.push(`add: ${JSON.stringify(caps.add)}`);
	return p;
});

await t("daemonset: AppArmor Unconfined (documented), seccomp RuntimeDefault, nothing at pod level loosens it", () => {
	const sc = ctr.securityContext ?? {};
	const p = [];
	if (!same(sc.appArmorProfile, { type: "Unconfined" })) p.push(`appArmorProfile: ${JSON.stringify(sc.appArmorProfile)}`);
	if (!same(sc.seccompProfile, { type: "RuntimeDefault" })) p.push(`seccompProfile: ${JSON.stringify(sc.seccompProfile)}`);
	const psc = pod.securityContext ?? {};
	if (psc.seccompProfile && psc.seccompProfile.type !== "RuntimeDefault") p.push("pod seccompProfile");
	if (psc.sysctls?.length) p.push("pod sysctls");
	const ann = ds.spec.template.metadata?.annotations ?? {};
	for (const k of Object.keys(ann)) {
		if (/apparmor|seccomp/.test(k)) p.push(`legacy security annotation ${k}`);
	}
	return p;
});

await t("daemonset: no host network, PID or IPC namespace; no host ports", () => {
	const p = [];
	for (const f of ["hostNetwork", "hostPID", "hostIPC"]) if (pod[f] === true) p.push(`${f}: true`);
	for (const port of ctr.ports ?? []) if (port.hostPort) p.push(`hostPort ${port.hostPort}`);
	return p;
});

await t("daemonset: hostPath volumes are exactly securityfs, the agent's seccomp folder and the state folder", () => {
	const want = {
		"/sys/kernel/security": "Directory",
		"/var/lib/kubelet/seccomp/profiled": "DirectoryOrCreate",
		"/var/lib/profiled": "DirectoryOrCreate",
	};
	const got = {};
	const p = [];
	for (const v of pod.volumes) {
		if (v.hostPath) got[v.hostPath.path] = v.hostPath.type;
		else if (!(v.configMap && v.name === "profiles") && !(v.emptyDir && v.name === "tmp"))
			p.push(`unexpected volume ${JSON.stringify(v)}`);
	}
	if (!same(Object.entries(got).sort(), Object.entries(want).sort())) p.push(`hostPaths: ${JSON.stringify(got)}`);
	const tmp = pod.volumes.find((v) => v.name === "tmp");
	if (!tmp?.emptyDir?.sizeLimit) p.push("the /tmp emptyDir has no sizeLimit");
	return p;
});

await t("daemonset: mounts match the volumes; the profiles are read-only; no mount propagation", () => {
	const p = [];
	const mounts = Object.fromEntries((ctr.volumeMounts ?? []).map((m) => [m.name, m]));
	for (const v of pod.volumes) if (!mounts[v.name]) p.push(`volume ${v.name} not mounted`);
	for (const m of ctr.volumeMounts ?? []) {
		const v = pod.volumes.find((x) => x.name === m.name);
		if (!v) p.push(`mount of unknown volume ${m.name}`);
		if (m.mountPropagation && m.mountPropagation !== "None") p.push(`${m.name}: mountPropagation ${m.mountPropagation}`);
		if (v?.hostPath && v.hostPath.path !== m.mountPath) p.push(`${m.name}: host ${v.hostPath.path} at ${m.mountPath}`);
	}
	if (mounts.profiles?.mountPath !== "/etc/profiled/profiles" || mounts.profiles?.readOnly !== true)
		p.push(`profiles mount: ${JSON.stringify(mounts.profiles)}`);
	if (mounts.tmp?.mountPath !== "/tmp") p.push("no /tmp");
	return p;
});

await t("daemonset: args use only flags of `profiled --help` and agree with the mounts", () => {
	const p = [];
	const args = ctr.args ?? [];
	if (args[0] !== "run") p.push(`first argument ${args[0]}, not run`);
	if (ctr.command) p.push("command overrides the image's entrypoint");
	const flags = args.filter((a) => a.startsWith("-"));
	if (helpPath) {
		const help = readFileSync(helpPath, "utf8");
		for (const f of flags) if (!new RegExp(`^\\s+${f.replace(/[-]/g, "\\-")}\\b`, "m").test(help)) p.push(`unknown flag ${f}`);
	}
	const val = (f) => args[args.indexOf(f) + 1];
	if (val("--profiles") !== "/etc/profiled/profiles") p.push("--profiles");
	if (val("--seccomp-root") !== "/var/lib/kubelet/seccomp") p.push("--seccomp-root");
	if (val("--state-dir") !== "/var/lib/profiled") p.push("--state-dir");
	if (val("--metrics-addr") !== ":9860") p.push("--metrics-addr");
	if (args.includes("--apparmorfs")) p.push("--apparmorfs is set (libapparmor finds the mount)");
	// the taint the admission policy lets the agent remove, and no other
	if (val("--remove-taint")?.split(":")[0] !== "profiled.io/not-ready") p.push(`--remove-taint ${val("--remove-taint")}`);
	return p;
});

await t("daemonset: probes on /readyz and /healthz of the metrics port 9860", () => {
	const p = [];
	const port = (ctr.ports ?? []).find((x) => x.name === "metrics");
	if (port?.containerPort !== 9860) p.push(`metrics port: ${JSON.stringify(port)}`);
	const r = ctr.readinessProbe?.httpGet;
	const l = ctr.livenessProbe?.httpGet;
	if (r?.path !== "/readyz" || r?.port !== "metrics") p.push(`readinessProbe: ${JSON.stringify(ctr.readinessProbe)}`);
	if (l?.path !== "/healthz" || l?.port !== "metrics") p.push(`livenessProbe: ${JSON.stringify(ctr.livenessProbe)}`);
	return p;
});

await t("networkpolicy: selects the agent's pods, Ingress only, admits only the metrics port from selected pods", () => {
	const np = one(base, "NetworkPolicy");
	const p = [];
	if (np.metadata.namespace !== ds.metadata.namespace) p.push(`namespace ${np.metadata.namespace}`);
	// It selects exactly the DaemonSet's pods (and they have their own network namespace).
	const sel = np.spec.podSelector?.matchLabels ?? {};
	if (!Object.keys(sel).length || np.spec.podSelector.matchExpressions) p.push("podSelector is not plain matchLabels");
	const labels = ds.spec.template.metadata.labels ?? {};
	for (const [k, v] of Object.entries(sel)) if (labels[k] !== v) p.push(`podSelector ${k}=${v} misses the agent's pods`);
	if (pod.hostNetwork === true) p.push("hostNetwork pods are not subject to NetworkPolicy");
	if (!same(np.spec.policyTypes, ["Ingress"])) p.push(`policyTypes ${JSON.stringify(np.spec.policyTypes)}`);
	const port = (ctr.ports ?? []).find((x) => x.name === "metrics");
	for (const [i, rule] of (np.spec.ingress ?? []).entries()) {
		// An absent or empty from/ports admits everyone / every port.
		if (!rule.from?.length) p.push(`ingress[${i}]: no from (admits every source)`);
		for (const f of rule.from ?? []) {
			if (f.ipBlock) p.push(`ingress[${i}]: ipBlock ${JSON.stringify(f.ipBlock)}`);
			const ns = f.namespaceSelector, ps = f.podSelector;
			if (!ns || !ps) p.push(`ingress[${i}]: a peer without both namespace and pod selectors`);
			for (const s of [ns, ps]) {
				if (s && !Object.keys(s.matchLabels ?? {}).length && !(s.matchExpressions ?? []).length)
					p.push(`ingress[${i}]: an empty selector (matches everything)`);
			}
		}
		if (!rule.ports?.length) p.push(`ingress[${i}]: no ports (admits every port)`);
		for (const pp of rule.ports ?? []) {
			if (pp.endPort !== undefined) p.push(`ingress[${i}]: a port range`);
			if (pp.port !== port?.name && pp.port !== port?.containerPort) p.push(`ingress[${i}]: port ${pp.port}`);
			if ((pp.protocol ?? "TCP") !== "TCP") p.push(`ingress[${i}]: protocol ${pp.protocol}`);
		}
	}
	return p;
});

await t("daemonset: NODE_NAME from spec.nodeName; the Events Role is in default, where Node events go", () => {
	const p = [];
	const nn = (ctr.env ?? []).find((e) => e.name === "NODE_NAME");
	if (nn?.valueFrom?.fieldRef?.fieldPath !== "spec.nodeName") p.push(`NODE_NAME: ${JSON.stringify(nn)}`);
	// A core/v1 Event about a Node without eventTime is accepted only in
	// "default" (kube's legacyValidateEvent); the agent posts them there.
	const role = one(base, "Role");
	if (role.metadata.namespace !== "default") p.push(`Role namespace ${role.metadata.namespace}`);
	return p;
});

await t("daemonset: every Linux node, every taint, node-critical, one node at a time", () => {
	const p = [];
	if (!same(pod.nodeSelector, { "kubernetes.io/os": "linux" })) p.push(`nodeSelector ${JSON.stringify(pod.nodeSelector)}`);
	if (!same(pod.tolerations, [{ operator: "Exists" }])) p.push(`tolerations ${JSON.stringify(pod.tolerations)}`);
	if (pod.priorityClassName !== "system-node-critical") p.push(`priorityClassName ${pod.priorityClassName}`);
	const u = ds.spec.updateStrategy;
	if (u?.type !== "RollingUpdate" || u.rollingUpdate?.maxUnavailable !== 1 || u.rollingUpdate?.maxSurge !== 0)
		p.push(`updateStrategy ${JSON.stringify(u)}`);
	if (pod.serviceAccountName !== sa.metadata.name || ds.metadata.namespace !== sa.metadata.namespace)
		p.push("service account");
	if (sa.automountServiceAccountToken !== false || pod.automountServiceAccountToken !== true)
		p.push("the token should be mounted by this pod only");
	return p;
});

await t("daemonset: resources (requests cpu 10m, memory 24Mi; limit memory 128Mi)", () => {
	const r = ctr.resources ?? {};
	return same(r, { limits: { memory: "128Mi" }, requests: { cpu: "10m", memory: "24Mi" } }) ? [] : [JSON.stringify(r)];
});

await t("rbac: ClusterRole is exactly get+patch on nodes and nodes/status; Role is exactly create+patch on events", () => {
	const p = [];
	const roles = [...byKind(base, "ClusterRole"), ...byKind(base, "Role")];
	if (roles.length !== 2) p.push(`${roles.length} roles`);
	const cr = one(base, "ClusterRole");
	const role = one(base, "Role");
	if (!same(cr.rules, [{ apiGroups: [""], resources: ["nodes"], verbs: ["get", "patch"] },
		{ apiGroups: [""], resources: ["nodes/status"], verbs: ["get", "patch"] }]))
		p.push(`ClusterRole rules ${JSON.stringify(cr.rules)}`);
	if (!same(role.rules, [{ apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] }]))
		p.push(`Role rules ${JSON.stringify(role.rules)}`);
	if (cr.aggregationRule) p.push("aggregationRule");
	const subject = [{ kind: "ServiceAccount", name: sa.metadata.name, namespace: sa.metadata.namespace }];
	const crb = one(base, "ClusterRoleBinding");
	const rb = one(base, "RoleBinding");
	if (!same(crb.subjects, subject) || crb.roleRef.kind !== "ClusterRole" || crb.roleRef.name !== cr.metadata.name)
		p.push(`ClusterRoleBinding ${JSON.stringify(crb)}`);
	if (!same(rb.subjects, subject) || rb.roleRef.kind !== "Role" || rb.roleRef.name !== role.metadata.name
		|| rb.metadata.namespace !== role.metadata.namespace)
		p.push(`RoleBinding ${JSON.stringify(rb)}`);
	return p;
});

await t("namespace: exists and is labeled for Pod Security (privileged, on purpose)", () => {
	const ns = one(base, "Namespace");
	const p = [];
	if (ns.metadata.name !== ds.metadata.namespace) p.push("DaemonSet namespace");
	if (ns.metadata.labels?.["pod-security.kubernetes.io/enforce"] !== "privileged") p.push("pod-security label");
	for (const o of base) {
		const cluster = ["Namespace", "ClusterRole", "ClusterRoleBinding", "ValidatingAdmissionPolicy",
			"ValidatingAdmissionPolicyBinding"].includes(o.kind);
		if (cluster && o.metadata.namespace) p.push(`${id(o)} is cluster-scoped`);
		if (!cluster && !o.metadata.namespace) p.push(`${id(o)} has no namespace`);
	}
	return p;
});

await t("configmap: holds exactly the files of deploy/profiles, byte-identical, and is the one mounted", () => {
	const p = [];
	const cm = one(base, "ConfigMap");
	const vol = pod.volumes.find((v) => v.name === "profiles");
	if (vol?.configMap?.name !== cm.metadata.name || cm.metadata.namespace !== ds.metadata.namespace)
		p.push(`mounted ConfigMap ${vol?.configMap?.name}, generated ${cm.metadata.name}`);
	if (cm.metadata.name !== "profiles") p.push("the docs call it `profiles`");
	const dir = join(repo, "deploy/profiles");
	const files = readdirSync(dir).filter((f) => !f.startsWith(".")).sort();
	const keys = [...Object.keys(cm.data ?? {}), ...Object.keys(cm.binaryData ?? {})].sort();
	if (!same(files, keys)) p.push(`files ${files.join(", ")} vs keys ${keys.join(", ")}`);
	for (const f of files) {
		const want = readFileSync(join(dir, f));
		const got = cm.data?.[f] !== undefined ? Buffer.from(cm.data[f], "utf8") : Buffer.from(cm.binaryData?.[f] ?? "", "base64");
		if (!want.equals(got)) p.push(`${f}: differs from deploy/profiles/${f}`);
	}
	return p;
});

await t("image: profiled:latest, as the kustomize images: entry sets it", () => {
	return ctr.image === "profiled:latest" ? [] : [ctr.image];
});

// ---------------------------------------------------------------------------
// 3. Examples: each names a profile of deploy/profiles and selects nodes by
// the label the agent sets for exactly that profile.

await t("examples: AppArmor and seccomp pods name profiles of deploy/profiles and select their labels", () => {
	const p = [];
	const dir = join(repo, "deploy/profiles");
	const files = readdirSync(dir).filter((f) => !f.startsWith("."));
	const aaNames = new Set();
	for (const f of files.filter((f) => !f.endsWith(".json"))) {
		for (const m of readFileSync(join(dir, f), "utf8").matchAll(/^\s*profile\s+([^\s{]+)/gm)) aaNames.add(m[1]);
	}
	const want = { field: 0, annotation: 0, seccomp: 0 };
	for (const o of byKind(examples, "Pod")) {
		const sel = o.spec.nodeSelector ?? {};
		const aaWanted = new Set();
		for (const c of o.spec.containers) {
			const ap = c.securityContext?.appArmorProfile;
			if (ap?.type === "Localhost") {
				aaWanted.add(ap.localhostProfile);
				want.field++;
			}
		}
		for (const [k, v] of Object.entries(o.metadata.annotations ?? {})) {
			const m = k.match(/^container\.apparmor\.security\.beta\.kubernetes\.io\/(.+)$/);
			if (!m) continue;
			if (!o.spec.containers.some((c) => c.name === m[1])) p.push(`${id(o)}: annotation names no container ${m[1]}`);
			if (!v.startsWith("localhost/")) p.push(`${id(o)}: ${v}`);
			aaWanted.add(v.slice("localhost/".length));
			want.annotation++;
		}
		for (const name of aaWanted) {
			if (!aaNames.has(name)) p.push(`${id(o)}: no AppArmor profile ${name} in deploy/profiles`);
			if (sel[`apparmor.profiled.io/${name}`] !== "true") p.push(`${id(o)}: no nodeSelector for ${name}`);
		}
		const sp = [o.spec.securityContext?.seccompProfile, ...o.spec.containers.map((c) => c.securityContext?.seccompProfile)]
			.filter((s) => s?.type === "Localhost");
		for (const s of sp) {
			want.seccomp++;
			const m = s.localhostProfile.match(/^profiled\/([^/]+)\.json$/);
			if (!m || !files.includes(`${m[1]}.json`)) p.push(`${id(o)}: ${s.localhostProfile} is not published by profiled`);
			else if (sel[`seccomp.profiled.io/${m[1]}`] !== "true") p.push(`${id(o)}: no nodeSelector for ${m[1]}`);
			if (o.spec.containers.some((c) => c.securityContext?.allowPrivilegeEscalation !== false))
				p.push(`${id(o)}: fine-grained seccomp needs allowPrivilegeEscalation: false`);
		}
	}
	if (!want.field || !want.annotation || !want.seccomp) p.push(`examples found: ${JSON.stringify(want)}`);
	return p;
});

// ---------------------------------------------------------------------------
// 4. The ValidatingAdmissionPolicy's CEL. No API server here, so:
//  - type-checked with @marcbachmann/cel-js in an environment declared as
//    kube-apiserver declares it for a policy without params: object and
//    oldObject dyn, request an AdmissionRequest object type, variables an
//    object whose fields have the types of the variables before it;
//  - evaluated the way kube-apiserver does (matchConditions, then the
//    variables, then each validation; an evaluation error refuses the
//    request, failurePolicy Fail) on sample admission requests, by two
//    independent implementations that must agree: @bufbuild/cel (passes the
//    CEL conformance suite, RE2 semantics for matches()) and cel-js. Both
//    have the strings extension's join(), as Kubernetes does.

const vap = one(base, "ValidatingAdmissionPolicy");
const vapb = one(base, "ValidatingAdmissionPolicyBinding");

const GVK = { group: "string", version: "string", kind: "string" };
const GVR = { group: "string", version: "string", resource: "string" };
const REQUEST = {
	uid: "string",
	kind: GVK,
	resource: GVR,
	subResource: "string",
	requestKind: GVK,
	requestResource: GVR,
	requestSubResource: "string",
	name: "string",
	namespace: "string",
	operation: "string",
	userInfo: { username: "string", uid: "string", groups: "list<string>", extra: "map<string, list<string>>" },
	dryRun: "bool",
	options: "dyn",
};
function k8sEnv(varTypes) {
	const e = new Environment({ homogeneousAggregateLiterals: false })
		.registerVariable("object", "dyn")
		.registerVariable("oldObject", "dyn")
		.registerVariable({ name: "request", schema: REQUEST });
	if (varTypes && Object.keys(varTypes).length) e.registerVariable({ name: "variables", schema: { ...varTypes } });
	return e;
}
function typeOf(env, expr) {
	const r = env.check(expr);
	if (!r.valid) throw new Error(r.error.message);
	return r.type;
}

// The environments the variables are checked in, one per variable, and the
// final one for the validations.
const stageEnvs = [];
const varTypes = {};
const typeProblems = [];
for (const v of vap.spec.variables) {
	const env = k8sEnv(varTypes);
	stageEnvs.push(env);
	try {
		varTypes[v.name] = typeOf(env, v.expression);
	} catch (e) {
		typeProblems.push(`variables.${v.name}: ${e.message}`);
		varTypes[v.name] = "dyn";
	}
}
const finalEnv = k8sEnv(varTypes);

await t("policy: binding denies, matches only the agent's updates of nodes, names its service account", () => {
	const p = [];
	if (vapb.spec.policyName !== vap.metadata.name) p.push("binding names another policy");
	if (!same(vapb.spec.validationActions, ["Deny"])) p.push(`validationActions ${vapb.spec.validationActions}`);
	if (vap.spec.failurePolicy !== "Fail") p.push("failurePolicy");
	const rules = vap.spec.matchConstraints.resourceRules;
	if (!same(rules, [{ apiGroups: [""], apiVersions: ["v1"], operations: ["UPDATE"], resources: ["nodes", "nodes/status"] }]))
		p.push(`rules ${JSON.stringify(rules)}`);
	const user = `system:serviceaccount:${sa.metadata.namespace}:${sa.metadata.name}`;
	if (!vap.spec.matchConditions.some((m) => m.expression.includes(`"${user}"`))) p.push(`no matchCondition on ${user}`);
	return p;
});

await t("policy: every expression type-checks (conditions and validations bool, messages string)", () => {
	const p = [...typeProblems];
	const want = (env, expr, type, what) => {
		try {
			const got = typeOf(env, expr);
			if (got !== type && got !== "dyn") p.push(`${what}: type ${got}, not ${type}`);
		} catch (e) {
			p.push(`${what}: ${e.message}`);
		}
	};
	for (const m of vap.spec.matchConditions) want(k8sEnv(), m.expression, "bool", `matchConditions ${m.name}`);
	vap.spec.validations.forEach((v, i) => {
		want(finalEnv, v.expression, "bool", `validations[${i}].expression`);
		if (v.messageExpression) want(finalEnv, v.messageExpression, "string", `validations[${i}].messageExpression`);
	});
	return p;
});

await t("policy: the type check rejects broken expressions (negative controls)", () => {
	const broken = [
		"size(variables.tokenNode) == 'one'",
		"request.userInfo.usrname == 'x'",
		"variables.foreignLabelChanges.join(1)",
		"'node ' + variables.tokenNode",
		"variables.noSuchVariable",
		"request.userInfo.groups.exists(g, g.startsWith(1))",
	];
	return broken.filter((e) => finalEnv.check(e).valid).map((e) => `accepted: ${e}`);
});

// Admission objects as kube-apiserver hands them to CEL: JSON with int64
// integers; for @bufbuild/cel maps are Maps.
function big(v) {
	if (Array.isArray(v)) return v.map(big);
	if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, big(x)]));
	if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
	return v;
}
function asMaps(v) {
	if (Array.isArray(v)) return v.map(asMaps);
	if (v !== null && typeof v === "object" && !(v instanceof Map))
		return new Map(Object.entries(v).map(([k, x]) => [k, asMaps(x)]));
	return v;
}

const bufEnv = celEnv({ funcs: strings });
const bufPlans = new Map();
const evaluators = {
	"@bufbuild/cel": {
		input: (v) => asMaps(big(v)),
		run(expr, b) {
			if (!bufPlans.has(expr)) bufPlans.set(expr, plan(bufEnv, parse(expr)));
			const r = bufPlans.get(expr)({ ...b, variables: b.variables });
			if (isCelError(r)) throw new Error(r.message);
			return r;
		},
		vars: () => new Map(),
		set: (vars, k, v) => vars.set(k, v),
	},
	"cel-js": {
		input: (v) => big(v),
		run(expr, b, env) {
			return (env ?? finalEnv).evaluate(expr, b);
		},
		vars: () => ({}),
		set: (vars, k, v) => {
			vars[k] = v;
		},
	},
};

// Which validations failed and passed across all cases, with @bufbuild/cel.
const seen = vap.spec.validations.map(() => ({ passed: 0, failed: 0 }));

// Returns { matched, allowed, messages }.
function admit(evName, request, object, oldObject) {
	const ev = evaluators[evName];
	const b = { request: ev.input(request), object: ev.input(object), oldObject: ev.input(oldObject) };
	for (const m of vap.spec.matchConditions) {
		if (ev.run(m.expression, b, k8sEnv()) !== true) return { matched: false, allowed: true, messages: [] };
	}
	const vars = ev.vars();
	vap.spec.variables.forEach((v, i) => {
		ev.set(vars, v.name, ev.run(v.expression, { ...b, variables: vars }, stageEnvs[i]));
	});
	const messages = [];
	vap.spec.validations.forEach((v, i) => {
		let r;
		try {
			r = ev.run(v.expression, { ...b, variables: vars });
		} catch (e) {
			messages.push(`error (failurePolicy Fail): ${e.message}`);
			return;
		}
		if (typeof r !== "boolean") throw new Error(`${v.expression} returned ${typeof r}`);
		if (evName === "@bufbuild/cel") seen[i][r ? "passed" : "failed"]++;
		if (r) return;
		let msg = v.message ?? v.expression;
		if (v.messageExpression) {
			const m = ev.run(v.messageExpression, { ...b, variables: vars });
			if (typeof m !== "string") throw new Error(`messageExpression returned ${typeof m}`);
			msg = m;
		}
		messages.push(msg);
	});
	return { matched: true, allowed: messages.length === 0, messages };
}

const AGENT = `system:serviceaccount:${sa.metadata.namespace}:${sa.metadata.name}`;
const node = {
	apiVersion: "v1",
	kind: "Node",
	metadata: {
		name: "node-1",
		uid: "6f1c2a4e-0000-4000-8000-000000000001",
		resourceVersion: "1234",
		labels: {
			"beta.kubernetes.io/arch": "amd64",
			"beta.kubernetes.io/os": "linux",
			"kubernetes.io/arch": "amd64",
			"kubernetes.io/hostname": "node-1",
			"kubernetes.io/os": "linux",
			"node-role.kubernetes.io/worker": "",
			"profiled.io/seccomp": "enabled",
			"seccomp.profiled.io/audit": "true",
		},
		annotations: {
			"node.alpha.kubernetes.io/ttl": "0",
			"volumes.kubernetes.io/controller-managed-attach-detach": "true",
			"profiled.io/profiles": "[]",
		},
	},
	spec: { podCIDR: "10.244.1.0/24", podCIDRs: ["10.244.1.0/24"], providerID: "kind://docker/kind/node-1" },
	status: {
		capacity: { cpu: "2", memory: "8Gi", pods: "110" },
		conditions: [{ type: "Ready", status: "True", reason: "KubeletReady" }],
		nodeInfo: { kubeletVersion: "v1.32.0", operatingSystem: "linux", architecture: "amd64" },
	},
};
const bare = { apiVersion: "v1", kind: "Node", metadata: { name: "node-1" }, spec: {}, status: {} };
function req(user, extra, sub) {
	const u = { username: user, uid: "u-1", groups: ["system:serviceaccounts", "system:authenticated"] };
	if (extra) u.extra = extra;
	const r = { operation: "UPDATE", name: "node-1", resource: { group: "", version: "v1", resource: "nodes" }, userInfo: u };
	if (sub) r.subResource = sub;
	return r;
}
const edit = (f, from = node) => {
	const o = structuredClone(from);
	f(o);
	return o;
};
const bound = (nodeName) => ({
	"authentication.kubernetes.io/node-name": [nodeName],
	"authentication.kubernetes.io/node-uid": ["6f1c2a4e-0000-4000-8000-000000000001"],
	"authentication.kubernetes.io/pod-name": ["profiled-abcde"],
	"authentication.kubernetes.io/pod-uid": ["0b6d8f0e-0000-4000-8000-000000000002"],
});

// [name, request, new object, old object, expected: allow | deny | unmatched, message substring]
const cases = [
	["allowed: the agent adds seccomp.profiled.io/x", req(AGENT),
		edit((o) => { o.metadata.labels["seccomp.profiled.io/x"] = "true"; }), node, "allow"],
	["allowed: the agent sets, changes and removes its labels and annotations at once", req(AGENT),
		edit((o) => {
			delete o.metadata.labels["seccomp.profiled.io/audit"];
			o.metadata.labels["profiled.io/seccomp"] = "disabled";
			o.metadata.labels["apparmor.profiled.io/k8s-apparmor-example-deny-write"] = "true";
			o.metadata.annotations["profiled.io/profiles"] = '[{"kind":"seccomp"}]';
			o.metadata.annotations["profiled.io/owned-labels"] = '["profiled.io/seccomp"]';
		}), node, "allow"],
	["allowed: the first write on a Node with no labels or annotations at all", req(AGENT),
		edit((o) => { o.metadata.labels = { "profiled.io/apparmor": "disabled" }; o.metadata.annotations = { "profiled.io/profiles": "[]" }; }, bare),
		bare, "allow"],
	["allowed: the agent removes its last label (labels become absent)", req(AGENT),
		{ ...structuredClone(bare) }, edit((o) => { o.metadata.labels = { "seccomp.profiled.io/a": "true" }; }, bare), "allow"],
	["allowed: a token bound to this node", req(AGENT, bound("node-1")),
		edit((o) => { o.metadata.labels["seccomp.profiled.io/x"] = "true"; }), node, "allow"],
	["allowed: a token whose extra has no node name", req(AGENT, { "authentication.kubernetes.io/pod-name": ["profiled-abcde"] }),
		edit((o) => { o.metadata.labels["seccomp.profiled.io/x"] = "true"; }), node, "allow"],
	["allowed: a request that changes nothing", req(AGENT), node, node, "allow"],
	["denied: changing kubernetes.io/hostname", req(AGENT),
		edit((o) => { o.metadata.labels["kubernetes.io/hostname"] = "node-2"; }), node, "deny", "kubernetes.io/hostname"],
	["denied: removing another owner's label", req(AGENT),
		edit((o) => { delete o.metadata.labels["node-role.kubernetes.io/worker"]; }), node, "deny", "node-role.kubernetes.io/worker"],
	["denied: adding a label under a look-alike prefix (evilprofiled.io/)", req(AGENT),
		edit((o) => { o.metadata.labels["evilprofiled.io/x"] = "true"; }), node, "deny", "evilprofiled.io/x"],
	["denied: adding a label under profiled.io.example.com/", req(AGENT),
		edit((o) => { o.metadata.labels["profiled.io.example.com/x"] = "true"; }), node, "deny", "profiled.io.example.com/x"],
	["denied: adding an unprefixed label", req(AGENT),
		edit((o) => { o.metadata.labels["profiled.io"] = "true"; }), node, "deny", "not: profiled.io"],
	["denied: changing another owner's annotation", req(AGENT),
		edit((o) => { o.metadata.annotations["node.alpha.kubernetes.io/ttl"] = "30"; }), node, "deny", "node.alpha.kubernetes.io/ttl"],
	["denied: spec.unschedulable (cordon)", req(AGENT),
		edit((o) => { o.spec.unschedulable = true; }), node, "deny", "spec"],
	["denied: adding a taint", req(AGENT),
		edit((o) => { o.spec.taints = [{ key: "x", effect: "NoSchedule" }]; }), node, "deny", "spec"],
	["denied: changing the kubelet's Ready condition (nodes/status)", req(AGENT, undefined, "status"),
		edit((o) => { o.status.conditions[0].status = "False"; }), node, "deny", "status"],
	["denied: removing the kubelet's Ready condition (nodes/status)", req(AGENT, undefined, "status"),
		edit((o) => { o.status.conditions = [{ type: "ProfilesReady", status: "True" }]; }), node, "deny", "status"],
	["denied: changing status.capacity (nodes/status)", req(AGENT, undefined, "status"),
		edit((o) => { o.status.capacity.pods = "500"; }), node, "deny", "status"],
	["allowed: adding the ProfilesReady condition (nodes/status)", req(AGENT, undefined, "status"),
		edit((o) => { o.status.conditions.push({ type: "ProfilesReady", status: "False", reason: "ProfileInvalid", message: "a.json: bad" }); }),
		node, "allow"],
	["allowed: changing the ProfilesReady condition (nodes/status)", req(AGENT, undefined, "status"),
		edit((o) => { o.status.conditions.push({ type: "ProfilesReady", status: "True", reason: "ProfilesInPlace" }); }),
		edit((o) => { o.status.conditions.push({ type: "ProfilesReady", status: "False", reason: "Pending" }); }), "allow"],
	["allowed: removing the start-up taint, another taint kept", req(AGENT),
		edit((o) => { o.spec.taints = [{ key: "other.io/x", effect: "NoExecute" }]; }),
		edit((o) => { o.spec.taints = [{ key: "other.io/x", effect: "NoExecute" }, { key: "profiled.io/not-ready", effect: "NoSchedule" }]; }),
		"allow"],
	["allowed: removing the last taint (taints become absent)", req(AGENT),
		node, edit((o) => { o.spec.taints = [{ key: "profiled.io/not-ready", effect: "NoSchedule" }]; }), "allow"],
	["denied: removing another taint", req(AGENT),
		edit((o) => { o.spec.taints = [{ key: "profiled.io/not-ready", effect: "NoSchedule" }]; }),
		edit((o) => { o.spec.taints = [{ key: "other.io/x", effect: "NoExecute" }, { key: "profiled.io/not-ready", effect: "NoSchedule" }]; }),
		"deny", "taint profiled.io/not-ready"],
	["denied: adding the start-up taint", req(AGENT),
		edit((o) => { o.spec.taints = [{ key: "profiled.io/not-ready", effect: "NoSchedule" }]; }), node, "deny", "spec"],
	["denied: changing the start-up taint's effect", req(AGENT),
		edit((o) => { o.spec.taints = [{ key: "profiled.io/not-ready", effect: "NoExecute" }]; }),
		edit((o) => { o.spec.taints = [{ key: "profiled.io/not-ready", effect: "NoSchedule" }]; }), "deny", "spec"],
	["denied: removing the start-up taint and cordoning at once", req(AGENT),
		edit((o) => { o.spec.unschedulable = true; }),
		edit((o) => { o.spec.taints = [{ key: "profiled.io/not-ready", effect: "NoSchedule" }]; }), "deny", "spec"],
	["denied: adding a finalizer", req(AGENT),
		edit((o) => { o.metadata.finalizers = ["example.com/block"]; }), node, "deny", "finalizers"],
	["denied: a token bound to another node", req(AGENT, bound("node-2")),
		edit((o) => { o.metadata.labels["seccomp.profiled.io/x"] = "true"; }), node, "deny", "profiled on node node-2 may not write Node node-1"],
	["not matched: another user changing kubernetes.io/hostname", req("system:node:node-1"),
		edit((o) => { o.metadata.labels["kubernetes.io/hostname"] = "node-2"; }), node, "unmatched"],
	["not matched: a same-named service account of another namespace", req("system:serviceaccount:default:profiled"),
		edit((o) => { o.spec.unschedulable = true; }), node, "unmatched"],
];

for (const [name, request, object, oldObject, expect, sub] of cases) {
	await t(`policy CEL: ${name}`, () => {
		const p = [];
		const results = Object.keys(evaluators).map((ev) => [ev, admit(ev, request, object, oldObject)]);
		const [, r] = results[0];
		for (const [ev, other] of results.slice(1)) {
			if (!same(other, r)) p.push(`${results[0][0]} and ${ev} disagree: ${JSON.stringify(r)} vs ${JSON.stringify(other)}`);
		}
		const got = !r.matched ? "unmatched" : r.allowed ? "allow" : "deny";
		if (got !== expect) p.push(`expected ${expect}, got ${got}: ${r.messages.join(" | ")}`);
		if (sub && !r.messages.some((m) => m.includes(sub))) p.push(`no message names ${sub}: ${r.messages.join(" | ")}`);
		if (r.messages.some((m) => m.startsWith("error"))) p.push(`evaluation error: ${r.messages.join(" | ")}`);
		return { problems: p, notes: r.messages.map((m) => `message: ${m}`) };
	});
}

await t("policy CEL: every validation both passes and fails in some sample (no dead or always-failing rule)", () =>
	seen.flatMap((s, i) =>
		s.passed && s.failed ? [] : [`validations[${i}] (${vap.spec.validations[i].expression}): ${JSON.stringify(s)}`],
	),
);

console.log(`# check.mjs: ${n - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
