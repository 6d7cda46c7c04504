#!/usr/bin/env bash
# Real SCEP clients against scep-ca: micromdm's scepclient and certmonger
# enroll, renew and are refused with a SCEP FAILURE for a wrong challenge;
# every issued certificate verifies against the CA with openssl.
. "$TOP/tests/integration/lib.sh"

CA=$WORK/ca
CHALLENGE=s3cret-challenge-$RANDOM
"$SCEP_CA" init --dir "$CA" --challenge "$CHALLENGE" --key rsa:2048 \
    >"$WORK/init.log" 2>&1 || { cat "$WORK/init.log"; exit 1; }
# micromdm's scepclient 2.1.0 encrypts with single DES only.
sed -i 's/^\[profile default\]$/&\nallow_legacy = yes/' "$CA/scep-ca.conf"
# Both clients renew at once: a window as long as the validity allows it.
sed -i 's/^renewal_window_days = .*/renewal_window_days = 36500/' "$CA/scep-ca.conf"
start_ca "$CA" || exit 1

count() { sql "$CA/store.db" "SELECT count(*) FROM certificates"; }

# ---- capabilities and CA certificates -----------------------------------
caps=$(curl -sf "$CA_URL/scep?operation=GetCACaps")
missing=""
for c in POSTPKIOperation Renewal SHA-1 SHA-256 SHA-512 AES DES3 SCEPStandard; do
	grep -qx "$c" <<<"$caps" || missing="$missing $c"
done
check_eq "getcacaps_lists_required_capabilities" "" "$missing"

ctype=$(curl -s -o "$WORK/cacert.p7" -w '%{content_type}' "$CA_URL/scep?operation=GetCACert")
check_eq "getcacert_answers_ra_and_ca_content_type" "application/x-x509-ca-ra-cert" "$ctype"
ncerts=$(openssl pkcs7 -inform DER -in "$WORK/cacert.p7" -print_certs 2>/dev/null | grep -c '^subject=')
check_eq "getcacert_holds_ra_and_ca" "2" "$ncerts"

# ---- micromdm scepclient ------------------------------------------------
mkdir -p "$WORK/mm" && cd "$WORK/mm" || exit 1
scepclient -server-url "$CA_URL/scep" -challenge "$CHALLENGE" \
    -private-key key.pem -certificate cert.pem -cn scepclient-dev \
    -organization Example >enroll.log 2>&1
check "scepclient_enrolls" test -s cert.pem
check "scepclient_certificate_verifies_against_ca" \
    openssl verify -CAfile "$CA/ca.crt" cert.pem
