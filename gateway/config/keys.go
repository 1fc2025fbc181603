package config

import (
	"slices"
	"strings"
)

// The keys of each object in a configuration file. The JSON Schema
// (schema.json) lists the same keys; a test keeps them in step.

// topKeys are the top-level keys the gateway reads.
var topKeys = []string{"$schema", "gateway", "mcpServers", "servers", "inputs", "policy", "limits", "tenants", "virtualServers", "identity", "audit", "telemetry", "costs", "registry"}

// reservedTopKeys are top-level sections of later versions of Switchboard.
// Today they are an error rather than silently ignored: a policy or limit
// the gateway does not apply must not look applied. None is reserved
// today; the mechanism stays for the next section.
var reservedTopKeys []string

// ignoredTopKeys are top-level keys other clients keep in the same file
// (Claude Desktop's claude_desktop_config.json holds its app settings
// beside mcpServers); they are accepted and ignored.
var ignoredTopKeys = []string{
	"awaitingSignIn",
	"claudeAiUrl",
	"coworkUserFilesPath",
	"coworkUserFilesPathUncRedirectedFrom",
	"deploymentMode",
	"dxtMaxTotalSizeMB",
	"features",
	"globalShortcut",
	"isCoworkSdkDebuggingEnabled",
	"isDxtAutoUpdatesEnabled",
	"isHardwareAccelerationAutoDisableNoticePending",
	"isHardwareAccelerationAutoDisabled",
	"isHardwareAccelerationDisabled",
	"isUsingBuiltInNodeForMcp",
	"lastRemoteBootstrapHost",
	"lastRemoteBootstrapPartial",
	"lastRemoteDisableEssentialTelemetry",
	"lastRemoteDisableEssentialTelemetryHost",
	"managedConfig",
	"preferences",
}

// gatewayKeys are the keys of the "gateway" object.
var gatewayKeys = []string{"name", "addr", "dataDir", "prefix", "separator", "callTimeout", "connectTimeout", "pingInterval"}

// serverKeys are the keys of a server entry that the gateway reads.
var serverKeys = []string{
	"type", "transportType",
	"command", "args", "env", "envFile", "cwd", "inheritEnv",
	"url", "serverUrl", "httpUrl", "uri", "headers",
	"disabled", "enabled",
	"prefix", "session", "maxSessions",
	"timeout", "connectTimeout", "pingInterval",
	"auth",
}

// ignoredServerKeys are keys clients put in server entries that mean
// nothing to a gateway; they are accepted and ignored. The value says
// whose key it is.
var ignoredServerKeys = map[string]string{
	"alwaysAllow": "Cline, Roo Code: tools run without asking",
	"autoApprove": "Cline: tools run without asking",
	"description": "VS Code, Gemini CLI, Goose: a description for people",
	"dev":         "VS Code: development mode (watch and debug)",
	"extensionId": "Claude Desktop: the extension that installed the server",
	"gallery":     "VS Code: the gallery the server came from",
	"trust":       "Gemini CLI: tools run without asking",
	"version":     "VS Code: the server's version",
}

// unsupportedServerKeys are keys clients use whose meaning the gateway
// does not implement yet; ignoring them would silently change what the
// server exposes or how it is reached, so they are errors.
var unsupportedServerKeys = map[string]string{
	"disabledTools": "a tool filter",
	"excludeTools":  "a tool filter",
	"includeTools":  "a tool filter",
	"oauth":         "OAuth settings for the upstream",
}

// keyHints are keys other tools use for the gateway's keys, for "did you
// mean" suggestions that spelling alone would not find.
var keyHints = map[string]string{
	"arguments":         "args",
	"cmd":               "command", // Goose
	"endpoint":          "url",
	"environment":       "env",
	"envs":              "env",     // Goose
	"http_headers":      "headers", // Codex
	"working_directory": "cwd",
	"workingDirectory":  "cwd",
	"mcp_servers":       "mcpServers", // Codex
	"context_servers":   "mcpServers", // Zed
}

// isKnownServerKey reports whether key may appear in a server entry
// without an error.
func isKnownServerKey(key string) bool {
	_, ignored := ignoredServerKeys[key]
	return ignored || slices.Contains(serverKeys, key)
}

// suggest returns the known key closest to an unknown one, or "".
func suggest(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if strings.EqualFold(k, key) {
			return k
		}
		limit := min(2, max(1, len(k)/3))
		if d := editDistance(strings.ToLower(key), strings.ToLower(k)); d <= limit && d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b (in bytes:
// keys are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
