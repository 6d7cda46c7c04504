# Sourced by tests/integration/t_fuzz.sh and tests/fuzz/long.sh: which seeds
# (tests/fuzz/seeds, made by make_seeds.sh) each libFuzzer target starts from.
# fuzz_seeds TARGET DIR: fills DIR with TARGET's seeds; 1 when it has none.
fuzz_seeds() {
	local s=$TOP/tests/fuzz/seeds
	mkdir -p "$2"
	case "$1" in
	fuzz_scep_req) cp "$s"/scep/* "$s"/csr/* "$2/" ;;
	fuzz_scep_verify) cp "$s"/scep/* "$2/" ;;
	fuzz_csr) cp "$s"/csr/* "$2/" ;;
	fuzz_pubkey) cp "$s"/pubkey/* "$2/" ;;
	fuzz_ms_json) cp "$s"/ms_json/* "$2/" ;;
	fuzz_text) cp "$s"/text/* "$2/" ;;
	fuzz_ocsp_req|fuzz_ocsp_fast) cp "$s"/ocsp/* "$2/" ;;
	esac
	[ -n "$(ls -A "$2")" ]
}
