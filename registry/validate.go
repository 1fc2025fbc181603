package registry

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// The kinds of validation issues (the official registry's names).
const (
	IssueJSON     = "json"
	IssueSchema   = "schema"
	IssueSemantic = "semantic"
)

// The severities of validation issues.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
)

// Issue is one problem found in a server.json: where (a JSON path such as
// "packages[0].transport.url"), what, and the rule (a schema location or a
// named semantic rule such as "version-looks-like-range").
type Issue struct {
	// Type is IssueJSON, IssueSchema or IssueSemantic.
	Type string `json:"type"`
	// Path is the JSON path of the problem ("" for the whole document).
	Path string `json:"path"`
	// Message says what is wrong.
	Message string `json:"message"`
	// Severity is SeverityError or SeverityWarning.
	Severity string `json:"severity"`
	// Reference names the rule: a schema location or a named semantic rule.
	Reference string `json:"reference"`
}

// String formats the issue as "path: message [rule]".
func (i Issue) String() string {
	p := i.Path
	if p == "" {
		p = "(document)"
	}
	return fmt.Sprintf("%s: %s [%s]", p, i.Message, i.Reference)
}

// ValidationResult is the outcome of [Validate]: Valid is false when an
// issue has severity "error". It is also the body of the validate route.
type ValidationResult struct {
	// Valid is false when an issue is an error.
	Valid bool `json:"valid"`
	// Issues are every issue found, errors and warnings.
	Issues []Issue `json:"issues"`
}

func (r *ValidationResult) add(typ, path, msg, rule string) {
	r.Issues = append(r.Issues, Issue{Type: typ, Path: path, Message: msg, Severity: SeverityError, Reference: rule})
	r.Valid = false
}

func (r *ValidationResult) warn(typ, path, msg, rule string) {
	r.Issues = append(r.Issues, Issue{Type: typ, Path: path, Message: msg, Severity: SeverityWarning, Reference: rule})
}

// Err returns the result's errors as an error (nil when valid).
func (r *ValidationResult) Err() error {
	if r.Valid {
		return nil
	}
	var lines []string
	for _, i := range r.Issues {
		if i.Severity == SeverityError {
			lines = append(lines, i.String())
		}
	}
	return &ValidationError{Issues: r.Issues, msg: strings.Join(lines, "; ")}
}

// ValidationError is a server.json rejected by [Validate].
type ValidationError struct {
	// Issues are every issue found (errors and warnings).
	Issues []Issue
	msg    string
}

// Error lists the error-level issues.
func (e *ValidationError) Error() string { return "invalid server.json: " + e.msg }

// ValidateOptions adjust [Validate].
type ValidateOptions struct {
	// AllowDraft accepts the draft schema (unreleased fields).
	AllowDraft bool
	// MaxSize bounds the document's size in bytes (default 64 KiB).
	MaxSize int
}

// DefaultMaxDocumentSize bounds a server.json.
const DefaultMaxDocumentSize = 64 << 10

//go:embed schemas/*.json
var schemaFS embed.FS

// SchemaVersions lists the dated server.json schemas Validate knows,
// oldest first ("draft" is accepted only with AllowDraft).
func SchemaVersions() []string {
	return []string{"2025-07-09", "2025-09-16", "2025-09-29", "2025-10-11", "2025-10-17", "2025-12-11"}
}

var schemaURLRe = regexp.MustCompile(`^https?://[^/]+(?:/[^/]+)*/schemas/([A-Za-z0-9_~.-]+)/server\.schema\.json$`)

// compiled schemas by version.
var (
	schemaMu    sync.Mutex
	schemaCache = map[string]*jsonschema.Schema{}
)

func compileSchema(version string) (*jsonschema.Schema, error) {
	schemaMu.Lock()
	defer schemaMu.Unlock()
	if s, ok := schemaCache[version]; ok {
		return s, nil
	}
	data, err := schemaFS.ReadFile("schemas/" + version + ".json")
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	id, _ := doc.(map[string]any)["$id"].(string)
	c := jsonschema.NewCompiler()
	if err := c.AddResource(id, doc); err != nil {
		return nil, err
	}
	s, err := c.Compile(id)
	if err != nil {
		return nil, err
	}
	schemaCache[version] = s
	return s, nil
}

