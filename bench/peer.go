// bench/peer.go: the second peer of the benchmark (issue 12): Go's
// crypto/x509 (standard library only; Go 1.19 from Debian's golang-go) doing
// what bench/run.janet asks of jsec/ca, with the same inputs and outputs as
// bench/peer.py. scripts/bench builds it (GOCACHE under build/).
//
//	peer-go [--rounds N] [--csr PATH] [op[=I[xR]] ...]
//
// Operations (default: all):
//
//	issue-ec-p256, issue-ec-p384, issue-ec-p521, issue-rsa-2048,
//	issue-rsa-3072, issue-ed25519
//	    what (:issue ca {...}) does: a new key of that type, a certificate
//	    for it signed by a P-256 CA (ECDSA-SHA256): subject CN=bench.example,
//	    SAN DNS:bench.example, basicConstraints CA:FALSE critical, keyUsage
//	    critical digitalSignature (plus keyEncipherment for RSA, as jsec/ca
//	    does), EKU serverAuth, SKI, AKI, 365 days; returns the certificate PEM
//	    and the key as unencrypted PKCS#8 PEM.
//	sign-csr
//	    what (:sign-csr ca csr-pem) does: parse the PEM CSR, check its
//	    signature, certify its subject and key (CA:FALSE, keyUsage
//	    digitalSignature, SKI, AKI, 365 days); returns the certificate PEM.
//	crl-N
//	    what (:generate-crl ca) does for a CA holding N revoked serials
//	    (1..N, one revocation time, no reason): a CRL (this/next update,
//	    CRL number, AKI) signed by the P-256 CA, as PEM. The entries are
//	    built once, outside the timing, as the CA holds them.
//
// OCSP is not here: Go's OCSP package (golang.org/x/crypto/ocsp) is not in
// the standard library.
//
// `op=I` runs I iterations per round, `op=IxR` also sets the rounds of that
// operation. Prints `peer <name> <seconds-per-op>`, the median over the
// rounds (after one warm-up call), and `peer-p25` / `peer-p75` lines with the
// quartiles of the rounds.
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

var defaultOps = []struct {
	name  string
	iters int
}{
	{"issue-ec-p256", 200}, {"issue-ec-p384", 60}, {"issue-ec-p521", 40},
	{"issue-rsa-2048", 1}, {"issue-rsa-3072", 1}, {"issue-ed25519", 200},
	{"sign-csr", 200}, {"crl-100000", 1},
}

type ca struct {
	key    *ecdsa.PrivateKey
	cert   *x509.Certificate
	serial int64
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "peer.go:", err)
		os.Exit(1)
	}
}

// A P-256 root, as (ca/generate {:common-name "Bench CA"}) makes it.
func newCA() *ca {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	check(err)
	now := time.Now()
	name := pkix.Name{CommonName: "Bench CA"}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               name,
		NotBefore:             now,
		NotAfter:              now.AddDate(10, 0, 0),
		BasicConstraintsValid: true,
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		SubjectKeyId:          keyID(&key.PublicKey),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	check(err)
	cert, err := x509.ParseCertificate(der)
	check(err)
	return &ca{key: key, cert: cert, serial: 1}
}

// keyID is the RFC 5280 method 1 key identifier: SHA-1 of the subjectPublicKey bits.
func keyID(pub crypto.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	check(err)
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	_, err = asn1.Unmarshal(der, &spki)
	check(err)
	sum := sha1.Sum(spki.PublicKey.Bytes)
	return sum[:]
}

func (c *ca) endEntity(subject pkix.Name, pub crypto.PublicKey, rsaKey bool, san []string, eku []x509.ExtKeyUsage) []byte {
	now := time.Now()
	c.serial++
	ku := x509.KeyUsageDigitalSignature
	if rsaKey {
		ku |= x509.KeyUsageKeyEncipherment
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(c.serial),
		Subject:               subject,
		NotBefore:             now,
		NotAfter:              now.AddDate(0, 0, 365),
		BasicConstraintsValid: true,
		IsCA:                  false,
		KeyUsage:              ku,
		ExtKeyUsage:           eku,
		DNSNames:              san,
		SubjectKeyId:          keyID(pub),
	}
	// AuthorityKeyId comes from the parent's SubjectKeyId.
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, pub, c.key)
	check(err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

type keygen func() (crypto.PublicKey, crypto.PrivateKey)

var keygens = map[string]keygen{
	"issue-ec-p256":  ecKeygen(elliptic.P256()),
	"issue-ec-p384":  ecKeygen(elliptic.P384()),
	"issue-ec-p521":  ecKeygen(elliptic.P521()),
	"issue-rsa-2048": rsaKeygen(2048),
	"issue-rsa-3072": rsaKeygen(3072),
	"issue-ed25519": func() (crypto.PublicKey, crypto.PrivateKey) {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		check(err)
		return pub, priv
	},
}

func ecKeygen(curve elliptic.Curve) keygen {
	return func() (crypto.PublicKey, crypto.PrivateKey) {
		k, err := ecdsa.GenerateKey(curve, rand.Reader)
		check(err)
		return &k.PublicKey, k
	}
}

func rsaKeygen(bits int) keygen {
	return func() (crypto.PublicKey, crypto.PrivateKey) {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		check(err)
		return &k.PublicKey, k
	}
}

func (c *ca) issue(gen keygen, rsaKey bool) ([]byte, []byte) {
	pub, priv := gen()
	cert := c.endEntity(pkix.Name{CommonName: "bench.example"}, pub, rsaKey,
		[]string{"bench.example"}, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth})
	p8, err := x509.MarshalPKCS8PrivateKey(priv)
	check(err)
	return cert, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})
}

