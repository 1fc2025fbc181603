package audit_test

import (
	"bytes"
	"crypto/ed25519"
	"testing"

	"github.com/switchboard-mcp/switchboard/audit"
)

// The export reader and verifier take untrusted files: no input makes
// them panic, and a parsed record re-encodes to the body it hashes.
func FuzzVerifyExport(f *testing.F) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	r := &audit.Record{Stream: "s", Seq: 1, Kind: "request", Method: "tools/call", Name: "x", Outcome: "ok", Arguments: []byte(`{"a":"string"}`)}
	r.Seal()
	line, _ := r.Body()
	cp := &audit.Checkpoint{Stream: "s", Seq: 1, Hash: r.Hash}
	cp.Sign(priv)
	f.Add([]byte(`{"stream":"s","seq":1,"time":"2026-12-07T10:00:00Z","kind":"request","prev":"","hash":"00"}` + "\n"))
	f.Add(append(line, '\n'))
	f.Add([]byte(`{"kind":"checkpoint","stream":"s","seq":1,"hash":"ab","time":"2026-12-07T10:00:00Z","keyId":"x","signature":"!!"}`))
	f.Add([]byte("\n\n{}\n[1,2]\nnull\n"))
	f.Add([]byte(`{"kind":"request","stream":"s","seq":2,"prev":"x","arguments":{"a":[1,{"b":null}]},"detail":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := audit.VerifyExport(bytes.NewReader(data), pub)
		if err == nil && rep == nil {
			t.Fatal("no report and no error")
		}
		if rec, err := audit.ParseRecord(data); err == nil {
			b1, err := rec.Body()
			if err != nil {
				return
			}
			rec2, err := audit.ParseRecord(b1)
			if err != nil {
				t.Fatalf("a record's body does not parse: %v\n%s", err, b1)
			}
			if b2, _ := rec2.Body(); !bytes.Equal(b1, b2) {
				t.Fatalf("the body is not stable:\n%s\n%s", b1, b2)
			}
		}
	})
}

// Captured shapes and values are valid JSON whatever the input.
func FuzzCaptureJSON(f *testing.F) {
	red, _ := audit.NewRedactor(nil, []string{`\d{3}`}, 32)
	f.Add([]byte(`{"a":1,"password":"x","c":[1,"2",{"d":null}]}`))
	f.Add([]byte(`"str"`))
	f.Add([]byte(`{"a":`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, m := range []audit.Capture{audit.CaptureShape, audit.CaptureValues} {
			out := audit.CaptureJSON(data, m, red)
			if len(out) > 0 && !jsonValid(out) {
				t.Fatalf("%s of %q is not JSON: %s", m, data, out)
			}
		}
	})
}