var printer = message.NewPrinter(language.English)

// Validate checks a server.json document: that it is a JSON object, that
// its $schema names a dated schema Validate knows and that it validates
// against that schema, then the official registry's semantic rules (name
// and namespace form, version strings, repository, URLs, icons, package
// and remote shapes, arguments, URL template variables, the size of the
// publisher-provided _meta). Every issue names its JSON path and its rule.
func Validate(doc []byte, opts *ValidateOptions) *ValidationResult {
	if opts == nil {
		opts = &ValidateOptions{}
	}
	res := &ValidationResult{Valid: true, Issues: []Issue{}}
	max := opts.MaxSize
	if max <= 0 {
		max = DefaultMaxDocumentSize
	}
	if len(doc) > max {
		res.add(IssueJSON, "", fmt.Sprintf("document too large: %d bytes (at most %d)", len(doc), max), "document-too-large")
		return res
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		res.add(IssueJSON, "", "invalid JSON: "+err.Error(), "invalid-json")
		return res
	}
	root, ok := inst.(map[string]any)
	if !ok {
		res.add(IssueJSON, "", "a server.json must be a JSON object", "not-an-object")
		return res
	}
	// $schema names the dated schema.
	schemaURL, _ := root["$schema"].(string)
	switch {
	case root["$schema"] == nil:
		res.add(IssueSemantic, "$schema", "$schema field is required", "schema-field-required")
	case schemaURL == "":
		res.add(IssueSchema, "$schema", "$schema must be a non-empty string", "schema-field-required")
	default:
		m := schemaURLRe.FindStringSubmatch(schemaURL)
		switch {
		case m == nil:
			res.add(IssueSchema, "$schema", fmt.Sprintf("failed to extract schema version from URL: %s", schemaURL), "schema-version-extraction-error")
		case m[1] == "draft" && !opts.AllowDraft, m[1] != "draft" && !slices.Contains(SchemaVersions(), m[1]):
			res.add(IssueSchema, "$schema", fmt.Sprintf("schema version %s not available (known: %s)", m[1], strings.Join(SchemaVersions(), ", ")), "schema-version-not-available")
		default:
			if m[1] != CurrentSchemaVersion && m[1] != "draft" {
				res.warn(IssueSemantic, "$schema", fmt.Sprintf("schema version %s is not the current version (%s). Consider updating to the latest schema version", m[1], CurrentSchemaVersion), "schema-version-deprecated")
			}
			sch, err := compileSchema(m[1])
			if err != nil {
				res.add(IssueSchema, "$schema", "schema does not compile: "+err.Error(), "schema-compile-error")
				break
			}
			if err := sch.Validate(inst); err != nil {
				var ve *jsonschema.ValidationError
				if errors.As(err, &ve) {
					schemaIssues(res, root, ve)
				} else {
					res.add(IssueSchema, "", err.Error(), "schema-validation-error")
				}
			}
		}
	}
	// Semantic rules, on the parsed form.
	var s ServerJSON
	if err := json.Unmarshal(doc, &s); err != nil {
		// The schema reported the shape problem; the semantic checks need
		// the typed form.
		if res.Valid {
			res.add(IssueJSON, "", "cannot decode server.json: "+err.Error(), "json-decode-error")
		}
		return res
	}
	semantic(res, &s, root)
	return res
}

