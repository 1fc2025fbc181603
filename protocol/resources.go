package protocol

import (
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Resource describes a resource the server offers (an element of
// resources/list).
type Resource struct {
	// URI is the URI of the resource.
	URI string `json:"uri"`
	// Name is the programmatic name of the resource.
	Name string `json:"name"`
	// Title is its display name.
	Title string `json:"title,omitzero"`
	// Description says what the resource is; a hint for the model.
	Description string `json:"description,omitzero"`
	// MIMEType is the media type of the resource, if known.
	MIMEType string `json:"mimeType,omitzero"`
	// Size is the size of the raw content in bytes, if known.
	Size *int64 `json:"size,omitzero"`
	// Annotations are optional hints for the client.
	Annotations *Annotations `json:"annotations,omitzero"`
	// Icons are images that represent the resource.
	Icons []Icon `json:"icons,omitzero"`
	// Meta is the resource's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// Link returns a resource_link content block pointing to the resource.
func (r *Resource) Link() *ResourceLink {
	return &ResourceLink{
		URI:         r.URI,
		Name:        r.Name,
		Title:       r.Title,
		Description: r.Description,
		MIMEType:    r.MIMEType,
		Size:        r.Size,
		Annotations: r.Annotations,
		Icons:       r.Icons,
		Meta:        r.Meta,
	}
}

// ResourceTemplate describes a family of resources by an RFC 6570 URI
// template (an element of resources/templates/list).
type ResourceTemplate struct {
	// URITemplate is the URI template.
	URITemplate string `json:"uriTemplate"`
	// Name is the programmatic name of the template.
	Name string `json:"name"`
	// Title is its display name.
	Title string `json:"title,omitzero"`
	// Description says what the resources are.
	Description string `json:"description,omitzero"`
	// MIMEType is the media type of all matching resources, if they share
	// one.
	MIMEType string `json:"mimeType,omitzero"`
	// Annotations are optional hints for the client.
	Annotations *Annotations `json:"annotations,omitzero"`
	// Icons are images that represent the resources.
	Icons []Icon `json:"icons,omitzero"`
	// Meta is the template's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// ListResourcesResult is the result of resources/list.
type ListResourcesResult struct {
	// Resources is one page of resources.
	Resources []Resource `json:"resources"`
	// NextCursor, when not empty, is the cursor of the next page.
	NextCursor Cursor `json:"nextCursor,omitzero"`
	// ResultType is the result's type in revision 2026-07-28 ("complete";
	// servers set it when they send the result). Empty in earlier
	// revisions, where it is absent from the wire.
	ResultType ResultType `json:"resultType,omitzero"`
	// TTLMs is the freshness hint of revision 2026-07-28: how long, in
	// milliseconds, the result may be reused. Nil in earlier revisions.
	TTLMs *int64 `json:"ttlMs,omitzero"`
	// CacheScope says whether shared intermediaries may cache the result
	// (2026-07-28).
	CacheScope CacheScope `json:"cacheScope,omitzero"`
	// Meta is the result's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// ListResourceTemplatesResult is the result of resources/templates/list.
type ListResourceTemplatesResult struct {
	// ResourceTemplates is one page of templates.
	ResourceTemplates []ResourceTemplate `json:"resourceTemplates"`
	// NextCursor, when not empty, is the cursor of the next page.
	NextCursor Cursor `json:"nextCursor,omitzero"`
	// ResultType is the result's type in revision 2026-07-28 ("complete";
	// servers set it when they send the result). Empty in earlier
	// revisions, where it is absent from the wire.
	ResultType ResultType `json:"resultType,omitzero"`
	// TTLMs is the freshness hint of revision 2026-07-28: how long, in
	// milliseconds, the result may be reused. Nil in earlier revisions.
	TTLMs *int64 `json:"ttlMs,omitzero"`
	// CacheScope says whether shared intermediaries may cache the result
	// (2026-07-28).
	CacheScope CacheScope `json:"cacheScope,omitzero"`
	// Meta is the result's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// ResourceRequestParams are the params shared by the requests about one
// resource.
type ResourceRequestParams struct {
	// URI is the URI of the resource.
	URI string `json:"uri"`
	// Meta is the request's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// ReadResourceRequestParams are the params of resources/read.
type ReadResourceRequestParams struct {
	// URI is the URI of the resource to read.
	URI string `json:"uri"`
	// InputResponses answer the input requests of an earlier
	// InputRequiredResult (2026-07-28).
	InputResponses InputResponses `json:"inputResponses,omitzero"`
	// RequestState echoes the requestState of an earlier
	// InputRequiredResult (2026-07-28).
	RequestState string `json:"requestState,omitzero"`
	// Meta is the request's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// ReadResourceResult is the result of resources/read.
type ReadResourceResult struct {
	// Contents holds the contents: one *TextResourceContents or
	// *BlobResourceContents, or several (for a directory-like resource,
	// say). It is required on the wire; nil is sent as [].
	Contents []ResourceContents `json:"contents"`
	// ResultType is the result's type in revision 2026-07-28 ("complete";
	// servers set it when they send the result). Empty in earlier
	// revisions, where it is absent from the wire.
	ResultType ResultType `json:"resultType,omitzero"`
	// TTLMs is the freshness hint of revision 2026-07-28: how long, in
	// milliseconds, the result may be reused. Nil in earlier revisions.
	TTLMs *int64 `json:"ttlMs,omitzero"`
	// CacheScope says whether shared intermediaries may cache the result
	// (2026-07-28).
	CacheScope CacheScope `json:"cacheScope,omitzero"`
	// Meta is the result's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom.
func (r *ReadResourceResult) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	type Fields ReadResourceResult
	return json.UnmarshalDecode(dec, (*Fields)(r), UnionUnmarshalers)
}

// SubscribeRequestParams are the params of resources/subscribe.
type SubscribeRequestParams struct {
	// URI is the URI of the resource to watch.
	URI string `json:"uri"`
	// Meta is the request's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// UnsubscribeRequestParams are the params of resources/unsubscribe.
type UnsubscribeRequestParams struct {
	// URI is the URI of the resource to stop watching.
	URI string `json:"uri"`
	// Meta is the request's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// ResourceUpdatedNotificationParams are the params of
// notifications/resources/updated.
type ResourceUpdatedNotificationParams struct {
	// URI is the URI of the resource that changed; it may be a
	// sub-resource of the one subscribed to.
	URI string `json:"uri"`
	// Meta is the notification's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}
