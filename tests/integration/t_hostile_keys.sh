#!/usr/bin/env bash
# Keys an attacker picks, sent to a running scep-ca before any
# authentication: the crafted RSA-12288 PKCSReq whose signature recovers to
# 1500 bytes (it overflowed a 1 KiB stack buffer and killed the daemon),
# signers and CSR keys over 8192 bits, EC keys on unlisted curves or with
# explicit parameters.  Each is answered with a CertRep FAILURE badAlg
# (signed by the RA: a FAILURE carries no envelope, so none has to be
# encrypted to a key we refuse), logged, the store unchanged, the daemon
# alive; odd but sane keys (e = 3, e = 2^32+1) still enroll.
# The messages and keys come from tests/fuzz/make_seeds.sh.
. "$TOP/tests/integration/lib.sh"

CA=$WORK/ca
CH=hostile-keys-challenge
KEYS=$TOP/tests/fuzz/keys
SEEDS=$TOP/tests/fuzz/seeds/scep
"$SCEP_CA" init --dir "$CA" --challenge "$CH" >"$WORK/init.log" 2>&1 ||
    { cat "$WORK/init.log"; exit 1; }
cat >>"$CA/scep-ca.conf" <<EOF

[profile small]
path = /small/scep
challenge = static
challenge_secret_file = challenge.secret
max_rsa_bits = 3072
EOF
start_ca "$CA" || exit 1
REQ=$TOOLS/scepreq

store_state() {
	sql "$CA/store.db" "SELECT (SELECT count(*) FROM certificates) || '/' ||
	    (SELECT count(*) FROM transactions)"
}

# signer NAME: a self-signed certificate for tests/fuzz/keys/NAME.key.
signer() {
	[ -f "$WORK/$1.pem" ] || openssl req -x509 -new -key "$KEYS/$1.key" \
	    -subj "/CN=hostile-$1" -days 1 -out "$WORK/$1.pem" 2>/dev/null
	echo "$WORK/$1.pem"
}

# refuse NAME LOGTEXT URL ARGS...: scepreq gets a CertRep FAILURE badAlg,
# the store is unchanged, the daemon answers and logged LOGTEXT.
refuse() {
	local name=$1 text=$2 url=$3 before out; shift 3
	before=$(store_state)
	out=$("$REQ" --url "$url" "$@" 2>"$WORK/$name.err" | tail -n 1)
	case "$out" in
	"status=FAILURE failInfo=badAlg"*) ok "${name}_answered_badalg" ;;
	*) not_ok "${name}_answered_badalg" "got: $out" \
	    "$(tail -n 3 "$WORK/$name.err")" ;;
	esac
	check_eq "${name}_stores_nothing" "$before" "$(store_state)"
	check "${name}_leaves_the_daemon_alive" kill -0 "$CA_PID"
	check "${name}_leaves_the_daemon_answering" curl -sf "$CA_URL/healthz"
	check "${name}_logged" grep -qF -- "$text" "$CA/serve.log"
}

# ---- the crafted RSA-12288 message (no challenge, no key of ours) --------
refuse "rsa_12288_signer_recovering_1500_bytes" \
    "the signer's RSA-12288 key refused (at most 8192 bits) (failInfo badAlg)" \
    "$CA_URL/scep" --send-file "$SEEDS/forged-rsa12288-recover1500.der"

# ---- signers the bounds refuse --------------------------------------------
refuse "rsa_8193_signer" "the signer's RSA-8193 key refused" "$CA_URL/scep" \
    --challenge "$CH" --keygen rsa:2048 --subject /CN=s8193 \
    --signer-cert "$(signer rsa8193)" --signer-key "$KEYS/rsa8193.key"
refuse "rsa_16384_signer" "the signer's RSA-16384 key refused" "$CA_URL/scep" \
    --challenge "$CH" --keygen rsa:2048 --subject /CN=s16384 \
    --signer-cert "$(signer rsa16384)" --signer-key "$KEYS/rsa16384.key"