serial1=$(openssl x509 -in cert.pem -noout -serial | cut -d= -f2)
check "scepclient_certificate_is_in_store" "$SCEP_CA" show "$serial1" --dir "$CA"
subject=$(openssl x509 -in cert.pem -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
check_eq "issued_subject_is_the_csr_subject" "CN=scepclient-dev,OU=MDM,O=Example,C=US" "$subject"
text=$(openssl x509 -in cert.pem -noout -text)
check "issued_certificate_has_client_auth_only" \
    grep -q 'TLS Web Client Authentication' <<<"$text"
check "issued_certificate_has_crl_distribution_point" \
    grep -q "URI:$CA_URL/crl/ca.crl" <<<"$text"
check "issued_certificate_has_ocsp_url" grep -q "OCSP - URI:$CA_URL/ocsp" <<<"$text"
check "issued_certificate_is_not_a_ca" grep -q 'CA:FALSE' <<<"$text"
check_eq "issued_serial_is_16_bytes" 32 "${#serial1}"

scepclient -server-url "$CA_URL/scep" -private-key key.pem \
    -certificate cert.pem -cn scepclient-dev -organization Example >renew.log 2>&1
serial2=$(openssl x509 -in cert.pem -noout -serial | cut -d= -f2)
if [ -n "$serial2" ] && [ "$serial2" != "$serial1" ]; then
	ok "scepclient_renews_with_a_new_certificate"
else
	not_ok "scepclient_renews_with_a_new_certificate" "$(tail -3 renew.log)"
fi
check "renewed_certificate_verifies" openssl verify -CAfile "$CA/ca.crt" cert.pem
check_eq "renewal_is_recorded" "$serial1" \
    "$(sql "$CA/store.db" "SELECT renewed_from FROM certificates WHERE serial='$serial2'")"

before=$(count)
mkdir -p "$WORK/mm-bad" && cd "$WORK/mm-bad" || exit 1
scepclient -server-url "$CA_URL/scep" -challenge wrong-challenge \
    -private-key key.pem -certificate cert.pem -cn intruder >bad.log 2>&1
check "scepclient_wrong_challenge_gets_badrequest" grep -q 'failInfo: badRequest' bad.log
check_fails "scepclient_wrong_challenge_gets_no_certificate" test -s cert.pem
check_eq "wrong_challenge_changes_nothing_stored" "$before" "$(count)"
check "refusal_is_logged_with_reason" grep -q 'wrong challenge password' "$CA/serve.log"

# Cisco appends pkiclient.exe to the URL it is given.
mkdir -p "$WORK/mm-cisco" && cd "$WORK/mm-cisco" || exit 1
scepclient -server-url "$CA_URL/cgi-bin/pkiclient.exe" -challenge "$CHALLENGE" \
    -private-key key.pem -certificate cert.pem -cn cisco-path >enroll.log 2>&1
check "pkiclient_exe_path_enrolls" openssl verify -CAfile "$CA/ca.crt" cert.pem

# ---- certmonger (its own D-Bus session and private state) ---------------
CM=$WORK/cm
mkdir -p "$CM/req" "$CM/cas" "$CM/local" "$CM/tmp"
cat >"$CM/run.sh" <<EOF
export HOME=$CM CERTMONGER_REQUESTS_DIR=$CM/req CERTMONGER_CAS_DIR=$CM/cas
export CERTMONGER_LOCAL_CA_DIR=$CM/local CERTMONGER_TMPDIR=$CM/tmp
certmonger -s -n -d 1 >$CM/certmonger.log 2>&1 &
cm=\$!
trap 'kill \$cm 2>/dev/null; wait \$cm 2>/dev/null' EXIT
# Wait until our certmonger owns its bus name.  Asking certmonger itself
# (getcert) before that would make D-Bus start another one, without our
# private state directories.
for i in \$(seq 100); do
	dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \\
	    org.freedesktop.DBus.NameHasOwner string:org.fedorahosted.certmonger \\
	    2>/dev/null | grep -q 'boolean true' && break
	sleep 0.05
done
getcert add-scep-ca -s -c testca -u $CA_URL/scep
getcert request -s -c testca -k $CM/key.pem -f $CM/cert.pem -L $CHALLENGE \
    -N CN=certmonger-host -I good -w -v
openssl x509 -in $CM/cert.pem -noout -serial >$CM/serial1
getcert rekey -s -i good -w -v
openssl x509 -in $CM/cert.pem -noout -serial >$CM/serial2
getcert request -s -c testca -k $CM/bad.key -f $CM/bad.pem -L wrong-challenge \
    -N CN=certmonger-bad -I bad -w -v
getcert list -s -i bad
EOF
timeout 120 dbus-run-session -- bash "$CM/run.sh" >"$CM/out.log" 2>&1
check "certmonger_enrolls" openssl verify -CAfile "$CA/ca.crt" "$CM/cert.pem"
if [ -s "$CM/serial1" ] && [ -s "$CM/serial2" ] && ! cmp -s "$CM/serial1" "$CM/serial2"; then
	ok "certmonger_rekeys_with_a_new_certificate"
else
	not_ok "certmonger_rekeys_with_a_new_certificate" "$(tail -5 "$CM/out.log")"
fi
rekey_serial=$(cut -d= -f2 "$CM/serial2" 2>/dev/null)
check_eq "certmonger_rekey_is_a_renewal" "$(cut -d= -f2 "$CM/serial1" 2>/dev/null)" \
    "$(sql "$CA/store.db" "SELECT renewed_from FROM certificates WHERE serial='$rekey_serial'")"
check "certmonger_wrong_challenge_is_rejected" grep -q 'status: CA_REJECTED' "$CM/out.log"
check_fails "certmonger_wrong_challenge_gets_no_certificate" test -s "$CM/bad.pem"

# ---- every certificate in the store verifies ----------------------------
bad=0
for s in $(sql "$CA/store.db" "SELECT serial FROM certificates"); do
	"$SCEP_CA" show "$s" --dir "$CA" | openssl x509 >"$WORK/one.pem" 2>/dev/null
	openssl verify -CAfile "$CA/ca.crt" "$WORK/one.pem" >/dev/null 2>&1 || bad=$((bad + 1))
done
check_eq "every_stored_certificate_verifies" 0 "$bad"
