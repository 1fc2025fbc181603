package main

import (
	"fmt"
	"slices"
	"strings"
)

// scenarioInfo is one entry of `conformance list`.
type scenarioInfo struct {
	Name         string   `json:"name"`
	SpecVersions []string `json:"specVersions,omitzero"`
}

// parseList parses the output of `conformance list`, returning the scenarios
// of the section for kind ("server" or "client"). The section starts with a
// line "Server scenarios ..." or "Client scenarios ..." followed by lines
// "  - name [v1,v2]" (the bracketed spec versions are optional) and ends at a
// blank line or the end of the output.
func parseList(out, kind string) ([]scenarioInfo, error) {
	header := strings.ToUpper(kind[:1]) + kind[1:] + " scenarios"
	var (
		list    []scenarioInfo
		in      bool
		matched bool
	)
	for _, line := range strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, header):
			in, matched = true, true
		case !in:
		case trimmed == "":
			in = false
		case strings.HasPrefix(trimmed, "- "):
			entry := strings.TrimSpace(strings.TrimPrefix(trimmed, "- "))
			name, versions, hasVersions := strings.Cut(entry, " ")
			info := scenarioInfo{Name: name}
			if hasVersions {
				versions = strings.TrimSpace(versions)
				if !strings.HasPrefix(versions, "[") || !strings.HasSuffix(versions, "]") {
					return nil, fmt.Errorf("unexpected scenario line %q", line)
				}
				for _, v := range strings.Split(versions[1:len(versions)-1], ",") {
					if v = strings.TrimSpace(v); v != "" {
						info.SpecVersions = append(info.SpecVersions, v)
					}
				}
			}
			if slices.ContainsFunc(list, func(s scenarioInfo) bool { return s.Name == name }) {
				return nil, fmt.Errorf("scenario %q listed twice", name)
			}
			list = append(list, info)
		default:
			// Another section's header ends this one.
			in = false
		}
	}
	if !matched {
		return nil, fmt.Errorf("no %q section in the output", header)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("the %q section lists no scenarios", header)
	}
	return list, nil
}

// authPrefix starts the names of the client authorization scenarios.
const authPrefix = "auth/"

// selection says which scenarios of a catalog to run.
type selection struct {
	names    []string // exact scenario names
	prefixes []string // name prefixes
	auth     bool     // client mode: add every auth/* scenario
}

// selectScenarios returns the catalog entries chosen by sel, in catalog
// order. With no names and no prefixes, server mode takes the whole catalog
// and client mode every scenario outside auth/ (plus auth/* when sel.auth).
// Unknown names and prefixes matching nothing are errors.
func selectScenarios(catalog []scenarioInfo, sel selection, mode string) ([]scenarioInfo, error) {
	want := make(map[string]bool)
	for _, n := range sel.names {
		if !slices.ContainsFunc(catalog, func(s scenarioInfo) bool { return s.Name == n }) {
			return nil, fmt.Errorf("unknown %s scenario %q (see `conformance list --%s`)", mode, n, mode)
		}
		want[n] = true
	}
	for _, p := range sel.prefixes {
		found := false
		for _, s := range catalog {
			if strings.HasPrefix(s.Name, p) {
				want[s.Name], found = true, true
			}
		}
		if !found {
			return nil, fmt.Errorf("no %s scenario starts with %q", mode, p)
		}
	}
	explicit := len(sel.names) > 0 || len(sel.prefixes) > 0
	for _, s := range catalog {
		isAuth := strings.HasPrefix(s.Name, authPrefix)
		switch {
		case mode == "client" && sel.auth && isAuth:
			want[s.Name] = true
		case !explicit && (mode == "server" || !isAuth):
			want[s.Name] = true
		}
	}
	var out []scenarioInfo
	for _, s := range catalog {
		if want[s.Name] {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no %s scenarios selected", mode)
	}
	return out, nil
}

// Scenario counts of the pinned suite (@modelcontextprotocol/conformance
// 0.1.16), the default for --expect when no scenarios are named.
const (
	pinnedServerScenarios     = 32
	pinnedClientCoreScenarios = 4  // the client scenarios outside auth/
	pinnedClientAuthScenarios = 22 // auth/*
)

// defaultExpect is the number of scenarios a run is expected to execute when
// --expect is not given: the pinned suite's count for a default selection,
// else the number selected.
func defaultExpect(sel selection, mode string, selected int) int {
	if len(sel.names) > 0 || len(sel.prefixes) > 0 {
		return selected
	}
	if mode == "server" {
		return pinnedServerScenarios
	}
	if sel.auth {
		return pinnedClientCoreScenarios + pinnedClientAuthScenarios
	}
	return pinnedClientCoreScenarios
}

// splitList splits comma-separated flag values, dropping empty items.
func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}