// schemaIssues adds the leaves of a schema validation error.
func schemaIssues(res *ValidationResult, root any, ve *jsonschema.ValidationError) {
	seen := map[string]bool{}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		switch e.ErrorKind.(type) {
		case *kind.AnyOf, *kind.OneOf:
			if len(e.Causes) > 0 {
				if b := bestBranch(e.Causes); b != nil {
					walk(b)
					return
				}
				add(res, seen, root, e, "matches none of the allowed shapes")
				return
			}
		}
		if len(e.Causes) == 0 {
			add(res, seen, root, e, e.ErrorKind.LocalizedString(printer))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
}

// bestBranch picks the one branch of an anyOf/oneOf worth reporting: the
// branches whose discriminating "type" member did not fail; nil when that
// leaves not exactly one.
func bestBranch(causes []*jsonschema.ValidationError) *jsonschema.ValidationError {
	var keep []*jsonschema.ValidationError
	for _, c := range causes {
		if !failsDiscriminator(c) {
			keep = append(keep, c)
		}
	}
	if len(keep) == 1 {
		return keep[0]
	}
	return nil
}

func failsDiscriminator(e *jsonschema.ValidationError) bool {
	switch e.ErrorKind.(type) {
	case *kind.Enum, *kind.Const:
		if n := len(e.InstanceLocation); n > 0 && e.InstanceLocation[n-1] == "type" {
			return true
		}
	case *kind.Required:
		if slices.Contains(e.ErrorKind.(*kind.Required).Missing, "type") {
			return true
		}
	}
	for _, c := range e.Causes {
		if failsDiscriminator(c) {
			return true
		}
	}
	return false
}

func add(res *ValidationResult, seen map[string]bool, root any, e *jsonschema.ValidationError, msg string) {
	path := jsonPath(root, e.InstanceLocation)
	ref := e.SchemaURL
	if kp := e.ErrorKind.KeywordPath(); len(kp) > 0 {
		ref += "/" + strings.Join(kp, "/")
	}
	if i := strings.Index(ref, "#"); i >= 0 {
		ref = ref[i:]
	}
	key := path + "\x00" + msg
	if seen[key] {
		return
	}
	seen[key] = true
	res.add(IssueSchema, path, msg, ref)
}

// jsonPath turns JSON Pointer tokens into "a.b[0].c", telling array
// indexes from keys by walking the document.
func jsonPath(root any, loc []string) string {
	var b strings.Builder
	cur := root
	for _, tok := range loc {
		if arr, ok := cur.([]any); ok {
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(arr) {
				fmt.Fprintf(&b, "[%d]", i)
				cur = arr[i]
				continue
			}
		}
		if m, ok := cur.(map[string]any); ok {
			cur = m[tok]
		} else {
			cur = nil
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

// Name rules (the official registry's).
var (
	namespaceRe  = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9.-]*[a-zA-Z0-9]$`)
	namePartRe   = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]*[a-zA-Z0-9]$`)
	githubRepoRe = regexp.MustCompile(`^https?://(www\.)?github\.com/[\w.-]+/[\w.-]+/?$`)
	gitlabRepoRe = regexp.MustCompile(`^https?://(www\.)?gitlab\.com/[\w.-]+(/[\w.-]+)+/?$`)
	subfolderRe  = regexp.MustCompile(`^[a-zA-Z0-9\-_./]+$`)
	templateRe   = regexp.MustCompile(`\{([^}]+)\}`)
	portVarRe    = regexp.MustCompile(`:(\{[^}]+\})(/|$)`)

	comparatorRangeRe   = regexp.MustCompile(`^\s*(?:\^|~|>=|<=|>|<|=)\s*v?\d+(?:\.\d+){0,3}(?:-[0-9A-Za-z.-]+)?\s*$`)
	hyphenRangeRe       = regexp.MustCompile(`^\s*v?\d+(?:\.\d+){0,3}(?:-[0-9A-Za-z.-]+)?\s-\s*v?\d+(?:\.\d+){0,3}(?:-[0-9A-Za-z.-]+)?\s*$`)
	orRangeRe           = regexp.MustCompile(`^\s*(?:v?\d+(?:\.\d+){0,3}(?:-[0-9A-Za-z.-]+)?\s*)(?:\|\|\s*v?\d+(?:\.\d+){0,3}(?:-[0-9A-Za-z.-]+)?\s*)+$`)
	dottedVersionLikeRe = regexp.MustCompile(`^\s*(?:v?\d+|x|X|\*)(?:\.(?:\d+|x|X|\*)){1,2}(?:-[0-9A-Za-z.-]+)?\s*$`)
)

// CheckName checks a server name: "namespace/name", one slash, each part
// starting and ending with a letter or digit.
func CheckName(name string) error {
	if name == "" {
		return errors.New("server name is required")
	}
	if !strings.Contains(name, "/") {
		return errors.New("server name must be in format 'dns-namespace/name' (e.g., 'com.example.api/server')")
	}
	if strings.Count(name, "/") > 1 {
		return errors.New("server name cannot contain multiple slashes")
	}
	ns, n, _ := strings.Cut(name, "/")
	if ns == "" || n == "" {
		return errors.New("server name must be in format 'dns-namespace/name' with non-empty namespace and name parts")
	}
	if !namespaceRe.MatchString(ns) {
		return fmt.Errorf("server name format is invalid: namespace '%s' is invalid. Namespace must start and end with alphanumeric characters, and may contain dots and hyphens in the middle", ns)
	}
	if !namePartRe.MatchString(n) {
		return fmt.Errorf("server name format is invalid: name '%s' is invalid. Name must start and end with alphanumeric characters, and may contain dots, underscores, and hyphens in the middle", n)
	}
	if len(name) > 200 {
		return errors.New("server name is longer than 200 characters")
	}
	return nil
}

// LooksLikeVersionRange reports whether v is a version range or a
// wildcard rather than one version ("^1.2.3", "1.x", "1 - 2", ...).
func LooksLikeVersionRange(v string) bool {
	t := strings.TrimSpace(v)
	if t == "" {
		return false
	}
	if comparatorRangeRe.MatchString(t) || hyphenRangeRe.MatchString(t) || orRangeRe.MatchString(t) {
		return true
	}
	if dottedVersionLikeRe.MatchString(t) {
		return strings.ContainsAny(t, "xX*")
	}
	return false
}

func semantic(res *ValidationResult, s *ServerJSON, root map[string]any) {
	if err := CheckName(s.Name); err != nil {
		res.add(IssueSemantic, "name", err.Error(), "invalid-server-name")
	}
	checkVersion(res, "version", s.Version)
	if r := s.Repository; r != nil {
		switch {
		case r.URL == "":
			res.add(IssueSemantic, "repository.url", "repository url is required when repository is provided", "repository-url-required")
		case r.Source == "":
			res.add(IssueSemantic, "repository.source", "repository source is required when repository is provided", "repository-source-required")
		default:
			ok := false
			switch r.Source {
			case "github":
				ok = githubRepoRe.MatchString(r.URL)
			case "gitlab":
				ok = gitlabRepoRe.MatchString(r.URL) && !strings.Contains(r.URL+"/", "/-/")
			}
			if !ok {
				res.add(IssueSemantic, "repository.url", "invalid repository URL: "+r.URL, "invalid-repository-url")
			}
			if r.Subfolder != "" && !validSubfolder(r.Subfolder) {
				res.add(IssueSemantic, "repository.subfolder", "invalid subfolder path: "+r.Subfolder, "invalid-subfolder-path")
			}
		}
	}
	if w := s.WebsiteURL; w != "" {
		u, err := url.Parse(w)
		switch {
		case err != nil:
			res.add(IssueSemantic, "websiteUrl", "invalid websiteUrl: "+err.Error(), "invalid-website-url")
		case !u.IsAbs():
			res.add(IssueSemantic, "websiteUrl", "websiteUrl must be absolute (include scheme): "+w, "website-url-must-be-absolute")
		case u.Scheme != "https":
			res.add(IssueSemantic, "websiteUrl", "websiteUrl must use https scheme: "+w, "website-url-invalid-scheme")
		}
		if i := strings.IndexAny(w, "\"'<> \t\n\r"); i >= 0 {
			res.add(IssueSemantic, "websiteUrl", fmt.Sprintf("websiteUrl contains an invalid character %q at position %d", w[i], i), "website-url-invalid-characters")
		}
	}
	if s.Title != "" && strings.TrimSpace(s.Title) == "" {
		res.add(IssueSemantic, "title", "title cannot be only whitespace", "title-whitespace-only")
	}
	for i, ic := range s.Icons {
		p := fmt.Sprintf("icons[%d].src", i)
		u, err := url.Parse(ic.Src)
		switch {
		case err != nil:
			res.add(IssueSemantic, p, "invalid icon src URL: "+err.Error(), "icon-src-invalid-url")
		case !u.IsAbs():
			res.add(IssueSemantic, p, "icon src must be an absolute URL (include scheme): "+ic.Src, "icon-src-not-absolute")
		case u.Scheme != "https":
			res.add(IssueSemantic, p, fmt.Sprintf("icon src must use https scheme (got %s): %s", u.Scheme, ic.Src), "icon-src-invalid-scheme")
		}
	}
	for i := range s.Packages {
		checkPackage(res, fmt.Sprintf("packages[%d]", i), &s.Packages[i])
	}
	for i := range s.Remotes {
		checkRemote(res, fmt.Sprintf("remotes[%d]", i), &s.Remotes[i])
	}
	if raw, ok := s.Meta[MetaPublisherProvided]; ok {
		var buf bytes.Buffer
		if json.Compact(&buf, raw) == nil && buf.Len() > 4096 {
			res.add(IssueSemantic, "_meta."+MetaPublisherProvided, fmt.Sprintf("_meta.%s exceeds 4KB limit (%d bytes)", MetaPublisherProvided, buf.Len()), "publisher-provided-too-large")
		}
	}
	if m, ok := root["_meta"].(map[string]any); ok {
		if _, ok := m[MetaOfficial]; ok {
			res.add(IssueSemantic, "_meta."+MetaOfficial, "registry-managed metadata cannot be published; the registry sets it", "official-meta-not-allowed")
		}
	}
}

func checkVersion(res *ValidationResult, path, v string) {
	if v == "latest" {
		res.add(IssueSemantic, path, "version string 'latest' is reserved and cannot be used", "reserved-version-string")
		return
	}
	if LooksLikeVersionRange(v) {
		res.add(IssueSemantic, path, fmt.Sprintf("version must be a specific version, not a range: %q", v), "version-looks-like-range")
	}
}

func validSubfolder(p string) bool {
	if strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || !subfolderRe.MatchString(p) {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

func checkPackage(res *ValidationResult, path string, p *Package) {
	if strings.Contains(p.Identifier, " ") {
		res.add(IssueSemantic, path+".identifier", "package name cannot contain spaces", "package-name-has-spaces")
	}
	checkVersion(res, path+".version", p.Version)
	if p.RegistryType == "mcpb" && p.FileSHA256 == "" {
		res.add(IssueSemantic, path+".fileSha256", "fileSha256 is required for mcpb packages", "mcpb-file-sha256-required")
	}
	for i := range p.RuntimeArguments {
		checkArgument(res, fmt.Sprintf("%s.runtimeArguments[%d]", path, i), &p.RuntimeArguments[i])
	}
	for i := range p.PackageArguments {
		checkArgument(res, fmt.Sprintf("%s.packageArguments[%d]", path, i), &p.PackageArguments[i])
	}
	var vars []string
	for _, e := range p.EnvironmentVariables {
		vars = append(vars, e.Name)
	}
	for _, a := range append(slices.Clone(p.RuntimeArguments), p.PackageArguments...) {
		if a.Name != "" {
			vars = append(vars, a.Name)
		}
		if a.ValueHint != "" {
			vars = append(vars, a.ValueHint)
		}
	}
	t := &p.Transport
	tp := path + ".transport"
	switch t.Type {
	case "stdio":
		if t.URL != "" {
			res.add(IssueSemantic, tp+".url", "url must be empty for stdio transport type, got: "+t.URL, "stdio-transport-url-not-empty")
		}
	case "streamable-http", "sse":
		if t.URL == "" {
			res.add(IssueSemantic, tp+".url", "url is required for "+t.Type+" transport type", "streamable-transport-url-required")
		} else if !validTemplatedURL(t.URL, vars) {
			res.add(IssueSemantic, tp+".url", templateMessage("invalid package transport URL", t.URL, vars), "invalid-templated-url")
		}
	default:
		res.add(IssueSemantic, tp+".type", "unsupported transport type: "+t.Type, "unsupported-transport-type")
	}
}

func checkArgument(res *ValidationResult, path string, a *Argument) {
	switch a.Type {
	case "named":
		switch {
		case a.Name == "":
			res.add(IssueSemantic, path+".name", "named argument name is required", "named-argument-name-required")
		case strings.ContainsAny(a.Name, "<> $"):
			res.add(IssueSemantic, path+".name", "invalid named argument name format: "+a.Name, "invalid-named-argument-name")
		}
		if a.Name != "" && a.Value != "" && strings.HasPrefix(a.Value, a.Name) {
			res.add(IssueSemantic, path+".value", fmt.Sprintf("argument value cannot start with the argument name '%s': %s", a.Name, a.Value), "argument-value-starts-with-name")
		}
		if a.Name != "" && a.Default != "" && strings.HasPrefix(a.Default, a.Name) {
			res.add(IssueSemantic, path+".default", fmt.Sprintf("argument default cannot start with the argument name '%s': %s", a.Name, a.Default), "argument-default-starts-with-name")
		}
	case "positional":
		if !a.HasValueOrHint() {
			res.add(IssueSemantic, path, "positional argument must provide a value or a valueHint", "positional-argument-value-or-hint-required")
		}
	default:
		res.add(IssueSemantic, path+".type", fmt.Sprintf("argument type must be 'positional' or 'named': %q", a.Type), "invalid-argument-type")
	}
}

func checkRemote(res *ValidationResult, path string, t *Transport) {
	switch t.Type {
	case "streamable-http", "sse":
	default:
		res.add(IssueSemantic, path+".type", fmt.Sprintf("unsupported transport type for remotes: %s (only streamable-http and sse are supported)", t.Type), "unsupported-remote-transport-type")
		return
	}
	if t.URL == "" {
		res.add(IssueSemantic, path+".url", "url is required for "+t.Type+" transport type", "remote-transport-url-required")
		return
	}
	var vars []string
	for k := range t.Variables {
		vars = append(vars, k)
	}
	slices.Sort(vars)
	if !validRemoteURL(t.URL) {
		res.add(IssueSemantic, path+".url", "invalid remote URL (https, not localhost): "+t.URL, "invalid-remote-url")
		return
	}
	if !validTemplatedURL(t.URL, vars) {
		res.add(IssueSemantic, path+".url", templateMessage("invalid remote URL", t.URL, vars), "invalid-templated-url")
	}
}

func templateMessage(what, u string, vars []string) string {
	if len(templateRe.FindAllString(u, -1)) > 0 {
		return fmt.Sprintf("%s: template variables in URL %s reference undefined variables. Available variables: %v", what, u, vars)
	}
	return what + ": " + u
}

// placeholderURL replaces {variables} so that a URL template parses.
func placeholderURL(raw string) string {
	r := strings.NewReplacer("{host}", "example.com", "{port}", "8080", "{path}", "api", "{protocol}", "http", "{scheme}", "http").Replace(raw)
	r = portVarRe.ReplaceAllString(r, ":8080$2")
	return templateRe.ReplaceAllString(r, "placeholder")
}

func validURL(raw string) bool {
	u, err := url.Parse(placeholderURL(raw))
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func validRemoteURL(raw string) bool {
	if !validURL(raw) {
		return false
	}
	u, _ := url.Parse(placeholderURL(raw))
	h := u.Hostname()
	if h == "localhost" || h == "127.0.0.1" || strings.HasSuffix(h, ".localhost") {
		return false
	}
	return u.Scheme == "https"
}

func validTemplatedURL(raw string, vars []string) bool {
	if !validURL(raw) {
		return false
	}
	for _, m := range templateRe.FindAllStringSubmatch(raw, -1) {
		if !slices.Contains(vars, m[1]) {
			return false
		}
	}
	return true
}
