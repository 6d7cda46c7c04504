#!/usr/bin/env bash
# FreeRADIUS with raddb-examples/ and the freshly built rlm_entra_match:
# the configuration loads, EAP-TLS logins reach the module in check-eap-tls,
# TLS itself refuses a client from another CA, a refusal in check-eap-tls
# gives EAP-Failure with its Reply-Message, and a bad module option stops
# the server with a message naming it.  The certificates here are made with
# the openssl CLI, so the CA's store does not know them: the module runs
# with unknown = pass and no tenant (the decisions themselves are tested in
# t_radius_entra.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/radius_lib.sh"

for tool in freeradius eapol_test openssl; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip "radius_eaptls" "$tool not installed"
		exit 0
	fi
done

# Debian's freeradius dlopens modules with RTLD_DEEPBIND, which the ASan
# runtime refuses: an ASan-instrumented module (SANITIZE=1) cannot be loaded.
if readelf -d "$BUILD/rlm_entra_match.so" 2>/dev/null | grep -q 'NEEDED.*libasan'; then
	skip "radius_eaptls" "module built with ASan; freeradius loads modules with RTLD_DEEPBIND"
	exit 0
fi

# Indents multi-line evidence so no line of it reads as a TAP result.
indent() { sed 's/^/  /'; }

# ---- certificates (openssl CLI) --------------------------------------------
pki=$WORK/pki
mkdir -p "$pki"

# mkca NAME SUBJECT: a self-signed root CA in $pki/NAME.{pem,key}.
mkca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$pki/$1.key" -out "$pki/$1.pem" -days 2 -subj "$2" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

# mkcert NAME CA SUBJECT EXTENSIONS: a certificate in $pki/NAME.{pem,key}
# issued by CA, with a random 16-byte serial as scep-ca gives.
mkcert() {
	local name=$1 ca=$2 subj=$3 ext=$4
	printf '[v3]\nbasicConstraints=critical,CA:FALSE\n%s\n' "$ext" >"$pki/$name.ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$pki/$name.key" -out "$pki/$name.csr" -subj "$subj" 2>/dev/null &&
	openssl x509 -req -in "$pki/$name.csr" -CA "$pki/$ca.pem" -CAkey "$pki/$ca.key" \
	    -set_serial "0x$(openssl rand -hex 16 | sed 's/^./4/')" -days 1 \
	    -extfile "$pki/$name.ext" -extensions v3 -out "$pki/$name.pem" 2>/dev/null
}

device_id=6f1c2a4e-93b7-4d2a-8f0e-5c3d9b1a7e20
mkca ca "/CN=Test Root CA" &&
mkca other-ca "/CN=Other CA" &&
mkcert server ca "/CN=radius.test" \
    "keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:radius.test" &&
mkcert client ca "/CN=$device_id" \
    "keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectAltName=URI:IntuneDeviceId://$device_id,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:alice@example.com" &&
mkcert stranger other-ca "/CN=stranger" \
    "keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth" ||
	{ not_ok "radius_test_certificates_made" "openssl failed"; exit 1; }
serial=$(openssl x509 -in "$pki/client.pem" -noout -serial | cut -d= -f2)

# ---- configuration -----------------------------------------------------------
# An empty store of a real CA (the module opens it read-only).
"$SCEP_CA" init --dir "$WORK/ca" --key ec:p256 >"$WORK/ca-init.log" 2>&1 ||
	{ not_ok "radius_store_made" "$(cat "$WORK/ca-init.log")"; exit 1; }
if ! fr_setup "$pki/server.pem" "$pki/server.key" "$pki/ca.pem" \
    store="$WORK/ca/store.db" unknown=pass fail=closed timeout=1.5; then
	not_ok "radius_private_raddb_built"
	exit 1
fi

if fr_check_config; then
	ok "radius_config_with_examples_and_module_is_accepted"
else
	not_ok "radius_config_with_examples_and_module_is_accepted" \
	    "$(tail -n 15 "$FR_CHECK_LOG" | indent)"
	exit 1
fi

