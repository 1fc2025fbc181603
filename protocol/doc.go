// Package protocol defines the messages of the Model Context Protocol (MCP),
// revision 2025-11-25, as Go types: one type per definition of the
// revision's JSON schema, with the JSON encoding the schema prescribes.
// The definitions revision 2026-07-28 adds are in v2026.go; the ones it
// changes keep their types here, with the new members as optional fields
// (see docs/revisions.md).
//
// The package knows nothing of transports or handlers. It provides the wire
// types, constants for method names, error codes and protocol revisions, a
// table of methods (see [LookupMethod]), and small accessors and validation
// helpers.
//
// # JSON
//
// All types are encoded with github.com/go-json-experiment/json (the
// encoding/json/v2 semantics): member names are matched case-sensitively,
// optional members are omitted when zero, required members are always
// written. Binary data (image and audio data, resource blobs) is held as
// []byte and encoded as standard base64. JSON Schemas carried inside
// messages (Tool.InputSchema, Tool.OutputSchema) and other free-form objects
// (tool arguments, structured tool output) are [jsontext.Value], so they pass
// through byte for byte.
//
// # Unions
//
// Where the schema has a union discriminated by a "type" member, the package
// has an interface and one pointer type per variant:
//
//   - [Content] (the schema's ContentBlock): *[TextContent], *[ImageContent],
//     *[AudioContent], *[ResourceLink] and *[EmbeddedResource].
//   - [SamplingContent] (SamplingMessageContentBlock): *[TextContent],
//     *[ImageContent], *[AudioContent], *[ToolUseContent] and
//     *[ToolResultContent].
//   - [ResourceContents]: *[TextResourceContents] and *[BlobResourceContents],
//     told apart by the presence of "text" or "blob".
//   - [PrimitiveSchema] (PrimitiveSchemaDefinition), the property schemas of
//     an elicitation form, with the enum variants of [EnumSchema].
//   - [CompletionReference]: *[PromptReference] and
//     *[ResourceTemplateReference].
//
// Marshalling a variant writes its "type" member; unmarshalling a struct
// that holds one of these interfaces picks the variant from the JSON and
// fails on an unknown one. To decode a union value on its own use
// [UnmarshalContent] and its siblings; to decode types of your own that hold
// these interfaces pass [UnionUnmarshalers] to json.Unmarshal.
//
// # Requests, notifications and results
//
// A request or notification is a jsonrpc.Request whose params are one of the
// *...Params types of this package; a result is one of the *...Result types.
// [LookupMethod] maps a method name to its params and result types, the
// sides that may send it and the revision that introduced it. The marker
// interfaces [ClientRequestParams], [ServerRequestParams],
// [ClientNotificationParams], [ServerNotificationParams], [ClientResult] and
// [ServerResult] correspond to the schema's ClientRequest, ServerRequest,
// ClientNotification, ServerNotification, ClientResult and ServerResult.
package protocol
