#!/usr/bin/env bash
# The test SCEP client tools (tests/tools/scepreq, bench/enroll_bench)
# against a real peer, micromdm's scepserver 2.1.0, before the product
# exists: enrollment by POST and GET, FAILURE on a wrong challenge, the
# CertRep verified (also by the openssl CLI), our pkiMessage opened by the
# openssl CLI with the peer's CA key, and a small enroll_bench run.
#
# scepserver binds every address, so it runs inside a private network
# namespace that has only loopback; the namespace is deleted at exit.
. "$(dirname "$0")/lib.sh"

SCEPREQ=$TOOLS/scepreq
BENCH=$BUILD/bench/enroll_bench
NS=""
CHALLENGE=tools-secret-$$

cleanup_all() {
	t_cleanup
	[ -n "$NS" ] && ip netns del "$NS" 2>/dev/null
}
trap cleanup_all EXIT

# Runs a command inside the namespace.
in_ns() { ip netns exec "$NS" "$@"; }

# Waits until 127.0.0.1:PORT accepts connections inside the namespace.
ns_wait_tcp() {
	local _
	for _ in $(seq 200); do
		in_ns bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# scepreq with the peer's URL and its documented quirk allowed: micromdm
# 2.1.0 repeats our senderNonce as its own.
req() { in_ns "$SCEPREQ" --url "$URL" --allow-echoed-nonce "$@" 2>"$WORK/req.err"; }

for bin in "$SCEPREQ" "$BENCH"; do
	if [ ! -x "$bin" ]; then
		not_ok "client tools are built" "missing $bin"
		exit 1
	fi
done
if ! command -v scepserver >/dev/null; then
	skip "scep client tools against micromdm scepserver" "scepserver not installed (Debian package scep)"
	exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! ip netns add "sceptools$$" 2>/dev/null; then
	skip "scep client tools against micromdm scepserver" "cannot create a network namespace (needs root)"
	exit 0
fi
NS=sceptools$$
in_ns ip link set lo up

# The peer: an RSA-2048 CA, renewal always allowed.
DEPOT=$WORK/depot
scepserver ca -init -depot "$DEPOT" -keySize 2048 >"$WORK/ca-init.log" 2>&1
PORT=$(free_port)
URL=http://127.0.0.1:$PORT/scep
bg "$WORK/scepserver.log" ip netns exec "$NS" scepserver -depot "$DEPOT" \
    -port "$PORT" -challenge "$CHALLENGE" -allowrenew 0
if ! ns_wait_tcp "$PORT"; then
	not_ok "micromdm scepserver starts" "$(tail -5 "$WORK/scepserver.log")"
	exit 1
fi
ok "micromdm scepserver starts in namespace $NS"

# GetCACaps and GetCACert.
out=$(req --caps)
case "$out" in
*POSTPKIOperation*) ok "scepreq reads GetCACaps" ;;
*) not_ok "scepreq reads GetCACaps" "$out" ;;
esac

# Enrollment by POST: SUCCESS, and the certificate is the CA's, for our key.
out=$(req --challenge "$CHALLENGE" --subject "/CN=tools-post/O=Test" \
    --ca-out "$WORK/ca.pem" --key-out "$WORK/post.key" --out "$WORK/post.pem" \
    --save-request "$WORK/post-req.der" --save-reply "$WORK/post-rep.der")
check_eq "scepreq enrolls by POST" "status=SUCCESS" "$(echo "$out" | cut -d' ' -f1)"
check "scepreq saves the GetCACert certificate, the peer's CA" \
    cmp <(openssl x509 -in "$WORK/ca.pem" -outform DER) \
        <(openssl x509 -in "$DEPOT/ca.pem" -outform DER)
serial=$(openssl x509 -in "$WORK/post.pem" -noout -serial 2>/dev/null | cut -d= -f2)
check_eq "scepreq reports the issued serial" "serial=$serial" "$(echo "$out" | cut -d' ' -f2)"
check_eq "scepreq reports the peer's reply algorithms (DES + SHA-1)" \
    "cipher=des-cbc digest=sha1" "$(echo "$out" | cut -d' ' -f3-4)"
check "issued certificate verifies against GetCACert" \
    openssl verify -CAfile "$WORK/ca.pem" "$WORK/post.pem"
check_eq "issued certificate holds our key" \
    "$(openssl pkey -in "$WORK/post.key" -pubout)" \
    "$(openssl x509 -in "$WORK/post.pem" -noout -pubkey)"

# The openssl CLI agrees: our request opens with the peer's CA key and the
# reply verifies with the GetCACert certificate.  (scepserver ca -init
# encrypts its key under the empty passphrase.)
check "openssl verifies our pkiMessage signature" \
    openssl cms -verify -noverify -binary -inform DER -in "$WORK/post-req.der" \
    -out "$WORK/post-env.der"
check "openssl decrypts our envelope with the CA key" \
    openssl cms -decrypt -binary -inform DER -in "$WORK/post-env.der" \
    -inkey "$DEPOT/ca.key" -passin pass: -out "$WORK/post-csr.der"
check "the CSR inside carries a valid self-signature" \
    openssl req -inform DER -in "$WORK/post-csr.der" -noout -verify