refuse "secp256k1_signer" "the signer's EC key on curve secp256k1 refused" \
    "$CA_URL/scep" --challenge "$CH" --keygen rsa:2048 --subject /CN=sk1 \
    --signer-cert "$(signer ec-secp256k1)" --signer-key "$KEYS/ec-secp256k1.key"
refuse "explicit_curve_signer" "EC key with explicit curve parameters refused" \
    "$CA_URL/scep" --challenge "$CH" --keygen rsa:2048 --subject /CN=sexp \
    --signer-cert "$(signer ec-p256-explicit)" \
    --signer-key "$KEYS/ec-p256-explicit.key"
refuse "profile_max_rsa_bits_bounds_the_signer" "the signer's RSA-4096 key refused (at most 3072 bits)" \
    "$CA_URL/small/scep" --challenge "$CH" --keygen rsa:2048 --subject /CN=s4096 \
    --signer-cert "$(signer rsa4096)" --signer-key "$KEYS/rsa4096.key"

# ---- CSR keys the bounds refuse (signed by a sane RSA-2048 signer) --------
S2048=$(signer rsa2048)
for k in rsa8193 rsa16384; do
	refuse "${k//-/_}_csr_key" "the CSR's RSA-${k#rsa} key refused" "$CA_URL/scep" \
	    --challenge "$CH" --key "$KEYS/$k.key" --subject "/CN=c-$k" \
	    --signer-cert "$S2048" --signer-key "$KEYS/rsa2048.key"
done
refuse "secp256k1_csr_key" "the CSR's EC key on curve secp256k1 refused" \
    "$CA_URL/scep" --challenge "$CH" --key "$KEYS/ec-secp256k1.key" \
    --subject /CN=c-k1 --signer-cert "$S2048" --signer-key "$KEYS/rsa2048.key"
refuse "brainpool_csr_key" "the CSR's EC key on curve brainpoolP256r1 refused" \
    "$CA_URL/scep" --challenge "$CH" --key "$KEYS/ec-brainpoolP256r1.key" \
    --subject /CN=c-bp --signer-cert "$S2048" --signer-key "$KEYS/rsa2048.key"
refuse "explicit_curve_csr_key" "EC key with explicit curve parameters refused" \
    "$CA_URL/scep" --challenge "$CH" --key "$KEYS/ec-p256-explicit.key" \
    --subject /CN=c-exp --signer-cert "$S2048" --signer-key "$KEYS/rsa2048.key"
refuse "profile_max_rsa_bits_bounds_the_csr_key" "the CSR's RSA-4096 key refused (at most 3072 bits)" \
    "$CA_URL/small/scep" --challenge "$CH" --key "$KEYS/rsa4096.key" \
    --subject /CN=c-4096 --signer-cert "$S2048" --signer-key "$KEYS/rsa2048.key"

# ---- odd but sane keys still enroll ----------------------------------------
for k in rsa2048-e3 rsa2048-e4294967297; do
	before=$(sql "$CA/store.db" "SELECT count(*) FROM certificates")
	out=$("$REQ" --url "$CA_URL/scep" --challenge "$CH" --key "$KEYS/$k.key" \
	    --subject "/CN=odd-$k" 2>"$WORK/$k.err" | tail -n 1)
	case "$out" in
	status=SUCCESS*) ok "${k//-/_}_signer_and_csr_key_enroll" ;;
	*) not_ok "${k//-/_}_signer_and_csr_key_enroll" "got: $out" \
	    "$(tail -n 3 "$WORK/$k.err")" ;;
	esac
	check_eq "${k//-/_}_certificate_stored" "$((before + 1))" \
	    "$(sql "$CA/store.db" "SELECT count(*) FROM certificates")"
done
check "daemon_alive_at_the_end" kill -0 "$CA_PID"
