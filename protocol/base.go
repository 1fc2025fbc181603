package protocol

import "github.com/go-json-experiment/json/jsontext"

// Cursor is an opaque pagination token. Fields holding cursors are plain
// strings, omitted when empty.
type Cursor = string

// BaseMetadata is the schema's mixin for objects with a programmatic name
// and an optional display title. The types of this package that have these
// fields (Tool, Prompt, Resource, ...) declare them directly; BaseMetadata
// exists for code that wants to handle the pair on its own.
type BaseMetadata struct {
	// Name is the programmatic identifier.
	Name string `json:"name"`
	// Title is the human-readable name for display; when empty, clients
	// fall back to Name (or to annotations.title for tools).
	Title string `json:"title,omitzero"`
}

// DisplayName returns Title, or Name when Title is empty.
func (b BaseMetadata) DisplayName() string {
	if b.Title != "" {
		return b.Title
	}
	return b.Name
}

// Icon is an image that represents a tool, prompt, resource or
// implementation.
type Icon struct {
	// Src is an HTTPS URL or a data: URI with the image.
	Src string `json:"src"`
	// MIMEType optionally overrides the media type of the image.
	MIMEType string `json:"mimeType,omitzero"`
	// Sizes lists the sizes the image is available in, such as "48x48",
	// or "any" for scalable formats.
	Sizes []string `json:"sizes,omitzero"`
	// Theme is the background the icon is designed for.
	Theme IconTheme `json:"theme,omitzero"`
}

// Icons is the schema's mixin for objects that carry icons. The types of
// this package that have icons declare the field directly.
type Icons struct {
	// Icons lists the available icons.
	Icons []Icon `json:"icons,omitzero"`
}

// Implementation describes an MCP client or server: the clientInfo and
// serverInfo of the initialize exchange.
type Implementation struct {
	// Name is the programmatic name of the implementation.
	Name string `json:"name"`
	// Title is its display name.
	Title string `json:"title,omitzero"`
	// Version is its version.
	Version string `json:"version"`
	// Description says what it does.
	Description string `json:"description,omitzero"`
	// WebsiteURL links to its website.
	WebsiteURL string `json:"websiteUrl,omitzero"`
	// Icons are images that represent it.
	Icons []Icon `json:"icons,omitzero"`
}

// Annotations are optional hints to the client about how to use or display
// an object.
type Annotations struct {
	// Audience says who the object is meant for: the user, the assistant
	// (model) or both.
	Audience []Role `json:"audience,omitzero"`
	// Priority is the importance of the object, from 0 (optional) to 1
	// (required).
	Priority *float64 `json:"priority,omitzero"`
	// LastModified is when the object was last modified, as an ISO 8601
	// timestamp such as "2025-01-12T15:00:58Z".
	LastModified string `json:"lastModified,omitzero"`
}

// RequestParams are the params of a request that has no params of its own
// (ping), and the common part of all request params.
type RequestParams struct {
	// Meta is the request's _meta object; see [Meta.ProgressToken].
	Meta Meta `json:"_meta,omitzero"`
}

// NotificationParams are the params of a notification that has no params of
// its own (notifications/initialized and the list_changed notifications).
type NotificationParams struct {
	// Meta is the notification's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// PaginatedRequestParams are the params of the list requests (tools/list,
// prompts/list, resources/list, resources/templates/list, tasks/list).
type PaginatedRequestParams struct {
	// Cursor is the NextCursor of the previous page; empty for the first.
	Cursor Cursor `json:"cursor,omitzero"`
	// Meta is the request's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// PaginatedResult is the common part of the results of list requests.
type PaginatedResult struct {
	// NextCursor, when not empty, is the cursor of the next page.
	NextCursor Cursor `json:"nextCursor,omitzero"`
	// ResultType is the result's type in revision 2026-07-28 ("complete";
	// servers set it when they send the result). Empty in earlier
	// revisions, where it is absent from the wire.
	ResultType ResultType `json:"resultType,omitzero"`
	// Meta is the result's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// Result is a result whose shape is not known in advance: its _meta object
// and its other members, kept as raw JSON.
type Result struct {
	// Meta is the result's _meta object.
	Meta Meta `json:"_meta,omitzero"`
	// Fields holds the members other than _meta, as a JSON object (or
	// nothing).
	Fields jsontext.Value `json:",embed"`
}

// EmptyResult is the result of requests that only acknowledge (ping,
// resources/subscribe, resources/unsubscribe, logging/setLevel).
type EmptyResult struct {
	// ResultType is the result's type in revision 2026-07-28 ("complete";
	// servers set it when they send the result). Empty in earlier
	// revisions, where it is absent from the wire.
	ResultType ResultType `json:"resultType,omitzero"`
	// Meta is the result's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}