func (c *ca) signCSR(csrPEM []byte) []byte {
	block, _ := pem.Decode(csrPEM)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		check(fmt.Errorf("not a PEM certificate request"))
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	check(err)
	check(csr.CheckSignature())
	return c.endEntity(csr.Subject, csr.PublicKey, false, nil, nil)
}

func (c *ca) crl(entries []pkix.RevokedCertificate, number int64) []byte {
	now := time.Now()
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:              big.NewInt(number),
		ThisUpdate:          now,
		NextUpdate:          now.AddDate(0, 0, 30),
		RevokedCertificates: entries,
	}, c.cert, c.key)
	check(err)
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

var sink int

// measure returns the median, p25 and p75 of the seconds per call over the rounds.
func measure(rounds, iters int, f func() int) [3]float64 {
	sink += f() // warm-up
	perRound := make([]float64, rounds)
	for r := range perRound {
		t := time.Now()
		for i := 0; i < iters; i++ {
			sink += f()
		}
		perRound[r] = time.Since(t).Seconds() / float64(iters)
	}
	sort.Float64s(perRound)
	return [3]float64{quartile(perRound, 0.5), quartile(perRound, 0.25), quartile(perRound, 0.75)}
}

// quartile q of sorted xs, linearly interpolated (as bench_floor.rs; q = 0.5 is the median).
func quartile(xs []float64, q float64) float64 {
	x := q * float64(len(xs)-1)
	lo := int(x)
	hi := lo + 1
	if hi >= len(xs) {
		hi = len(xs) - 1
	}
	return xs[lo] + (xs[hi]-xs[lo])*(x-float64(lo))
}

func main() {
	rounds, csrPath := 5, ""
	type op struct {
		name          string
		iters, rounds int
	}
	var ops []op
	args := os.Args[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--rounds" && i+1 < len(args):
			i++
			n, err := strconv.Atoi(args[i])
			check(err)
			rounds = n
		case a == "--csr" && i+1 < len(args):
			i++
			csrPath = args[i]
		case strings.HasPrefix(a, "-"):
			fmt.Fprintln(os.Stderr, "usage: peer-go [--rounds N] [--csr PATH] [op[=I[xR]] ...]")
			os.Exit(2)
		default:
			name, spec, _ := strings.Cut(a, "=")
			o := op{name: name, iters: 1}
			for _, d := range defaultOps {
				if d.name == name {
					o.iters = d.iters
				}
			}
			if spec != "" {
				is, rs, _ := strings.Cut(spec, "x")
				n, err := strconv.Atoi(is)
				check(err)
				o.iters = n
				if rs != "" {
					n, err := strconv.Atoi(rs)
					check(err)
					o.rounds = n
				}
			}
			ops = append(ops, o)
		}
	}
	if len(ops) == 0 {
		for _, d := range defaultOps {
			ops = append(ops, op{name: d.name, iters: d.iters})
		}
	}

	c := newCA()
	var csr []byte
	if csrPath != "" {
		b, err := os.ReadFile(csrPath)
		check(err)
		csr = b
	}
	for _, o := range ops {
		r := o.rounds
		if r <= 0 {
			r = rounds
		}
		iters := o.iters
		if iters < 1 {
			iters = 1
		}
		var secs [3]float64
		switch {
		case keygens[o.name] != nil:
			gen, rsaKey := keygens[o.name], strings.HasPrefix(o.name, "issue-rsa")
			secs = measure(r, iters, func() int { cert, key := c.issue(gen, rsaKey); return len(cert) + len(key) })
		case o.name == "sign-csr":
			if csr == nil {
				check(fmt.Errorf("sign-csr needs --csr PATH"))
			}
			secs = measure(r, iters, func() int { return len(c.signCSR(csr)) })
		case strings.HasPrefix(o.name, "crl-"):
			n, err := strconv.Atoi(o.name[4:])
			check(err)
			when := time.Now()
			entries := make([]pkix.RevokedCertificate, n)
			for i := range entries {
				entries[i] = pkix.RevokedCertificate{SerialNumber: big.NewInt(int64(i + 1)), RevocationTime: when}
			}
			number := int64(0)
			secs = measure(r, iters, func() int { number++; return len(c.crl(entries, number)) })
		default:
			fmt.Fprintf(os.Stderr, "peer.go: unknown operation %q\n", o.name)
			os.Exit(2)
		}
		fmt.Printf("peer %s %.9f\npeer-p25 %s %.9f\npeer-p75 %s %.9f\n", o.name, secs[0], o.name, secs[1], o.name, secs[2])
	}
}
