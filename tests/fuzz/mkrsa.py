# Writes (DER, on stdout) an RSA private key of exactly BITS bits built from
# two primes made by `openssl prime`: OpenSSL's own key generation rounds an
# odd size down.  Usage: mkrsa.py BITS [E]
import subprocess, sys
bits = int(sys.argv[1]); e = int(sys.argv[2]) if len(sys.argv) > 2 else 65537
def prime(b):
    while True:
        p = int(subprocess.check_output(["openssl", "prime", "-generate", "-bits", str(b), "-hex"]).strip(), 16)
        if (p - 1) % e != 0:
            return p
while True:
    p, q = prime((bits + 1) // 2), prime(bits // 2)
    n = p * q
    if n.bit_length() == bits and p != q:
        break
if p < q: p, q = q, p
phi = (p - 1) * (q - 1)
d = pow(e, -1, phi)
def der_len(n):
    if n < 0x80: return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big"); return bytes([0x80 | len(b)]) + b
def der_int(v):
    b = v.to_bytes(v.bit_length() // 8 + 1, "big")
    return b"\x02" + der_len(len(b)) + b
body = b"".join(der_int(x) for x in [0, n, e, d, p, q, d % (p - 1), d % (q - 1), pow(q, -1, p)])
sys.stdout.buffer.write(b"\x30" + der_len(len(body)) + body)
