package registry

import (
	"encoding/json"
	"time"
)

// Status is the lifecycle status of a server version.
type Status string

// The statuses of a server version.
const (
	StatusActive     Status = "active"
	StatusDeprecated Status = "deprecated"
	StatusDeleted    Status = "deleted"
)

// Valid reports whether s is one of the three statuses.
func (s Status) Valid() bool {
	return s == StatusActive || s == StatusDeprecated || s == StatusDeleted
}

// MetaOfficial is the key of the registry-managed metadata in a
// ServerResponse's _meta object.
const MetaOfficial = "io.modelcontextprotocol.registry/official"

// MetaPublisherProvided is the key of the publisher's metadata in a
// server.json's _meta object; the official registry limits it to 4 KB.
const MetaPublisherProvided = "io.modelcontextprotocol.registry/publisher-provided"

// CurrentSchemaVersion is the newest dated server.json schema.
const CurrentSchemaVersion = "2025-12-11"

// CurrentSchemaURL is the $schema of a current server.json.
const CurrentSchemaURL = "https://static.modelcontextprotocol.io/schemas/" + CurrentSchemaVersion + "/server.schema.json"

// Official is the registry-managed metadata of a server version, the
// value of _meta["io.modelcontextprotocol.registry/official"], filled as
// the official registry fills it.
type Official struct {
	// Status is the version's lifecycle status.
	Status Status `json:"status"`
	// StatusChangedAt is when Status last changed (the publication time
	// until then).
	StatusChangedAt time.Time `json:"statusChangedAt"`
	// StatusMessage explains the status, e.g. a deprecation notice.
	StatusMessage *string `json:"statusMessage,omitempty"`
	// PublishedAt is when the version was published.
	PublishedAt time.Time `json:"publishedAt"`
	// UpdatedAt is when the entry last changed (publication or status).
	UpdatedAt time.Time `json:"updatedAt"`
	// IsLatest marks the latest version of the server.
	IsLatest bool `json:"isLatest"`
}

// ResponseMeta is the _meta object of a ServerResponse.
type ResponseMeta struct {
	// Official is the registry-managed metadata.
	Official *Official `json:"io.modelcontextprotocol.registry/official,omitempty"`
}

// ServerResponse is one server version as the API returns it: the
// server.json as published and the registry's metadata.
type ServerResponse struct {
	// Server is the server.json document, as published (compact JSON).
	Server json.RawMessage `json:"server"`
	// Meta is the registry-managed metadata.
	Meta ResponseMeta `json:"_meta"`
}

// ListMetadata is the metadata of a list response.
type ListMetadata struct {
	// NextCursor is the cursor of the next page; empty on the last one.
	NextCursor string `json:"nextCursor,omitempty"`
	// Count is the number of servers in this page.
	Count int `json:"count"`
}

// ServerList is the body of the list routes.
type ServerList struct {
	// Servers are the server versions of the page.
	Servers []ServerResponse `json:"servers"`
	// Metadata holds the count and the next cursor.
	Metadata ListMetadata `json:"metadata"`
}

// StatusUpdate is the body of the status routes.
type StatusUpdate struct {
	// Status is the new status.
	Status Status `json:"status"`
	// StatusMessage explains it (at most 500 characters; not allowed with
	// "active").
	StatusMessage *string `json:"statusMessage,omitempty"`
}

// AllVersionsStatusResponse is the answer of the all-versions status
// route: every version of the server after the change.
type AllVersionsStatusResponse struct {
	// UpdatedCount is the number of versions returned.
	UpdatedCount int `json:"updatedCount"`
	// Servers are the versions.
	Servers []ServerResponse `json:"servers"`
}

// ServerJSON is the parsed form of a server.json document (schema
// 2025-12-11). Unknown members are ignored here but kept in the stored
// document.
type ServerJSON struct {
	// Schema is the document's $schema URL, which names its dated schema.
	Schema string `json:"$schema,omitempty"`
	// Name is the server name, "namespace/name" in reverse-DNS form.
	Name string `json:"name"`
	// Description says what the server does (at most 100 characters).
	Description string `json:"description"`
	// Title is an optional display name.
	Title string `json:"title,omitempty"`
	// Repository is the server's source repository.
	Repository *Repository `json:"repository,omitempty"`
	// Version is the server's version.
	Version string `json:"version"`
	// WebsiteURL is the server's website.
	WebsiteURL string `json:"websiteUrl,omitempty"`
	// Icons are icons for user interfaces.
	Icons []Icon `json:"icons,omitempty"`
	// Packages are ways to run the server locally.
	Packages []Package `json:"packages,omitempty"`
	// Remotes are endpoints of the server as a remote service.
	Remotes []Transport `json:"remotes,omitempty"`
	// Meta is the document's _meta object.
	Meta map[string]json.RawMessage `json:"_meta,omitempty"`
}

// Repository is a server's source repository.
type Repository struct {
	// URL is the repository's URL.
	URL string `json:"url,omitempty"`
	// Source is the hosting service ("github", "gitlab").
	Source string `json:"source,omitempty"`
	// ID is the hosting service's repository identifier.
	ID string `json:"id,omitempty"`
	// Subfolder is the server's path inside the repository.
	Subfolder string `json:"subfolder,omitempty"`
}

