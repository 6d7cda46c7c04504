#!/bin/sh
# Makes the fuzz seeds that reach past the signature checks: pkiMessages
# with VALID signatures by large and odd keys, CSRs and public keys of
# unusual types, and the crafted RSA-12288 message that overflowed a fixed
# recovery buffer (tests/integration/t_hostile_keys.sh sends it).  Random
# mutation never gets past a signature; these seeds start behind it.
#
# Usage: tests/fuzz/make_seeds.sh BUILD_DIR   (BUILD_DIR holds tools/scepseed)
# Writes tests/fuzz/seeds/{scep,csr,pubkey}/.  The keys in tests/fuzz/keys/
# are test keys, committed because RSA-16384 takes minutes to generate; a
# missing one is generated again.  The output is committed too: run this
# only to change the seeds.
set -eu
BUILD=$(cd "${1:?usage: make_seeds.sh BUILD_DIR}" && pwd)
TOP=$(cd "$(dirname "$0")/../.." && pwd)
SEED=$BUILD/tools/scepseed
KEYS=$TOP/tests/fuzz/keys
OUT=$TOP/tests/fuzz/seeds
VECTORS=${VECTORS:-$TOP/../shared/vectors}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
[ -x "$SEED" ] || { echo "make_seeds.sh: build $SEED first (make BUILD=...)" >&2; exit 1; }

# key NAME GENPKEY-ARGS...: makes keys/NAME.key unless it is there.
key() {
	name=$1; shift
	[ -s "$KEYS/$name.key" ] && return 0
	echo "generating $name (RSA-16384 takes minutes)" >&2
	openssl genpkey "$@" -out "$KEYS/$name.key" 2>/dev/null
}
mkdir -p "$KEYS" "$OUT/scep" "$OUT/csr" "$OUT/pubkey"
for b in 1024 2048 4096 8192 12288 16384; do
	key rsa$b -algorithm RSA -pkeyopt rsa_keygen_bits:$b
done
# OpenSSL rounds an odd size down to the even one below: built from primes.
if [ ! -s "$KEYS/rsa8193.key" ]; then
	python3 "$TOP/tests/fuzz/mkrsa.py" 8193 >"$TMP/rsa8193.der"
	openssl pkey -inform DER -in "$TMP/rsa8193.der" -out "$KEYS/rsa8193.key"
fi
key rsa2048-e3 -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -pkeyopt rsa_keygen_pubexp:3
key rsa2048-e4294967297 -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -pkeyopt rsa_keygen_pubexp:4294967297
key rsapss2048 -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048
key ec-p256 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
key ec-p384 -algorithm EC -pkeyopt ec_paramgen_curve:P-384
key ec-secp256k1 -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1
key ec-brainpoolP256r1 -algorithm EC -pkeyopt ec_paramgen_curve:brainpoolP256r1
key ec-p256-explicit -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -pkeyopt ec_param_enc:explicit
key ed25519 -algorithm ED25519

# Every key's SubjectPublicKeyInfo, and a CSR for it (openssl req signs
# with any key type, Ed25519 and explicit curves included).
for k in "$KEYS"/*.key; do
	n=$(basename "$k" .key)
	openssl pkey -in "$k" -pubout -outform DER -out "$OUT/pubkey/$n.der"
	openssl req -new -key "$k" -subj "/CN=seed-$n" -outform DER \
	    -out "$OUT/csr/$n.der"
done

# pkiMessages signed by each RSA key (self-signed signer certificates),
# encrypted to the RSA-2048 one; EC signers with an RSA recipient.
openssl req -x509 -new -key "$KEYS/rsa2048.key" -subj /CN=seed-recipient \
    -days 3650 -out "$TMP/recipient.pem" 2>/dev/null
for n in rsa1024 rsa2048 rsa4096 rsa8192 rsa8193 rsa16384 rsa2048-e3 \
    rsa2048-e4294967297 ec-p256 ec-p384 ec-secp256k1; do
	"$SEED" --signer-key "$KEYS/$n.key" --recipient "$TMP/recipient.pem" \
	    --out "$OUT/scep/sig-$n.der"
done
"$SEED" --signer-key "$KEYS/rsa2048.key" --digest sha1 \
    --recipient "$TMP/recipient.pem" --out "$OUT/scep/sig-rsa2048-sha1.der"
"$SEED" --signer-key "$KEYS/rsa4096.key" --digest sha512 \
    --recipient "$TMP/recipient.pem" --out "$OUT/scep/sig-rsa4096-sha512.der"
# CSRs with unusual keys, inside validly signed messages.
for n in rsa8193 rsa16384 rsa2048-e3 rsa2048-e4294967297 rsapss2048 \
    ec-p384 ec-secp256k1 ec-brainpoolP256r1 ec-p256-explicit ed25519; do
	"$SEED" --signer-key "$KEYS/rsa2048.key" --recipient "$TMP/recipient.pem" \
	    --csr "$OUT/csr/$n.der" --out "$OUT/scep/csr-$n.der"
done
# The regression message: a self-signed RSA-12288 signer whose signature
# recovers to 1500 bytes, over a 1024-byte stack buffer before the fix.
"$SEED" --signer-key "$KEYS/rsa12288.key" --recipient "$TMP/recipient.pem" \
    --forge-recover 1500 --out "$OUT/scep/forged-rsa12288-recover1500.der"
# The same shape within the bounds: RSA-8192 recovering to 1000 bytes.
"$SEED" --signer-key "$KEYS/rsa8192.key" --recipient "$TMP/recipient.pem" \
    --forge-recover 1000 --out "$OUT/scep/forged-rsa8192-recover1000.der"

# What real clients send (../shared/vectors), so the repository stands alone.
for v in appblade-testhub/raw_message.der ejbca/MessagesTest/ciscovpnscep.der \
    ejbca/MessagesTest/iep10.der ejbca/MessagesTest/openscep.der \
    ejbca/MessagesTest/pixscep.der ejbca/MessagesTest/scepclient.der \
    ejbca/MessagesTest/sscep.der go_S-MIME/SCEP.der \
    jscep/src/samples/scep_req0.der jscep/src/samples/scep_req1.der \
    jscep/src/samples/scep_req2.der micromdm-scep/testdata/PKCSReq.der; do
	if [ -f "$VECTORS/$v" ]; then
		install -m 0644 "$VECTORS/$v" "$OUT/scep/vector-$(echo "$v" | tr / _)"
	fi
done
for v in ejbca/MessagesTest/derived/ciscovpnscep.csr.der \
    ejbca/MessagesTest/derived/scepclient.csr.der micromdm-scep/derived/PKCSReq.csr.der; do
	if [ -f "$VECTORS/$v" ]; then
		install -m 0644 "$VECTORS/$v" "$OUT/csr/vector-$(echo "$v" | tr / _)"
	fi
done
echo "seeds: $(ls "$OUT/scep" | wc -l) pkiMessages, $(ls "$OUT/csr" | wc -l) CSRs," \
    "$(ls "$OUT/pubkey" | wc -l) public keys in $OUT"