# The commented examples of check-eap-tls (VLAN assignment on
# Entra-Match-Result), once uncommented, are a valid configuration.
site=$FR_RADDB/sites-available/check-eap-tls
cp "$site" "$WORK/check-eap-tls.orig"
awk '/Example: VLAN assignment/ { on = 1 } /update config/ { on = 0 }
	on && /^#\t/ { sub(/^#/, "") } { print }' "$WORK/check-eap-tls.orig" >"$site"
if grep -q '^	if (&control:Entra-Match-Result == accept)' "$site" && fr_check_config; then
	ok "check_eap_tls_vlan_example_is_valid_unlang"
else
	not_ok "check_eap_tls_vlan_example_is_valid_unlang" "$(tail -n 8 "$FR_CHECK_LOG" | indent)"
fi
cp "$WORK/check-eap-tls.orig" "$site"

# A bad option value makes the server refuse the configuration, naming it.
fr_module_set fail=sometimes
if fr_check_config; then
	not_ok "radius_config_refuses_bad_fail_value" "freeradius -XC accepted fail = sometimes"
elif grep -q "Invalid value \"sometimes\" for 'fail': expected closed | open" "$FR_CHECK_LOG"; then
	ok "radius_config_refuses_bad_fail_value"
else
	not_ok "radius_config_refuses_bad_fail_value" "no message naming the option:" \
	    "$(tail -n 8 "$FR_CHECK_LOG" | indent)"
fi
fr_module_set fail=closed max_age=600 fail_open_max_age=60
if ! fr_check_config && grep -q "for 'fail_open_max_age': expected 600 to" "$FR_CHECK_LOG"; then
	ok "radius_config_refuses_fail_open_max_age_below_max_age"
else
	not_ok "radius_config_refuses_fail_open_max_age_below_max_age" "$(tail -n 8 "$FR_CHECK_LOG" | indent)"
fi
fr_module_set max_age=300 fail_open_max_age=3600

# A store that cannot be opened stops the server with the reason.
fr_module_set store="$WORK/no-such-dir/store.db"
if ! fr_check_config && grep -q "store: cannot open $WORK/no-such-dir/store.db" "$FR_CHECK_LOG" &&
   grep -q "needs read access to the store" "$FR_CHECK_LOG"; then
	ok "radius_config_refuses_store_it_cannot_open"
else
	not_ok "radius_config_refuses_store_it_cannot_open" "$(tail -n 8 "$FR_CHECK_LOG" | indent)"
fi
fr_module_set store="$WORK/ca/store.db"

# A test-only rule after entra_match: refuse one certificate by name, the
# way entra_match will refuse (no Auth-Type := Accept, a Reply-Message).
fr_check_policy '	if (&TLS-Client-Cert-Common-Name == "refused-device") {
		update reply {
			&Reply-Message := "Device refused by test policy"
		}
		reject
	}'
mkcert refused ca "/CN=refused-device" \
    "keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"

# ---- logins ------------------------------------------------------------------
if ! fr_start; then
	not_ok "radius_server_starts"
	exit 1
fi
listening=$(grep '^Listening on' "$FR_LOG")
if [ -n "$listening" ] && ! printf '%s\n' "$listening" | grep -qv ' address 127\.0\.0\.1 port '; then
	ok "radius_server_listens_on_loopback_only"
else
	not_ok "radius_server_listens_on_loopback_only" "$(printf "%s\n" "$listening" | indent)"
fi
if grep -q "$BUILD/rlm_entra_match.so" "/proc/$FR_PID/maps" 2>/dev/null; then
	ok "radius_server_loads_module_from_build_dir"
else
	not_ok "radius_server_loads_module_from_build_dir" \
	    "$(grep rlm_entra_match "/proc/$FR_PID/maps" | head -n 2 | indent)"
fi

if eaptls_login "$pki/client.pem" "$pki/client.key" "$pki/ca.pem" accept; then
	ok "eaptls_login_with_good_client_cert_is_accepted"
else
	not_ok "eaptls_login_with_good_client_cert_is_accepted" "$(tail -n 15 "$EAPOL_LOG" | indent)"
fi

