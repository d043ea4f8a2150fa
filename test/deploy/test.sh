#!/bin/bash
# Offline tests of the Kubernetes manifests in deploy/: no cluster needed.
#
#   test/deploy/test.sh
#
# - `kubectl kustomize deploy/` and `deploy/examples/` build, and
#   deploy/profiled.yaml is exactly the first (regenerate: test/deploy/render.sh);
# - yamllint with deploy/.yamllint;
# - check.mjs: every object against the Kubernetes OpenAPI schema
#   (kubernetes-models) including unknown fields, the least-privilege rules
#   of the DaemonSet and RBAC, the ConfigMap against deploy/profiles, the
#   examples, and the ValidatingAdmissionPolicy's CEL type-checked and
#   evaluated on sample admission requests by two CEL implementations.
#
# The npm packages (pinned in package-lock.json here) are installed once into
# ${PROFILED_DEPLOY_NPM_CACHE:-/var/tmp/profiled-deploy-npm}/<hash of the
# lock file>/, never into the repository. Prints ok/not ok lines and
# "N passed, N failed, N skipped"; exits 0, or 1 when a check failed, or 77
# (with "SKIP: reason") when the npm registry cannot be reached for the
# first install and nothing else failed.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/test/deploy
cd "$root" || exit 1
t0=${EPOCHREALTIME/./}
passed=0 failed=0 skipped=0 npm_skip=

ok() {
	passed=$((passed + 1))
	echo "ok - $1"
}
not_ok() { # name [detail lines...]
	failed=$((failed + 1))
	echo "not ok - $1"
	shift
	local l
	for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done
}
skip() { # name reason
	skipped=$((skipped + 1))
	echo "ok - $1 # SKIP $2"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/profiled-deploy-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
git_before=$(git -C "$root" status --porcelain --untracked-files=all 2>/dev/null || true)

# --- kustomize and the rendered file -----------------------------------------

if ! command -v kubectl >/dev/null; then
	not_ok "kubectl is installed (kubectl kustomize renders the manifests)" \
		"kubectl not found on PATH"
	kubectl() { return 127; }
fi

if kubectl kustomize deploy/ >"$work/base.yaml" 2>"$work/err"; then
	ok "kubectl kustomize deploy/ builds ($(grep -c '^kind: ' "$work/base.yaml") objects)"
	base_ok=1
else
	not_ok "kubectl kustomize deploy/ builds" "$(cat "$work/err")"
	base_ok=
fi

if kubectl kustomize deploy/examples/ >"$work/examples.yaml" 2>"$work/err"; then
	ok "kubectl kustomize deploy/examples/ builds ($(grep -c '^kind: ' "$work/examples.yaml") objects)"
	examples_ok=1
else
	not_ok "kubectl kustomize deploy/examples/ builds" "$(cat "$work/err")"
	examples_ok=
fi

# The unload-removed component, used as its comment says (an overlay of
# one's own beside the base): it changes the DaemonSet's hostPID and
# appends --unload-removed, and nothing else.
mkdir -p "$work/opt-in/overlay"
cp -r deploy "$work/opt-in/deploy"
printf 'resources:\n- ../deploy\ncomponents:\n- ../deploy/components/unload-removed\n' \
	>"$work/opt-in/overlay/kustomization.yaml"
if [ -z "$base_ok" ]; then
	not_ok "deploy/components/unload-removed" "not checked: the base did not build"
elif ! kubectl kustomize "$work/opt-in/overlay" >"$work/opt-in.yaml" 2>"$work/err"; then
	not_ok "deploy/components/unload-removed builds in an overlay" "$(cat "$work/err")"
elif python3 - "$work/base.yaml" "$work/opt-in.yaml" >"$work/err" 2>&1 <<'PY'; then
import sys, yaml
base = list(yaml.safe_load_all(open(sys.argv[1])))
opt = list(yaml.safe_load_all(open(sys.argv[2])))
assert len(base) == len(opt), (len(base), len(opt))
for b, o in zip(base, opt):
    if b["kind"] != "DaemonSet":
        assert b == o, b["kind"]
        continue
    bs, os_ = b["spec"]["template"]["spec"], o["spec"]["template"]["spec"]
    assert bs["hostPID"] is False and os_["hostPID"] is True, (bs["hostPID"], os_["hostPID"])
    assert "--unload-removed" not in bs["containers"][0]["args"]
    assert os_["containers"][0]["args"] == bs["containers"][0]["args"] + ["--unload-removed"]
    os_["hostPID"] = False
    os_["containers"][0]["args"].pop()
    assert b == o, "other changes to the DaemonSet"
PY
	ok "deploy/components/unload-removed: hostPID: true and --unload-removed, nothing else"
else
	not_ok "deploy/components/unload-removed: hostPID: true and --unload-removed, nothing else" \
		"$(cat "$work/err")"
fi

if [ -n "$base_ok" ]; then
	# The rendered file is its comment header, then exactly kustomize's output.
	if [ ! -f deploy/profiled.yaml ]; then
		not_ok "deploy/profiled.yaml is current" "missing: run test/deploy/render.sh"
	elif ! head -n 1 deploy/profiled.yaml | grep -q '^# profiled'; then
		not_ok "deploy/profiled.yaml is current" "no header comment"
	elif ! grep -q 'test/deploy/render.sh' <(sed '/^[^#]/q' deploy/profiled.yaml); then
		not_ok "deploy/profiled.yaml is current" "the header does not say how to regenerate it"
	elif diff -u <(sed '1,/^[^#]/{/^#/d}' deploy/profiled.yaml) "$work/base.yaml" >"$work/diff"; then
		ok "deploy/profiled.yaml is current (kubectl kustomize deploy/ plus its header)"
	else
		not_ok "deploy/profiled.yaml is current: run test/deploy/render.sh" "$(head -n 40 "$work/diff")"
	fi
fi

# --- yamllint ------------------------------------------------------------------

if ! command -v yamllint >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "# installing yamllint (apt-get)"
	export DEBIAN_FRONTEND=noninteractive
	timeout 300 apt-get install -y -qq --no-install-recommends yamllint >/dev/null 2>&1 ||
		{ timeout 300 apt-get update -qq >/dev/null 2>&1 &&
			timeout 300 apt-get install -y -qq --no-install-recommends yamllint >/dev/null 2>&1; }
fi
if command -v yamllint >/dev/null; then
	if yamllint --strict -c deploy/.yamllint deploy/ >"$work/lint" 2>&1; then
		ok "yamllint --strict deploy/ ($(find deploy -name '*.yaml' | wc -l) files)"
	else
		not_ok "yamllint --strict deploy/" "$(cat "$work/lint")"
	fi
else
	skip "yamllint deploy/" "yamllint is not installed and apt-get could not install it (apt-get install yamllint)"
fi

# --- npm packages, into the cache ----------------------------------------------

cache=${PROFILED_DEPLOY_NPM_CACHE:-/var/tmp/profiled-deploy-npm}
key=$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-16)
mods=$cache/$key
install_npm() {
	mkdir -p "$cache" || return 1
	exec 9>"$cache/.lock"
	flock 9
	if [ ! -f "$mods/.complete" ]; then
		echo "# installing the npm packages of test/deploy/package-lock.json into $mods"
		local tmp
		tmp=$(mktemp -d "$cache/.install.XXXXXX")
		cp "$here/package.json" "$here/package-lock.json" "$tmp/"
		if ! (cd "$tmp" && timeout 600 npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) \
			>"$work/npm.log" 2>&1; then
			rm -rf "$tmp"
			exec 9>&-
			return 1
		fi
		rm -rf "$mods"
		touch "$tmp/.complete"
		mv "$tmp" "$mods"
		# Older versions of the lock file are not needed any more.
		find "$cache" -mindepth 1 -maxdepth 1 -type d ! -name "$key" -mtime +7 -exec rm -rf {} + 2>/dev/null
	fi
	exec 9>&-
}
npm_ok=
if [ -f "$mods/.complete" ]; then
	npm_ok=1
