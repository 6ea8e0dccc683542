#!/bin/sh
# Makes the throw-away PKI the TLS unit tests use, in directory $1:
#   ca.pem, other-ca.pem       trusted test CA, and a CA nobody trusts
#   rsa.pem, ec.pem            server key + certificate (chain_files order),
#                              mx.example.com and *.relay.example.com
#   rsa.crt, rsa.key           the RSA pair as separate files (legacy params)
#   expired.pem                mx.example.com, valid in January 2020 only
#   wrong.pem                  wrong.example.org, signed by the test CA
#   untrusted.pem              mx.example.com, signed by the other CA
#   wild.pem                   *.wild.example.com
#   sni.pem                    alt.example.net
#   client.pem                 client.example.com, a client certificate
#   *.fpr, *.pkfpr             SHA-256 fingerprints of certificate and key
#   dh.pem                     DH parameters (the ffdhe2048 group)
# Private keys never leave the scratch directory; nothing here is committed.
set -eu
dir=$1
cd "$dir"
exec 2>openssl.log

ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -keyout ca.key -out ca.pem -subj "/O=Postern Tests/CN=Postern Test CA"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -keyout other-ca.key -out other-ca.pem -subj "/O=Elsewhere/CN=Other CA"

# sign NAME KEYFILE CAKEY CACERT SUBJECT SAN: NAME.crt from a fresh request
sign() {
    openssl req -new -key "$2" -out "$1.csr" -subj "$5" -addext "subjectAltName=$6"
    openssl x509 -req -in "$1.csr" -CA "$4" -CAkey "$3" -CAcreateserial -days 30 \
        -copy_extensions copy -out "$1.crt"
}
bundle() { cat "$1.key" "$1.crt" > "$1.pem"; chmod 600 "$1.pem" "$1.key"; }
fingerprints() {
    openssl x509 -in "$1.crt" -noout -fingerprint -sha256 | sed 's/.*=//' > "$1.fpr"
    openssl x509 -in "$1.crt" -noout -pubkey | openssl pkey -pubin -outform DER |
        openssl dgst -sha256 -r | sed 's/ .*//; s/../&:/g; s/:$//' | tr a-f A-F > "$1.pkfpr"
}

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key
sign rsa rsa.key ca.key ca.pem "/CN=mx.example.com" "DNS:mx.example.com,DNS:*.relay.example.com"
bundle rsa
ec_key ec.key
sign ec ec.key ca.key ca.pem "/CN=mx.example.com" "DNS:mx.example.com,DNS:*.relay.example.com"
bundle ec
for name in wrong untrusted wild sni client expired; do ec_key $name.key; done
sign wrong wrong.key ca.key ca.pem "/CN=wrong.example.org" "DNS:wrong.example.org"
sign untrusted untrusted.key other-ca.key other-ca.pem "/CN=mx.example.com" "DNS:mx.example.com"
sign wild wild.key ca.key ca.pem "/CN=*.wild.example.com" "DNS:*.wild.example.com"
sign sni sni.key ca.key ca.pem "/CN=alt.example.net" "DNS:alt.example.net"
sign client client.key ca.key ca.pem "/CN=client.example.com" "DNS:client.example.com"

# An expired certificate needs explicit dates: "openssl ca" takes them.
mkdir -p ca-db && : > ca-db/index.txt && echo 1000 > ca-db/serial
cat > ca.cnf <<EOT
[ca]
default_ca = test_ca
[test_ca]
database = $dir/ca-db/index.txt
serial = $dir/ca-db/serial
new_certs_dir = $dir/ca-db
certificate = $dir/ca.pem
private_key = $dir/ca.key
default_md = sha256
policy = any_name
unique_subject = no
copy_extensions = copy
[any_name]
commonName = supplied
EOT
openssl req -new -key expired.key -out expired.csr -subj "/CN=mx.example.com" \
    -addext "subjectAltName=DNS:mx.example.com"
openssl ca -config ca.cnf -batch -notext -startdate 20200101000000Z \
    -enddate 20200201000000Z -in expired.csr -out expired.crt
for name in wrong untrusted wild sni client expired; do bundle $name; done
for name in rsa ec client; do fingerprints $name; done
openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out dh.pem
