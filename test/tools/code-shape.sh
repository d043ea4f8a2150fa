#!/bin/bash
# The shape of lib/ and agent/ (docs/architecture.md, "Dependencies run one
# way"), checked on the build's objects and the sources:
#  - no call cycle between the files of agent/, nor between those of lib/,
#    nor from lib/ into agent/: the graph is read from the symbols each
#    object defines and uses (nm), so it is what the linker sees;
#  - functions fit a screen: none over 80 lines (name line to closing brace),
#    but those listed in EXCEPTIONS below with their reason.
# Prints the dependency order and the largest functions, then
# "N passed, N failed".  BUILD=build by default; the objects must be built.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
MAX_LINES=80
# file:function  reason (at most one: see docs/architecture.md)
EXCEPTIONS=""
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
bad() { failed=$((failed + 1)); echo "not ok - $1"; }

for f in lib/*.c agent/*.c; do
	o=$BUILD/${f%.c}.o
	if [ ! -f "$o" ] || [ "$o" -ot "$f" ]; then
		echo "missing or stale object $o: run make first" >&2
		exit 2
	fi
done

# "user definer" pairs: file A uses a symbol that file B defines.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in lib/*.c agent/*.c; do
	m=${f%.c}
	nm -P --defined-only "$BUILD/$m.o" | awk -v m="$m" '$2 ~ /^[TDBR]$/ {print $1, m}'
done | sort -u >"$tmp/defs"
for f in lib/*.c agent/*.c; do
	m=${f%.c}
	nm -P --undefined-only "$BUILD/$m.o" | awk -v m="$m" '{print $1, m}'
done | sort -u >"$tmp/uses"
join "$tmp/uses" "$tmp/defs" | awk '$2 != $3 {print $2, $3}' | sort -u >"$tmp/edges"

acyclic() { # name edges-file
	local out
	if out=$(awk '{print $2, $1}' "$2" | tsort 2>&1 >/dev/null) && [ -z "$out" ]; then
		ok "$1: no call cycle"
	else
		bad "$1: a call cycle:"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
}
grep '^agent/.* agent/' "$tmp/edges" >"$tmp/agent" || true
grep '^lib/.* lib/' "$tmp/edges" >"$tmp/lib" || true
acyclic "agent/" "$tmp/agent"
acyclic "lib/" "$tmp/lib"
up=$(grep '^lib/.* agent/' "$tmp/edges" || true)
if [ -z "$up" ]; then
	ok "lib/ calls nothing in agent/"
else
	bad "lib/ calls into agent/: $up"
fi
echo "# agent/, callers before callees:"
awk '{print $1, $2}' "$tmp/agent" | tsort 2>/dev/null | tr '\n' ' ' | sed 's/^/#   /; s/ $/\n/'

awk '
/^[A-Za-z_][A-Za-z_0-9]*\(/ && !/;[[:space:]]*$/ { name = $0; sub(/\(.*/, "", name); start = FNR; next }
/^}/ && start { print FNR - start + 1, FILENAME ":" name; start = 0 }
' lib/*.c agent/*.c | sort -rn >"$tmp/sizes"
echo "# functions: $(wc -l <"$tmp/sizes"), over 60 lines: $(awk '$1 > 60' "$tmp/sizes" | wc -l), largest:"
head -n 5 "$tmp/sizes" | sed 's/^/#   /'
over=0
while read -r n fn; do
	[ "$n" -gt "$MAX_LINES" ] || break
	case " $EXCEPTIONS " in *" $fn "*) echo "# $fn: $n lines, an exception" ;; *)
		bad "$fn is $n lines (over $MAX_LINES)"
		over=1
		;;
	esac
done <"$tmp/sizes"
[ "$over" = 1 ] || ok "no function over $MAX_LINES lines"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
