package protocol

import (
	"log/slog"
	"slices"
	"testing"
)

func TestNegotiateVersion(t *testing.T) {
	tests := map[string]string{
		Version20251125: Version20251125,
		Version20250618: Version20250618,
		Version20250326: Version20250326,
		Version20241105: Version20241105,
		Version20260728: LatestVersion, // declared, not served
		"2024-10-07":    LatestVersion,
		"2099-01-01":    LatestVersion,
		"":              LatestVersion,
	}
	for req, want := range tests {
		if got := NegotiateVersion(req); got != want {
			t.Errorf("NegotiateVersion(%q) = %q, want %q", req, got, want)
		}
	}
	if SupportedVersions[0] != LatestVersion || !slices.IsSortedFunc(SupportedVersions, func(a, b string) int { return -cmpStrings(a, b) }) {
		t.Errorf("SupportedVersions %v is not newest first", SupportedVersions)
	}
	if !KnownVersion(Version20260728) || IsSupportedVersion(Version20260728) || KnownVersion("2025-01-01") {
		t.Error("KnownVersion / IsSupportedVersion")
	}
}

func cmpStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestVersionFeatures(t *testing.T) {
	type row struct {
		name string
		f    func(string) bool
		// Whether the feature is allowed in 2024-11-05, 2025-03-26,
		// 2025-06-18, 2025-11-25, 2026-07-28 and an unknown revision.
		want [6]bool
	}
	versions := [6]string{Version20241105, Version20250326, Version20250618, Version20251125, Version20260728, "2030-01-01"}
	rows := []row{
		{"UsesInitialize", UsesInitialize, [6]bool{true, true, true, true, false, false}},
		{"AllowsBatch", AllowsBatch, [6]bool{false, true, false, false, false, false}},
		{"AllowsAudio", AllowsAudio, [6]bool{false, true, true, true, true, false}},
		{"AllowsToolAnnotations", AllowsToolAnnotations, [6]bool{false, true, true, true, true, false}},
		{"AllowsProgressMessage", AllowsProgressMessage, [6]bool{false, true, true, true, true, false}},
		{"AllowsElicitation", AllowsElicitation, [6]bool{false, false, true, true, true, false}},
		{"AllowsStructuredContent", AllowsStructuredContent, [6]bool{false, false, true, true, true, false}},
		{"AllowsResourceLinks", AllowsResourceLinks, [6]bool{false, false, true, true, true, false}},
		{"AllowsTitles", AllowsTitles, [6]bool{false, false, true, true, true, false}},
		{"AllowsIcons", AllowsIcons, [6]bool{false, false, false, true, true, false}},
		{"AllowsTasks", AllowsTasks, [6]bool{false, false, false, true, false, false}},
		{"AllowsURLElicitation", AllowsURLElicitation, [6]bool{false, false, false, true, true, false}},
		{"AllowsSamplingTools", AllowsSamplingTools, [6]bool{false, false, false, true, true, false}},
		{"AllowsElicitationDefaults", AllowsElicitationDefaults, [6]bool{false, false, false, true, true, false}},
		{"AllowsEnumVariants", AllowsEnumVariants, [6]bool{false, false, false, true, true, false}},
	}
	for _, r := range rows {
		for i, v := range versions {
			if got := r.f(v); got != r.want[i] {
				t.Errorf("%s(%q) = %v, want %v", r.name, v, got, r.want[i])
			}
		}
	}
}

func TestMethodAvailability(t *testing.T) {
	tests := []struct {
		method, version string
		want            bool
	}{
		{MethodToolsCall, Version20241105, true},
		{MethodCompletionComplete, Version20241105, true},
		{MethodElicitationCreate, Version20250326, false},
		{MethodElicitationCreate, Version20250618, true},
		{NotificationElicitationComplete, Version20250618, false},
		{NotificationElicitationComplete, Version20251125, true},
		{MethodTasksGet, Version20250618, false},
		{MethodTasksGet, Version20251125, true},
		{NotificationTasksStatus, Version20251125, true},
		{MethodToolsCall, Version20260728, false}, // not served
		{MethodToolsCall, "bogus", false},
	}
	for _, tt := range tests {
		m, ok := LookupMethod(tt.method)
		if !ok {
			t.Fatalf("LookupMethod(%q) failed", tt.method)
		}
		if got := m.AvailableIn(tt.version); got != tt.want {
			t.Errorf("%s.AvailableIn(%q) = %v, want %v", tt.method, tt.version, got, tt.want)
		}
	}
	if _, ok := LookupMethod("tools/delete"); ok {
		t.Error("LookupMethod accepted an unknown method")
	}
	m, _ := LookupMethod(MethodToolsCall)
	if _, ok := m.NewParams().(*CallToolRequestParams); !ok || !m.TaskAugmentable || !m.FromClient || m.FromServer || m.Notification {
		t.Errorf("tools/call: %+v", m)
	}
	if _, ok := m.NewResult().(*CallToolResult); !ok {
		t.Errorf("tools/call result %T", m.NewResult())
	}
	if a, b := m.NewParams(), m.NewParams(); a == b {
		t.Error("NewParams returns the same value twice")
	}
	ping, _ := LookupMethod(MethodPing)
	if !ping.FromClient || !ping.FromServer {
		t.Error("ping goes both ways")
	}
	if len(Methods()) != 31 || !slices.IsSortedFunc(Methods(), func(a, b MethodInfo) int { return cmpStrings(a.Name, b.Name) }) {
		t.Errorf("Methods() has %d entries or is not sorted", len(Methods()))
	}
}

