// x509judge: an independent judge of certificates, Go's crypto/x509.
//
// Each certificate file (PEM, exactly one CERTIFICATE block and nothing else)
// is parsed with x509.ParseCertificate, Go's strict DER parser: any parse
// error fails the file. With roots, the certificate is also verified with
// (*x509.Certificate).Verify against them (and the given intermediates),
// ExtKeyUsageAny, at the current time: Go then checks signatures, validity,
// basic constraints, path lengths and name constraints.
//
// Usage:
//
//	x509judge [-json] [-roots FILE] [-intermediates FILE] CERT...
//	x509judge [-json] -jobs FILE
//
// -roots and -intermediates may be repeated; each file may hold several PEM
// certificates. A jobs file has one job per line, tab-separated:
//
//	NAME <TAB> CERT <TAB> ROOTS <TAB> INTERMEDIATES
//
// with ROOTS and INTERMEDIATES comma-separated lists of files (either may be
// empty: no roots means parse only).
//
// Output: one line per certificate, in input order. Text (default):
//
//	NAME <TAB> ok
//	NAME <TAB> parse: <error>
//	NAME <TAB> verify: <error>
//
// (parse only: "ok" means it parsed). With -json, one JSON object a line:
// {"name":..., "file":..., "parse":"ok"|error, "verify":"ok"|"skipped"|error}.
// Exit status: 0 when every certificate passed, 1 when one failed, 2 on a
// usage error or an unreadable roots/intermediates/jobs file.
package main

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

type fileList []string

func (f *fileList) String() string     { return strings.Join(*f, ",") }
func (f *fileList) Set(v string) error { *f = append(*f, v); return nil }

type job struct {
	name          string
	file          string
	roots         []string
	intermediates []string
}

type verdict struct {
	Name   string `json:"name"`
	File   string `json:"file"`
	Parse  string `json:"parse"`
	Verify string `json:"verify"`
}

// readCerts parses every CERTIFICATE block of a PEM file; anything else in the
// file (other block types, text between blocks, trailing bytes) is an error.
func readCerts(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	rest := data
	for {
		if len(bytes.TrimSpace(rest)) == 0 {
			break
		}
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("not PEM, or bytes outside the PEM blocks")
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %q is not a CERTIFICATE", block.Type)
		}
		if len(block.Headers) != 0 {
			return nil, errors.New("PEM block has headers")
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, errors.New("no certificate in the file")
	}
	return certs, nil
}

func pool(paths []string) (*x509.CertPool, error) {
	p := x509.NewCertPool()
	for _, path := range paths {
		certs, err := readCerts(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		for _, c := range certs {
			p.AddCert(c)
		}
	}
	return p, nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func judge(j job, now time.Time) (verdict, error) {
	v := verdict{Name: j.name, File: j.file, Parse: "ok", Verify: "skipped"}
	certs, err := readCerts(j.file)
	if err != nil {
		v.Parse = oneLine(err.Error())
		return v, nil
	}
	if len(certs) != 1 {
		v.Parse = fmt.Sprintf("%d certificates in the file, want 1", len(certs))
		return v, nil
	}
	if len(j.roots) == 0 {
		return v, nil
	}
	roots, err := pool(j.roots)
	if err != nil {
		return v, err
	}
	inters, err := pool(j.intermediates)
	if err != nil {
		return v, err
	}
	_, err = certs[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inters,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		v.Verify = oneLine(err.Error())
	} else {
		v.Verify = "ok"
	}
	return v, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func readJobs(path string) ([]job, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var jobs []job
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) < 2 || len(fields) > 4 {
			return nil, fmt.Errorf("%s line %d: want NAME, CERT, ROOTS, INTERMEDIATES", path, n)
		}
		for len(fields) < 4 {
			fields = append(fields, "")
		}
		jobs = append(jobs, job{fields[0], fields[1], splitList(fields[2]), splitList(fields[3])})
	}
	return jobs, sc.Err()
}

func main() {
	var roots, inters fileList
	jsonOut := flag.Bool("json", false, "one JSON object per line instead of text")
	jobsFile := flag.String("jobs", "", "a file of jobs: NAME, CERT, ROOTS, INTERMEDIATES, tab-separated")
	flag.Var(&roots, "roots", "PEM file of trusted roots (repeatable)")
	flag.Var(&inters, "intermediates", "PEM file of intermediates (repeatable)")
	flag.Parse()

	var jobs []job
	if *jobsFile != "" {
		if flag.NArg() > 0 || len(roots) > 0 || len(inters) > 0 {
			fmt.Fprintln(os.Stderr, "x509judge: -jobs takes no other arguments")
			os.Exit(2)
		}
		var err error
		if jobs, err = readJobs(*jobsFile); err != nil {
			fmt.Fprintln(os.Stderr, "x509judge:", err)
			os.Exit(2)
		}
	} else {
		if flag.NArg() == 0 {
			fmt.Fprintln(os.Stderr, "usage: x509judge [-json] [-roots FILE] [-intermediates FILE] CERT... | -jobs FILE")
			os.Exit(2)
		}
		for _, f := range flag.Args() {
			jobs = append(jobs, job{f, f, roots, inters})
		}
	}

	now := time.Now()
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	failed := false
	for _, j := range jobs {
		v, err := judge(j, now)
		if err != nil {
			out.Flush()
			fmt.Fprintln(os.Stderr, "x509judge:", j.name+":", err)
			os.Exit(2)
		}
		if *jsonOut {
			enc.Encode(v)
		} else {
			switch {
			case v.Parse != "ok":
				fmt.Fprintf(out, "%s\tparse: %s\n", v.Name, v.Parse)
			case v.Verify != "ok" && v.Verify != "skipped":
				fmt.Fprintf(out, "%s\tverify: %s\n", v.Name, v.Verify)
			default:
				fmt.Fprintf(out, "%s\tok\n", v.Name)
			}
		}
		if v.Parse != "ok" || (v.Verify != "ok" && v.Verify != "skipped") {
			failed = true
		}
	}
	out.Flush()
	if failed {
		os.Exit(1)
	}
}
