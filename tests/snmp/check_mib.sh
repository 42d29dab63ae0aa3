#!/usr/bin/env bash
# PULSE-MIB (plugins/sender_snmp/mibs) as net-snmp's snmptranslate reads it: every object and the notification
# resolve to their OIDs, and the parser has nothing to say (-PW: detailed warnings on).
#
# Debian keeps the IETF base modules (SNMPv2-SMI, SNMPv2-CONF) in non-free (snmp-mibs-downloader). Where they
# are missing, this writes the part of them PULSE-MIB relies on: the OID tree down to enterprises (RFC 2578
# section 2) and an empty SNMPv2-CONF (net-snmp knows the conformance macros itself). An NMS has the real ones.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dirs="$root/plugins/sender_snmp/mibs"
if ! ls /usr/share/snmp/mibs/ietf/SNMPv2-SMI* /usr/share/snmp/mibs/SNMPv2-SMI* >/dev/null 2>&1; then
    cat >"$work/SNMPv2-SMI.txt" <<'MIB'
SNMPv2-SMI DEFINITIONS ::= BEGIN
org            OBJECT IDENTIFIER ::= { iso 3 }
dod            OBJECT IDENTIFIER ::= { org 6 }
internet       OBJECT IDENTIFIER ::= { dod 1 }
private        OBJECT IDENTIFIER ::= { internet 4 }
enterprises    OBJECT IDENTIFIER ::= { private 1 }
END
MIB
    printf 'SNMPv2-CONF DEFINITIONS ::= BEGIN\nEND\n' >"$work/SNMPv2-CONF.txt"
    dirs="$work:$dirs"
else
    dirs="+$dirs"
fi
# net-snmp's persistent state (it creates cert_indexes there on first use and says so on stderr) and its
# configuration are the check's own: nothing under /var/lib/snmp or /etc/snmp is read or written.
export SNMP_PERSISTENT_DIR="$work/state" SNMPCONFPATH="$work/conf"
mkdir -p "$SNMP_PERSISTENT_DIR/cert_indexes" "$SNMPCONFPATH"
fail=0
expect() {  # expect NAME OID
    local got err
    got="$(cd "$work" && MIBS= snmptranslate -M "$dirs" -m PULSE-MIB -PW -IR -On "$1" 2>"$work/err")" || true
    err="$(cat "$work/err")"
    if [ "$got" = "$2" ] && [ -z "$err" ]; then
        echo "ok   $1 = $2"
    else
        echo "FAIL $1: got '$got', expected '$2'${err:+; snmptranslate said: $err}"
        fail=1
    fi
}
base=.1.3.6.1.4.1.32473.1
expect pulseAlertNotification "$base.0.1"
n=1
for object in pulseAlertId pulseAlertState pulseAlertSeverity pulseAlertTenant pulseAlertDevice pulseAlertSite \
    pulseAlertRule pulseAlertSummary; do
    expect "$object" "$base.1.$n"
    n=$((n + 1))
done
expect pulseCompliance "$base.2.1.1"
# The notification lists every object, in the order the sender sends them.
objects="$(cd "$work" && MIBS= snmptranslate -M "$dirs" -m PULSE-MIB -IR -Td pulseAlertNotification 2>/dev/null |
    tr -d '\n' | sed -n 's/.*OBJECTS[[:space:]]*{\([^}]*\)}.*/\1/p' | tr -d ' \t')"
if [ "$objects" = "pulseAlertId,pulseAlertState,pulseAlertSeverity,pulseAlertTenant,pulseAlertDevice,pulseAlertSite,pulseAlertRule,pulseAlertSummary" ]; then
    echo "ok   pulseAlertNotification OBJECTS in order"
else
    echo "FAIL pulseAlertNotification OBJECTS: $objects"
    fail=1
fi
exit $fail
