package mcp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// CallToolAsTask works in both revisions: in 2025-11-25 with
// task-augmented requests, in 2026-07-28 through the tasks extension.
func TestCallToolAsTaskBothRevisions(t *testing.T) {
	s := c26NewHTTP(t, nil, nil)
	for _, tc := range []struct {
		name string
		opts *mcp.ClientOptions
	}{
		{"2025-11-25", &mcp.ClientOptions{}},
		{"2026-07-28", &mcp.ClientOptions{ProtocolVersion: v26, TasksExtension: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := c26Client(t, streamable.NewDialer(s.ts.URL, nil), tc.opts)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var states []protocol.TaskStatus
			res, err := cs.CallToolAsTask(ctx, &protocol.CallToolRequestParams{Name: "count_slowly", Arguments: []byte(`{"to":2}`)}, 0,
				func(task *protocol.Task) { states = append(states, task.Status) })
			if err != nil {
				t.Fatal(err)
			}
			if res.IsError || len(res.Content) == 0 || !strings.Contains(res.Content[0].(*protocol.TextContent).Text, "counted to 2") {
				t.Errorf("result %+v", res)
			}
			if len(states) == 0 || states[len(states)-1] != protocol.TaskStatusCompleted {
				t.Errorf("states %v, want them to end with completed", states)
			}
		})
	}
	// Without the extension a 2026-07-28 client cannot ask for a task.
	cs := c26Client(t, streamable.NewDialer(s.ts.URL, nil), &mcp.ClientOptions{ProtocolVersion: v26})
	_, err := cs.CallToolAsTask(context.Background(), &protocol.CallToolRequestParams{Name: "count_slowly", Arguments: []byte(`{"to":1}`)}, 0, nil)
	if err == nil || !strings.Contains(err.Error(), "TasksExtension") {
		t.Errorf("2026-07-28 without the tasks extension: %v", err)
	}
}

type failDialer struct{ dialed bool }

func (d *failDialer) Dial(context.Context) (transport.ClientConn, error) {
	d.dialed = true
	return nil, context.Canceled
}

// A protocol revision the client does not know is refused before dialing.
func TestConnectRefusesUnknownProtocolVersion(t *testing.T) {
	d := &failDialer{}
	_, err := mcp.NewClient(protocol.Implementation{Name: "c", Version: "1"}, &mcp.ClientOptions{ProtocolVersion: "banana"}).Connect(context.Background(), d)
	if err == nil || !strings.Contains(err.Error(), `"banana"`) || !strings.Contains(err.Error(), protocol.Version20251125) || d.dialed {
		t.Errorf("Connect with revision banana: %v (dialed: %v)", err, d.dialed)
	}
}