case "$(openssl req -inform DER -in "$WORK/post-csr.der" -noout -text 2>&1)" in
*"challengePassword"*"$CHALLENGE"*) ok "the CSR carries the challengePassword" ;;
*) not_ok "the CSR carries the challengePassword" ;;
esac
check "openssl verifies the CertRep with the CA certificate only" \
    openssl cms -verify -binary -inform DER -in "$WORK/post-rep.der" \
    -certfile "$WORK/ca.pem" -nointern -noverify -out /dev/null

# Enrollment by GET (base64 message=, URL-encoded), UTF8String challenge,
# 3DES + SHA-1, an RSA-1024 key.
out=$(req --get --challenge "$CHALLENGE" --subject /CN=tools-get)
check_eq "scepreq enrolls by GET" "status=SUCCESS" "${out%% *}"
out=$(req --challenge "$CHALLENGE" --challenge-utf8 --subject /CN=tools-utf8)
check_eq "scepreq enrolls with a UTF8String challenge" "status=SUCCESS" "${out%% *}"
out=$(req --challenge "$CHALLENGE" --cipher 3des --digest sha1 --keygen rsa:1024 \
    --subject /CN=tools-3des)
check_eq "scepreq enrolls with 3DES, SHA-1, RSA-1024" "status=SUCCESS" "${out%% *}"

# SANs the CSR asked for come back (micromdm copies DNS, email and URI).
out=$(req --challenge "$CHALLENGE" --subject /CN=tools-san --san-dns d.example \
    --san-email m@example.com --san-uri IntuneDeviceId://0f3c1d2e \
    --san-upn u@example.com --add-sid-ext --out "$WORK/san.pem")
check_eq "scepreq enrolls a CSR with SANs and the SID extension" "status=SUCCESS" "${out%% *}"
case "$(openssl x509 -in "$WORK/san.pem" -noout -ext subjectAltName 2>&1)" in
*"DNS:d.example"*"email:m@example.com"*) ok "issued certificate carries the DNS and email SANs" ;;
*) not_ok "issued certificate carries the DNS and email SANs" ;;
esac

# A wrong challenge: micromdm answers a signed CertRep FAILURE, badRequest.
out=$(req --challenge wrong-challenge --subject /CN=tools-wrong)
rc=$?
check_eq "wrong challenge gives FAILURE badRequest" \
    "status=FAILURE failInfo=badRequest" "$(echo "$out" | cut -d' ' -f1-2)"
check_eq "a well-formed FAILURE exits 0" 0 "$rc"

# Renewal: RenewalReq signed by the issued certificate, for a new key.
out=$(req --renewal --challenge "$CHALLENGE" --subject "/CN=tools-post/O=Test" \
    --signer-cert "$WORK/post.pem" --signer-key "$WORK/post.key" \
    --key-out "$WORK/renew.key" --out "$WORK/renew.pem")
check_eq "scepreq renews with RenewalReq" "status=SUCCESS" "${out%% *}"
check_eq "renewed certificate holds the new key" \
    "$(openssl pkey -in "$WORK/renew.key" -pubout)" \
    "$(openssl x509 -in "$WORK/renew.pem" -noout -pubkey 2>&1)"

# The checks are strict: without --allow-echoed-nonce the peer's echoed
# senderNonce is refused; a hostile request gets the peer's HTTP 500.
out=$(in_ns "$SCEPREQ" --url "$URL" --challenge "$CHALLENGE" --subject /CN=tools-strict 2>&1)
rc=$?
case "$rc:$out" in
1:*"senderNonce merely echoes ours"*)
	check_eq "scepreq refuses an echoed senderNonce by default" \
	    "status=INVALID" "$(echo "$out" | grep '^status=')" ;;
*) not_ok "scepreq refuses an echoed senderNonce by default" "rc=$rc" "$out" ;;
esac
out=$(req --challenge "$CHALLENGE" --hostile bad-signature --subject /CN=tools-bad)
rc=$?
check_eq "a request with a bad signature gets a non-SCEP answer" "1:http=500" "$rc:$out"
out=$(req --send-file "$WORK/post-req.der" --http-only)
check_eq "scepreq --send-file --http-only reports the status" "http=200" "$out"

# enroll_bench: every request succeeds, every serial distinct.
out=$(in_ns "$BENCH" --url "$URL" --challenge "$CHALLENGE" --requests 50 \
    --concurrency 1 --keys 4 --check-serials --allow-echoed-nonce 2>"$WORK/bench.err")
line1=$(echo "$out" | sed -n 1p)
line2=$(echo "$out" | sed -n 2p)
case "$line1" in
"requests=50 ok=50 failed=0 "*) ok "enroll_bench reports ok=50" ;;
*) not_ok "enroll_bench reports ok=50" "$out" "$(tail -5 "$WORK/bench.err")" ;;
esac
case "$line2" in
*"decrypted=50 distinct_serials=50 cipher=des-cbc digest=sha1"*) ok "enroll_bench decrypts all 50 DES replies, 50 distinct serials" ;;
*) not_ok "enroll_bench decrypts all 50 DES replies, 50 distinct serials" "$out" ;;
esac

exit "$T_FAILED"
