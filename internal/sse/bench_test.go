package sse

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// benchPayload returns a JSON-RPC notification of about n bytes on one
// line, the usual shape of an MCP message.
func benchPayload(n int) []byte {
	const head = `{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"`
	const tail = `"}}`
	return []byte(head + strings.Repeat("x", max(n-len(head)-len(tail), 0)) + tail)
}

func BenchmarkAppendEvent(b *testing.B) {
	cases := []struct {
		name string
		ev   Event
	}{
		{"priming", Event{ID: "0", HasData: true, Retry: time.Second}},
		{"json-256B", Event{ID: "stream-1/42", Data: benchPayload(256)}},
		{"json-4KiB", Event{ID: "stream-1/42", Data: benchPayload(4 << 10)}},
		{"json-64KiB", Event{ID: "stream-1/42", Data: benchPayload(64 << 10)}},
		{"multiline-4KiB", Event{Data: bytes.Repeat([]byte("0123456789abcde\n"), 256)}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			buf, err := AppendEvent(nil, c.ev)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = AppendEvent(buf[:0], c.ev)
			}
		})
	}
}

func BenchmarkWriter(b *testing.B) {
	ev := Event{ID: "stream-1/42", Data: benchPayload(1 << 10)}
	w := NewWriter(discard{})
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Write(ev); err != nil {
			b.Fatal(err)
		}
	}
}

// repeatReader serves a stream over and over.
type repeatReader struct {
	data []byte
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := copy(p, r.data[r.off:])
	r.off = (r.off + n) % len(r.data)
	return n, nil
}

func BenchmarkReader(b *testing.B) {
	for _, size := range []int{256, 4 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("json-%dB", size), func(b *testing.B) {
			// A run of events with changing ids and a keep-alive comment,
			// as a Streamable HTTP server sends them.
			var stream []byte
			for i := range 16 {
				stream, _ = AppendEvent(stream, Event{ID: fmt.Sprintf("s/%d", i), Data: benchPayload(size)})
				if i%4 == 0 {
					stream = AppendComment(stream, "ping")
				}
			}
			r := NewReader(&repeatReader{data: stream}, 0)
			b.SetBytes(int64(len(stream) / 16))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Next(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("crlf-multiline", func(b *testing.B) {
		stream := []byte("data: " + strings.Repeat("0123456789abcdef\r\ndata: ", 255) + "0123456789abcdef\r\n\r\n")
		r := NewReader(&repeatReader{data: stream}, 0)
		b.SetBytes(int64(len(stream)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.Next(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
