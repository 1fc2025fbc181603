package portability

import (
	"fmt"
	"net"
	"strings"

	"github.com/switchboard-mcp/switchboard/gateway/config"
)

// configFormat maps a Format to the gateway's.
func configFormat(f Format) config.Format {
	switch f {
	case JSON:
		return config.FormatJSON
	case YAML:
		return config.FormatYAML
	}
	return config.FormatAuto
}

// parseGateway loads a gateway file as the gateway does, without
// substituting references.
func parseGateway(data []byte, o *Options) (*config.Config, error) {
	f := o.Format
	if f == 0 {
		f = YAML
	}
	if f == TOML {
		return nil, fmt.Errorf("the gateway's configuration file is JSON or YAML, not TOML")
	}
	return config.Parse(data, configFormat(f), &config.LoadOptions{Raw: true, BaseDir: o.BaseDir})
}

// readGateway reads the gateway's file with the gateway's own loader.
func readGateway(c *Client, data []byte, o *Options) (*Set, []Note, error) {
	cfg, err := parseGateway(data, o)
	if err != nil {
		return nil, nil, err
	}
	var ns notes
	set := &Set{}
	canon := func(v string) string { return toCanonical(v, synGateway) }
	canonMap := func(m map[string]string) map[string]string {
		if len(m) == 0 {
			return nil
		}
		out := make(map[string]string, len(m))
		for k, v := range m {
			out[k] = canon(v)
		}
		return out
	}
	for _, name := range cfg.Names() {
		cs := cfg.Servers[name]
		s := &Server{Name: name, Transport: cs.Type, Command: canon(cs.Command), Cwd: canon(cs.Cwd),
			EnvFile: canon(cs.EnvFile), URL: canon(cs.URL), Disabled: cs.Disabled,
			Env: canonMap(cs.Env), Headers: canonMap(cs.Headers)}
		for _, a := range cs.Args {
			s.Args = append(s.Args, canon(a))
		}
		var only []string
		if cs.Prefix != nil {
			only = append(only, "prefix")
		}
		if cs.Session != "" && cs.Session != config.SessionShared {
			only = append(only, "session")
		}
		if cs.InheritEnv {
			only = append(only, "inheritEnv")
		}
		for k, d := range map[string]config.Duration{"timeout": cs.Timeout, "connectTimeout": cs.ConnectTimeout, "pingInterval": cs.PingInterval} {
			if d != 0 {
				only = append(only, k)
			}
		}
		if len(only) > 0 {
			ns.info(name, "", "gateway settings (%s) are not carried to clients", strings.Join(sortedKeys(setOf(only)), ", "))
		}
		set.Servers = append(set.Servers, s)
	}
	for _, in := range cfg.Inputs {
		set.Inputs = append(set.Inputs, Input(in))
	}
	return set, ns, nil
}

func setOf(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// checkGateway validates an edited gateway file with the gateway's loader.
func checkGateway(data []byte, o *Options) error {
	if _, err := parseGateway(data, o); err != nil {
		return fmt.Errorf("the edited gateway file does not load: %w", err)
	}
	return nil
}

// GatewayURL returns the URL of the Streamable HTTP endpoint of a gateway
// whose file is data (nil for the default settings): http://ADDR/mcp,
// with a wildcard listening address replaced by the loopback one.
func GatewayURL(data []byte, o *Options) (string, error) {
	addr := config.DefaultAddr
	if len(data) > 0 {
		cfg, err := parseGateway(data, o.orZero())
		if err != nil {
			return "", err
		}
		addr = cfg.Gateway.Addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("gateway.addr %q: %v", addr, err)
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/mcp", nil
}

// ConnectEntry is the entry that points a client at the gateway: URL for
// clients that take URLs (unless stdio is set), else a command running
// the gateway over stdio: command serve --stdio --config configPath.
func ConnectEntry(name string, c *Client, url string, stdio bool, command, configPath string) *Server {
	if c.Remote && !stdio {
		return &Server{Name: name, Transport: HTTP, URL: url}
	}
	args := []string{"serve", "--stdio"}
	if configPath != "" {
		args = append(args, "--config", configPath)
	}
	return &Server{Name: name, Transport: Stdio, Command: command, Args: args}
}