func TestLoggingLevels(t *testing.T) {
	order := []LoggingLevel{LoggingLevelDebug, LoggingLevelInfo, LoggingLevelNotice, LoggingLevelWarning,
		LoggingLevelError, LoggingLevelCritical, LoggingLevelAlert, LoggingLevelEmergency}
	for i, l := range order {
		if !l.Valid() || l.Severity() != i {
			t.Errorf("%s: Valid %v, Severity %d", l, l.Valid(), l.Severity())
		}
		if i > 0 {
			if CompareLevels(l, order[i-1]) <= 0 || CompareLevels(order[i-1], l) >= 0 {
				t.Errorf("CompareLevels(%s, %s) is wrong", l, order[i-1])
			}
			if l.SlogLevel() <= order[i-1].SlogLevel() {
				t.Errorf("slog level of %s is not above %s", l, order[i-1])
			}
		}
		if CompareLevels(l, l) != 0 {
			t.Errorf("CompareLevels(%s, %s) != 0", l, l)
		}
		if back := LevelFromSlog(l.SlogLevel()); back != l {
			t.Errorf("LevelFromSlog(%s.SlogLevel()) = %s", l, back)
		}
	}
	if LoggingLevel("verbose").Valid() || CompareLevels("verbose", LoggingLevelDebug) >= 0 {
		t.Error("an invalid level must rank below debug")
	}
	slogTests := map[slog.Level]LoggingLevel{
		slog.LevelDebug - 4:  LoggingLevelDebug,
		slog.LevelDebug:      LoggingLevelDebug,
		slog.LevelInfo - 1:   LoggingLevelDebug,
		slog.LevelInfo:       LoggingLevelInfo,
		slog.LevelInfo + 1:   LoggingLevelInfo,
		slog.LevelInfo + 2:   LoggingLevelNotice,
		slog.LevelWarn:       LoggingLevelWarning,
		slog.LevelError:      LoggingLevelError,
		slog.LevelError + 3:  LoggingLevelError,
		slog.LevelError + 4:  LoggingLevelCritical,
		slog.LevelError + 8:  LoggingLevelAlert,
		slog.LevelError + 12: LoggingLevelEmergency,
		slog.LevelError + 99: LoggingLevelEmergency,
	}
	for in, want := range slogTests {
		if got := LevelFromSlog(in); got != want {
			t.Errorf("LevelFromSlog(%v) = %s, want %s", in, got, want)
		}
	}
	if LoggingLevel("bogus").SlogLevel() != slog.LevelInfo {
		t.Error("an invalid level maps to Info")
	}
}

func TestTaskStatusTerminal(t *testing.T) {
	for s, want := range map[TaskStatus]bool{
		TaskStatusWorking: false, TaskStatusInputRequired: false,
		TaskStatusCompleted: true, TaskStatusFailed: true, TaskStatusCancelled: true,
	} {
		if s.IsTerminal() != want {
			t.Errorf("%s.IsTerminal() = %v", s, !want)
		}
	}
}

func TestClientCapabilityHelpers(t *testing.T) {
	empty := &EmptyCapability{}
	tests := []struct {
		name      string
		caps      *ClientCapabilities
		form, url bool
	}{
		{"nil", nil, false, false},
		{"none", &ClientCapabilities{}, false, false},
		{"empty elicitation means form", &ClientCapabilities{Elicitation: &ElicitationCapability{}}, true, false},
		{"form", &ClientCapabilities{Elicitation: &ElicitationCapability{Form: empty}}, true, false},
		{"url only", &ClientCapabilities{Elicitation: &ElicitationCapability{URL: empty}}, false, true},
		{"both", &ClientCapabilities{Elicitation: &ElicitationCapability{Form: empty, URL: empty}}, true, true},
	}
	for _, tt := range tests {
		if got := tt.caps.SupportsElicitationForm(); got != tt.form {
			t.Errorf("%s: SupportsElicitationForm() = %v", tt.name, got)
		}
		if got := tt.caps.SupportsElicitationURL(); got != tt.url {
			t.Errorf("%s: SupportsElicitationURL() = %v", tt.name, got)
		}
	}
	var nilCaps *ClientCapabilities
	if nilCaps.SupportsSampling() || nilCaps.SupportsSamplingTools() || nilCaps.SupportsRoots() || nilCaps.SupportsTaskRequest(MethodSamplingCreateMessage) {
		t.Error("nil capabilities support something")
	}
	s := &ClientCapabilities{Sampling: &SamplingCapability{}}
	if !s.SupportsSampling() || s.SupportsSamplingTools() {
		t.Error("sampling without tools")
	}
	var nilServer *ServerCapabilities
	if nilServer.SupportsTaskRequest(MethodToolsCall) || (&ServerCapabilities{Tasks: &ServerTasksCapability{}}).SupportsTaskRequest(MethodToolsCall) {
		t.Error("server task support without requests.tools.call")
	}
	if !exServerCaps.SupportsTaskRequest(MethodToolsCall) || exServerCaps.SupportsTaskRequest(MethodPromptsGet) {
		t.Error("server task support")
	}
}
