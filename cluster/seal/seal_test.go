package seal

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func ring(t testing.TB, primary string, ids ...string) *Keyring {
	t.Helper()
	set := KeySet{Primary: primary}
	for _, id := range ids {
		set.Keys = append(set.Keys, Key{ID: id, Secret: bytes.Repeat([]byte(id[:1]), MinSecretBytes)})
	}
	k, err := NewKeyring(set)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	old := ring(t, "k1", "k1")
	both := ring(t, "k1", "k1", "k2") // phase 1: k2 opens only
	rotated := ring(t, "k2", "k1", "k2")
	onlyNew := ring(t, "k2", "k2")
	tok1 := old.Seal("session", []byte("hello"))
	tok2 := rotated.Seal("session", []byte("world"))
	tests := []struct {
		name    string
		k       *Keyring
		purpose string
		token   string
		want    string
		err     error
	}{
		{"same ring", old, "session", tok1, "hello", nil},
		{"phase one ring opens old", both, "session", tok1, "hello", nil},
		{"rotated ring opens old", rotated, "session", tok1, "hello", nil},
		{"rotated ring opens new", rotated, "session", tok2, "world", nil},
		{"phase one ring opens new", both, "session", tok2, "world", nil},
		{"old key dropped", onlyNew, "session", tok1, "", ErrUnknownKey},
		{"old ring cannot open new", old, "session", tok2, "", ErrUnknownKey},
		{"other purpose", old, "other", tok1, "", ErrOpen},
		{"no dot", old, "session", "k1abc", "", ErrMalformed},
		{"bad key id", old, "session", "k 1.abc", "", ErrMalformed},
		{"short body", old, "session", "k1.AAAA", "", ErrMalformed},
		{"bad base64", old, "session", "k1.!!!!", "", ErrMalformed},
		{"too long", old, "session", "k1." + strings.Repeat("A", MaxTokenLen), "", ErrMalformed},
		{"tampered", old, "session", tamper(tok1), "", ErrOpen},
		{"key id swapped", both, "session", "k2" + tok1[2:], "", ErrOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.k.Open(tt.purpose, tt.token)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if string(got) != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
	if !strings.HasPrefix(tok2, "k2.") || !strings.HasPrefix(tok1, "k1.") {
		t.Fatalf("tokens do not carry their key id: %s %s", tok1, tok2)
	}
	for _, c := range tok1 {
		if c < 0x21 || c > 0x7e {
			t.Fatalf("token has a character that is not visible ASCII: %q", tok1)
		}
	}
	if old.Seal("session", []byte("hello")) == tok1 {
		t.Fatal("two seals of the same plaintext are equal: nonce reused")
	}
}

func tamper(tok string) string {
	i := strings.IndexByte(tok, '.')
	raw, _ := base64.RawURLEncoding.DecodeString(tok[i+1:])
	raw[len(raw)-1] ^= 1
	return tok[:i+1] + base64.RawURLEncoding.EncodeToString(raw)
}

func TestNewKeyringErrors(t *testing.T) {
	good := bytes.Repeat([]byte{7}, MinSecretBytes)
	tests := []struct {
		name string
		set  KeySet
	}{
		{"empty", KeySet{}},
		{"short secret", KeySet{Primary: "a", Keys: []Key{{ID: "a", Secret: good[:31]}}}},
		{"bad id", KeySet{Primary: "a.b", Keys: []Key{{ID: "a.b", Secret: good}}}},
		{"long id", KeySet{Primary: strings.Repeat("a", 17), Keys: []Key{{ID: strings.Repeat("a", 17), Secret: good}}}},
		{"duplicate", KeySet{Primary: "a", Keys: []Key{{ID: "a", Secret: good}, {ID: "a", Secret: good}}}},
		{"primary missing", KeySet{Primary: "b", Keys: []Key{{ID: "a", Secret: good}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewKeyring(tt.set); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestParseKeySet(t *testing.T) {
	set := KeySet{Primary: "b", Keys: []Key{GenerateKey("a"), GenerateKey("b")}}
	data, _ := json.Marshal(set)
	k, err := ParseKeySet(data)
	if err != nil {
		t.Fatal(err)
	}
	if k.Primary() != "b" || strings.Join(k.KeyIDs(), ",") != "a,b" {
		t.Fatalf("primary %s keys %v", k.Primary(), k.KeyIDs())
	}
	for _, bad := range []string{`{"primary":"b","keys":[],"x":1}`, `{"primary":"b"} {}`, `[]`, ``} {
		if _, err := ParseKeySet([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestSealerSwap(t *testing.T) {
	s := NewSealer(ring(t, "k1", "k1"))
	tok := s.Seal("p", []byte("x"))
	s.SetKeyring(ring(t, "k2", "k1", "k2"))
	if got, err := s.Open("p", tok); err != nil || string(got) != "x" {
		t.Fatalf("after swap: %q %v", got, err)
	}
	if !strings.HasPrefix(s.Seal("p", nil), "k2.") {
		t.Fatal("the new primary does not seal")
	}
}

// FuzzOpen feeds untrusted tokens (session id headers) to Open: it must
// never panic, and only the tokens it sealed open.
func FuzzOpen(f *testing.F) {
	k := ring(f, "k1", "k1", "k2")
	f.Add(k.Seal("session", []byte("state")))
	f.Add("k1.")
	f.Add("k2.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add(".")
	f.Add("k1.." + strings.Repeat("A", 100))
	f.Fuzz(func(t *testing.T, tok string) {
		pt, err := k.Open("session", tok)
		if err == nil && string(pt) != "state" {
			t.Fatalf("forged token opened: %q -> %q", tok, pt)
		}
	})
}

func BenchmarkSealOpen(b *testing.B) {
	k := ring(b, "k1", "k1")
	pt := bytes.Repeat([]byte("x"), 200)
	for b.Loop() {
		if _, err := k.Open("session", k.Seal("session", pt)); err != nil {
			b.Fatal(err)
		}
	}
}