# The module ran inside check-eap-tls and saw the certificate's serial.
ran=$(awk '/Virtual server check-eap-tls received request/ { in_vs = 1 }
	in_vs && /entra_match: Client certificate TLS-Client-Cert-Serial = / { print; exit }' "$FR_LOG")
if [ -n "$ran" ] && printf '%s' "$ran" | grep -qi "TLS-Client-Cert-Serial = $serial,"; then
	ok "module_runs_in_check_eap_tls_with_client_cert_serial"
else
	not_ok "module_runs_in_check_eap_tls_with_client_cert_serial" "serial $serial" \
	    "$(grep -n 'entra_match\|check-eap-tls' "$FR_LOG" | tail -n 8 | indent)"
fi
if grep -q "TLS-Client-Cert-X509v3-Subject-Alternative-Name += \"URI:IntuneDeviceId://$device_id" "$FR_LOG"; then
	ok "server_publishes_whole_san_with_example_dictionary"
else
	not_ok "server_publishes_whole_san_with_example_dictionary" \
	    "$(grep -n 'Subject-Alt' "$FR_LOG" | head -n 5 | indent)"
fi

# A client certificate from another CA never gets past TLS: the module
# does not run for it.
before=$(grep -c 'entra_match: Client certificate' "$FR_LOG")
if ! eaptls_login "$pki/stranger.pem" "$pki/stranger.key" "$pki/ca.pem" reject; then
	not_ok "eaptls_login_with_cert_from_unknown_ca_is_refused_by_tls" "no Access-Reject:" \
	    "$(tail -n 5 "$EAPOL_LOG" | indent)"
else
	after=$(grep -c 'entra_match: Client certificate' "$FR_LOG")
	if [ "$after" -eq "$before" ] &&
	   grep -q 'unable to get local issuer certificate' "$FR_LOG" &&
	   grep -q 'Alert, fatal unknown_ca' "$FR_LOG"; then
		ok "eaptls_login_with_cert_from_unknown_ca_is_refused_by_tls"
	else
		not_ok "eaptls_login_with_cert_from_unknown_ca_is_refused_by_tls" \
		    "module ran $((after - before)) times" "$(grep -n 'TLS' "$FR_LOG" | tail -n 6 | indent)"
	fi
fi

# A refusal in check-eap-tls: EAP-Failure in an Access-Reject.  The
# Reply-Message set there is copied into the outer reply, and Debian's
# default site then removes it from the EAP answer (RFC 3579 §2.6.5).
if eaptls_login "$pki/refused.pem" "$pki/refused.key" "$pki/ca.pem" reject; then
	# ... and neither EAP-Success nor MPPE keys (Vendor-Specific) in it.
	reject_attrs=$(awk '/code=3 \(Access-Reject\)/ { on = 1; next }
		on && /^   Attribute/ { print $2 } on && !/^   / { on = 0 }' "$EAPOL_LOG" | sort -u | tr '\n' ' ')
	if grep -q 'EAP Failure' "$EAPOL_LOG" && ! grep -q 'EAP Success' "$EAPOL_LOG" &&
	   [ "$reject_attrs" = "79 80 " ]; then
		ok "refusal_in_check_eap_tls_sends_eap_failure_in_access_reject"
	else
		not_ok "refusal_in_check_eap_tls_sends_eap_failure_in_access_reject" \
		    "Access-Reject attributes: $reject_attrs" "$(grep -n 'EAP' "$EAPOL_LOG" | tail -n 5 | indent)"
	fi
	check_eq "refusal_reply_message_is_copied_to_outer_reply" \
	    "Device refused by test policy" "$(fr_check_reply_message)"
	check_eq "default_site_strips_reply_message_from_eap_reject" "" "$(eapol_reply_message)"
else
	not_ok "refusal_in_check_eap_tls_sends_eap_failure_in_access_reject" \
	    "$(tail -n 15 "$EAPOL_LOG" | indent)"
fi

# Without remove_reply_message_if_eap the NAS gets the reason.
fr_stop
fr_keep_reply_message
if fr_start && eaptls_login "$pki/refused.pem" "$pki/refused.key" "$pki/ca.pem" reject; then
	check_eq "refusal_reply_message_reaches_nas_when_site_keeps_it" \
	    "Device refused by test policy" "$(eapol_reply_message)"
else
	not_ok "refusal_reply_message_reaches_nas_when_site_keeps_it" \
	    "$(tail -n 15 "$EAPOL_LOG" | indent)"
fi

fr_stop
