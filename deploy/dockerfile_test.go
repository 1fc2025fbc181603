package deploy

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case
	args string
}

func parseDockerfile(t *testing.T, path string) []instruction {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []instruction
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if s, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

// The Dockerfile's rules, checked without Docker (which cannot run on the
// machines that test this project): a multi-stage build whose Go matches
// go.mod, a static binary, a distroless (or scratch) final stage running
// as a numeric non-root user, exec-form entry point, nothing fetched with
// ADD.
func TestDockerfile(t *testing.T) {
	ins := parseDockerfile(t, "../Dockerfile")
	gomod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	var stages []string // base images, in order
	var final []instruction
	buildHasStaticBinary := false
	for _, in := range ins {
		switch in.cmd {
		case "FROM":
			stages = append(stages, strings.Fields(in.args)[0])
			final = nil
		case "ADD":
			t.Errorf("ADD %s: use COPY (ADD fetches URLs and unpacks archives)", in.args)
		case "RUN":
			if strings.Contains(in.args, "CGO_ENABLED=0") && strings.Contains(in.args, "go build") {
				buildHasStaticBinary = true
			}
			if len(stages) > 1 {
				t.Errorf("RUN in the final stage: %s (distroless has no shell)", in.args)
			}
		}
		final = append(final, in)
	}
	rules := []struct {
		name string
		ok   bool
	}{
		{"two stages at least", len(stages) >= 2},
		{"the build stage's Go matches go.mod", goVersion != nil && strings.HasPrefix(stages[0], "golang:"+string(goVersion[1])+"-")},
		{"a static binary (CGO_ENABLED=0)", buildHasStaticBinary},
		{"the final stage is distroless or scratch", len(stages) > 0 && (strings.HasPrefix(stages[len(stages)-1], "gcr.io/distroless/static") || stages[len(stages)-1] == "scratch")},
		{"the final stage copies the binary from the build stage", has(final, "COPY", "--from=build ")},
		{"the final stage runs as a numeric non-root user", userOK(final)},
		{"the entry point is in exec form", has(final, "ENTRYPOINT", `["/usr/local/bin/switchboard"]`)},
		{"the default command listens on all interfaces", has(final, "CMD", `"--addr", "0.0.0.0:8080"`)},
		{"the port is exposed", has(final, "EXPOSE", "8080")},
	}
	for _, r := range rules {
		if !r.ok {
			t.Errorf("rule broken: %s", r.name)
		}
	}
}

func has(ins []instruction, cmd, sub string) bool {
	for _, in := range ins {
		if in.cmd == cmd && strings.Contains(in.args, sub) {
			return true
		}
	}
	return false
}

func userOK(ins []instruction) bool {
	user := ""
	for _, in := range ins {
		if in.cmd == "USER" {
			user = in.args
		}
	}
	uid, _, _ := strings.Cut(user, ":")
	return regexp.MustCompile(`^[1-9][0-9]*$`).MatchString(uid)
}

// Strict decoding catches what a lenient one would drop silently.
func TestStrictDecodingRefuses(t *testing.T) {
	tests := []struct {
		name string
		yaml string
	}{
		{"misspelled field", "apiVersion: apps/v1\nkind: Deployment\nspec:\n  replica: 3\n"},
		{"misplaced field", "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    containers: []\n"},
		{"wrong type", "apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: three\n"},
		{"duplicate key", "apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 3\n  replicas: 4\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := &fakeT{}
			strictInto(ft, []byte(tt.yaml), &appsv1.Deployment{})
			if !ft.failed {
				t.Fatal("accepted")
			}
		})
	}
}
