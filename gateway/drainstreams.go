package gateway

// DrainStreams hands the open SSE streams of the Streamable HTTP endpoints
// (/mcp and every virtual server's) off before a shutdown: see
// streamable.Handler.Drain. With a shared event store their clients
// resume on other instances; requests in flight go on.
func (g *Gateway) DrainStreams() {
	g.MCPHandler().Drain()
	for _, vs := range g.virtualList() {
		vs.httpOnce.Do(func() {}) // synchronizes with its making; none made after a drain
		if vs.stream != nil {
			vs.stream.Drain()
		}
	}
}
