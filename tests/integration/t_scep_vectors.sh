#!/usr/bin/env bash
# Real SCEP messages from Apple devices, Cisco, sscep, OpenSCEP, cryptlib,
# a Java client and NDES (../shared/vectors): with the CA key a message was
# made for, scep-ca recovers exactly the CSR the vectors name; the server
# then issues or refuses by policy, and refuses the rest cleanly.  None
# crashes or hangs it.
. "$TOP/tests/integration/lib.sh"

V=$VECTORS
if [ ! -d "$V" ]; then
	skip "vectors_present" "no $V"
	exit 0
fi

# ---- micromdm: an Apple PKCSReq (SHA-1, 3DES), CA key 3DES-encrypted
# with an empty passphrase; the CA certificate expired in 2026. ----------
APPLE=$WORK/apple
"$SCEP_CA" init --dir "$APPLE" --import-ca "$V/micromdm-scep/testdata/testca/ca.pem" \
    "$V/micromdm-scep/testdata/testca/ca.key" >"$WORK/init-apple.log" 2>&1
check "import_ca_with_encrypted_key" test -s "$APPLE/ca.key"
"$SCEP_CA" inspect --dir "$APPLE" "$V/micromdm-scep/testdata/PKCSReq.der" \
    --csr-out "$WORK/apple.csr" >"$WORK/apple.inspect" 2>&1
check "apple_pkcsreq_yields_its_csr" cmp "$WORK/apple.csr" "$V/micromdm-scep/derived/PKCSReq.csr.der"
check "apple_pkcsreq_8_byte_nonce_read" grep -q 'sender_nonce_bytes: 8' "$WORK/apple.inspect"
check "apple_pkcsreq_transaction_id_read" \
    grep -q 'transaction_id: A13090761A30F66664F85D37433D2065E1112BA1' "$WORK/apple.inspect"

start_ca "$APPLE" || exit 1
code=$(scep_post "$CA_URL/scep" "$V/micromdm-scep/testdata/PKCSReq.der" "$WORK/apple.rep")
check_eq "apple_pkcsreq_answered_with_certrep" 200 "$code"
# Its CSR has an RSA-1024 key: refused by the default policy (badRequest).
check_eq "apple_rsa1024_csr_refused_by_policy" "2 2" "$(certrep_status "$WORK/apple.rep")"
check "apple_refusal_names_the_key" grep -q 'RSA-1024 key refused' "$APPLE/serve.log"
check_eq "apple_refusal_stores_nothing" 0 "$(sql "$APPLE/store.db" 'SELECT count(*) FROM certificates')"
stop_ca

# ---- EJBCA's captures: OpenSCEP, sscep, the Java client, Cisco VPN; MD5
# and single DES, encrypted to the synthetic AdminCA1 certificate. -------
EJ=$WORK/ejbca
M=$V/ejbca/MessagesTest
"$SCEP_CA" init --dir "$EJ" --import-ca "$M/derived/SYNTHETIC-AdminCA1.crt" \
    "$M/derived/p12-privatesignkeyalias.key" >"$WORK/init-ej.log" 2>&1
for m in openscep sscep scepclient ciscovpnscep; do
	check_fails "${m}_md5_refused_without_legacy" \
	    "$SCEP_CA" inspect --dir "$EJ" "$M/$m.der"
	"$SCEP_CA" inspect --dir "$EJ" --allow-legacy "$M/$m.der" \
	    --csr-out "$WORK/$m.csr" >"$WORK/$m.inspect" 2>&1
	check "${m}_yields_its_csr_with_legacy" cmp "$WORK/$m.csr" "$M/derived/$m.csr.der"
done
check "java_client_unsorted_attributes_verify" grep -q 'signature: ok' "$WORK/scepclient.inspect"
check "java_client_des_without_iv_decrypts" grep -q 'envelope: DES-CBC' "$WORK/scepclient.inspect"

# Served with the default policy: MD5 is refused with badAlg.
start_ca "$EJ" || exit 1
code=$(scep_post "$CA_URL/scep" "$M/sscep.der" "$WORK/sscep.rep")
check_eq "sscep_md5_refused_with_badalg" "200 2 0" "$code $(certrep_status "$WORK/sscep.rep")"
stop_ca
# With allow_legacy the messages open, and policy refuses their small keys
# (the policy is checked before the challenge).
sed -i 's/^\[profile default\]$/&\nallow_legacy = yes/' "$EJ/scep-ca.conf"
start_ca "$EJ" || exit 1
for m in openscep ciscovpnscep scepclient; do
	code=$(scep_post "$CA_URL/scep" "$M/$m.der" "$WORK/$m.rep")
	check_eq "${m}_small_key_refused_by_policy" "200 2 2" "$code $(certrep_status "$WORK/$m.rep")"
done
check "legacy_reply_is_signed_by_the_ra" \
    openssl cms -verify -inform DER -in "$WORK/ciscovpnscep.rep" -noverify -binary -out /dev/null
stop_ca

# ---- messages for CAs whose keys are not published, and CertReps sent as
# requests: all refused cleanly; the server survives them all. -----------
start_ca "$EJ" || exit 1
for f in ejbca/MessagesTest/pixscep.der ejbca/ProtocolScepHttpTest/openscep.der \
    appblade-testhub/raw_message.der go_S-MIME/SCEP.der jscep/src/samples/scep_req2.der; do
	name=$(basename "$(dirname "$f")")_$(basename "$f" .der)
	code=$(scep_post "$CA_URL/scep" "$V/$f" "$WORK/$name.rep")
	check_eq "${name}_for_another_ca_gets_badmessagecheck" "200 2 1" \
	    "$code $(certrep_status "$WORK/$name.rep")"
done
for f in smallstep-scep/testdata/CertRep.der jscep/src/samples/scep_resp2.der; do
	name=$(basename "$f" .der)
	code=$(scep_post "$CA_URL/scep" "$V/$f" "$WORK/$name.rep")
	check_eq "${name}_sent_as_request_gets_badrequest" "200 2 2" \
	    "$code $(certrep_status "$WORK/$name.rep")"
done
code=$(scep_post "$CA_URL/scep" "$V/smallstep-scep/testdata/testca2/CertRep_NoCertificatesForSigners.der" "$WORK/ndes.rep")
check_eq "ndes_certrep_without_signer_cert_gets_badmessagecheck" "200 2 1" \
    "$code $(certrep_status "$WORK/ndes.rep")"
for f in ejbca/MessagesTest/iep10.der jscep/src/samples/scep_req1.der jscep/src/samples/scep_req0.der; do
	code=$(scep_post "$CA_URL/scep" "$V/$f" /dev/null)
	check_eq "$(basename "$f" .der)_not_a_pkimessage_gets_http_400" 400 "$code"
done
"$SCEP_CA" inspect --dir "$EJ" --allow-legacy "$V/jscep/src/samples/scep_req2.der" \
    --envelope-out "$WORK/jscep.env" >/dev/null 2>&1
check "cryptlib_envelope_is_the_published_one" cmp "$WORK/jscep.env" "$V/jscep/src/samples/scep_req1.der"
check "server_still_healthy_after_every_vector" curl -sf "$CA_URL/healthz"