elif ! timeout 30 npm ping --fetch-retries=0 --fetch-timeout=20000 --loglevel=error >"$work/ping.log" 2>&1; then
	why=$(grep -m 1 -iE 'err|code' "$work/ping.log")
	npm_skip="the npm registry $(npm config get registry 2>/dev/null) cannot be reached${why:+ ($why)}, and $mods is not installed yet"
elif install_npm; then
	npm_ok=1
else
	not_ok "npm ci of test/deploy/package-lock.json into $mods" "$(tail -n 30 "$work/npm.log")"
fi

# --- check.mjs -----------------------------------------------------------------

profiled=${PROFILED:-$root/build/profiled}
help=
if [ -x "$profiled" ] && "$profiled" --help >"$work/help.txt" 2>&1; then
	help=$work/help.txt
else
	skip "DaemonSet args against \`profiled --help\`" "no $profiled (make); the other argument checks still run"
fi

if [ -n "$npm_ok" ] && [ -n "$base_ok" ] && [ -n "$examples_ok" ]; then
	# Node resolves packages from the script's folder: run a copy placed in
	# the cache, next to its node_modules.
	run=$(mktemp -d "$mods/run.XXXXXX")
	cp "$here/check.mjs" "$run/"
	node "$run/check.mjs" "$root" "$work/base.yaml" "$work/examples.yaml" ${help:+"$help"} >"$work/check.out" 2>&1
	rc=$?
	rm -rf "$run"
	sed -E 's/^(not )?ok [0-9]+ - /\1ok - /' "$work/check.out" | grep -v '^# check.mjs:'
	p=$(grep -c '^ok ' "$work/check.out")
	f=$(grep -c '^not ok ' "$work/check.out")
	passed=$((passed + p)) failed=$((failed + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		not_ok "check.mjs ran to its end" "exit status $rc"
	fi
elif [ -n "$npm_skip" ]; then
	skip "check.mjs: schema, privileges, ConfigMap, examples and admission policy" "$npm_skip"
else
	not_ok "check.mjs: schema, privileges, ConfigMap, examples and admission policy" \
		"not run: the manifests did not build or the npm packages are missing"
fi

# --- the test left the repository as it was ----------------------------------------

git_after=$(git -C "$root" status --porcelain --untracked-files=all 2>/dev/null || true)
if [ "$git_before" = "$git_after" ]; then
	ok "the test wrote nothing into the repository"
else
	not_ok "the test wrote nothing into the repository" \
		"$(diff <(echo "$git_before") <(echo "$git_after") | tail -n 20)"
fi

ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
echo "# test/deploy: ${ms} ms"
if [ -n "$npm_skip" ] && [ "$failed" -eq 0 ]; then
	echo "SKIP: $npm_skip"
	echo "$passed passed, $failed failed, $skipped skipped"
	exit 77
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