// Icon is an icon of a server.
type Icon struct {
	// Src is the icon's https URL.
	Src string `json:"src"`
	// MimeType is its media type.
	MimeType string `json:"mimeType,omitempty"`
	// Sizes are its sizes ("48x48", "any").
	Sizes []string `json:"sizes,omitempty"`
	// Theme is "light" or "dark".
	Theme string `json:"theme,omitempty"`
}

// Package is a way to run the server locally: a package of a package
// registry (npm, pypi, nuget, oci, mcpb, cargo) and how to start it.
type Package struct {
	// RegistryType is the package registry: "npm", "pypi", "nuget", "oci", "mcpb", "cargo".
	RegistryType string `json:"registryType"`
	// RegistryBaseURL is the package registry's URL.
	RegistryBaseURL string `json:"registryBaseUrl,omitempty"`
	// Identifier is the package name, image reference or download URL.
	Identifier string `json:"identifier"`
	// Version is the package's version.
	Version string `json:"version,omitempty"`
	// FileSHA256 is the package file's SHA-256 (required for mcpb).
	FileSHA256 string `json:"fileSha256,omitempty"`
	// RuntimeHint is the program that runs the package ("npx", "uvx", "docker", "dnx").
	RuntimeHint string `json:"runtimeHint,omitempty"`
	// Transport is how the started package is spoken to.
	Transport Transport `json:"transport"`
	// RuntimeArguments go to the runtime (before the package).
	RuntimeArguments []Argument `json:"runtimeArguments,omitempty"`
	// PackageArguments go to the package.
	PackageArguments []Argument `json:"packageArguments,omitempty"`
	// EnvironmentVariables are set for the package.
	EnvironmentVariables []KeyValueInput `json:"environmentVariables,omitempty"`
}

// Transport is a package's transport or a remote endpoint.
type Transport struct {
	// Type is "stdio", "streamable-http" or "sse".
	Type string `json:"type"`
	// URL is the endpoint (a template) of an HTTP transport.
	URL string `json:"url,omitempty"`
	// Headers are HTTP headers to send.
	Headers []KeyValueInput `json:"headers,omitempty"`
	// Variables define the {variables} of URL (remotes).
	Variables map[string]Input `json:"variables,omitempty"`
}

// Input is a value the user may have to supply.
type Input struct {
	// Description says what the input is for.
	Description string `json:"description,omitempty"`
	// IsRequired marks an input the server needs.
	IsRequired bool `json:"isRequired,omitempty"`
	// Format is "string", "number", "boolean" or "filepath".
	Format string `json:"format,omitempty"`
	// Value is a fixed value ({variables} substituted).
	Value string `json:"value,omitempty"`
	// IsSecret marks a secret.
	IsSecret bool `json:"isSecret,omitempty"`
	// Default is the value when none is given.
	Default string `json:"default,omitempty"`
	// Placeholder is an example shown to the user.
	Placeholder string `json:"placeholder,omitempty"`
	// Choices are the allowed values.
	Choices []string `json:"choices,omitempty"`
	// Variables define the {variables} of Value.
	Variables map[string]Input `json:"variables,omitempty"`
}

// KeyValueInput is an environment variable or a header.
type KeyValueInput struct {
	Input
	// Name is the variable's or header's name.
	Name string `json:"name"`
}

// Argument is a command-line argument: "positional" (Value or
// ValueHint) or "named" (Name, e.g. "--port").
type Argument struct {
	Input
	// Type is "positional" or "named".
	Type string `json:"type"`
	// Name is a named argument's flag ("--port").
	Name string `json:"name,omitempty"`
	// ValueHint names a positional argument.
	ValueHint string `json:"valueHint,omitempty"`
	// IsRepeated marks an argument that may be repeated.
	IsRepeated bool `json:"isRepeated,omitempty"`
	// hasValue records whether "value" was present (an explicitly empty
	// value is a valid positional argument).
	hasValue bool
}

// UnmarshalJSON records whether "value" was present.
func (a *Argument) UnmarshalJSON(b []byte) error {
	type plain Argument
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	var probe struct {
		Value *string `json:"value"`
	}
	_ = json.Unmarshal(b, &probe)
	*a = Argument(p)
	a.hasValue = probe.Value != nil
	return nil
}

// HasValueOrHint reports whether a positional argument has a value (even
// empty) or a value hint.
func (a *Argument) HasValueOrHint() bool { return a.hasValue || a.Value != "" || a.ValueHint != "" }

// Permission is a right a registry token carries: an action on the server
// names a pattern matches ("com.example/*", "com.example.*", "*", or an
// exact name).
type Permission struct {
	// Action is "publish" or "edit".
	Action string `json:"action"`
	// ResourcePattern is the name pattern.
	ResourcePattern string `json:"resource"`
}

// The permission actions.
const (
	ActionPublish = "publish"
	ActionEdit    = "edit"
)
