package sse_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/switchboard-mcp/switchboard/internal/sse"
)

func ExampleWriter() {
	handler := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", sse.ContentType)
		w := sse.NewWriter(rw)
		// Prime the client with an event ID it can resume from.
		w.Write(sse.Event{ID: "s1/0", HasData: true})
		w.Write(sse.Event{ID: "s1/1", Data: []byte(`{"jsonrpc":"2.0","method":"notifications/progress"}`)})
		w.Comment("ping")
		// Ask the client to reconnect after a second.
		w.Write(sse.Event{Retry: time.Second})
	})
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest("GET", "/mcp", nil))
	fmt.Print(rec.Body.String())
	// Output:
	// id: s1/0
	// data:
	//
	// id: s1/1
	// data: {"jsonrpc":"2.0","method":"notifications/progress"}
	//
	// : ping
	//
	// retry: 1000
	//
}

func ExampleReader() {
	stream := "id: s1/0\ndata: \n\n" +
		": ping\r\n\r\n" +
		"event: message\r\ndata: {\"jsonrpc\":\"2.0\",\r\ndata: \"method\":\"x\"}\r\n\r\n" +
		"retry: 1000\n\n" +
		"data: cut short"
	r := sse.NewReader(strings.NewReader(stream), 1<<20)
	for {
		ev, err := r.Next()
		if err != nil {
			fmt.Println(err == io.ErrUnexpectedEOF, "last event ID:", r.LastEventID())
			return
		}
		if ev.HasData {
			fmt.Printf("message %q\n", ev.Data)
		}
		if ev.HasRetry {
			fmt.Println("reconnect after", ev.Retry)
		}
	}
	// Output:
	// message ""
	// message "{\"jsonrpc\":\"2.0\",\n\"method\":\"x\"}"
	// reconnect after 1s
	// true last event ID: s1/0
}
