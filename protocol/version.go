package protocol

import "slices"

// Protocol revisions. A revision is named by the date of its publication.
const (
	// Version20241105 is the first published revision.
	Version20241105 = "2024-11-05"
	// Version20250326 added the Streamable HTTP transport, JSON-RPC
	// batches, audio content, tool annotations, the completions capability
	// and progress messages.
	Version20250326 = "2025-03-26"
	// Version20250618 removed batches and added elicitation, structured
	// tool output (outputSchema, structuredContent), resource links and
	// titles.
	Version20250618 = "2025-06-18"
	// Version20251125 added tasks, URL mode elicitation, tool use in
	// sampling, icons, defaults for all elicitation field types and the
	// titled and multi-select enum schemas.
	Version20251125 = "2025-11-25"
	// Version20260728 removed the initialize handshake and protocol-level
	// sessions: every request carries its version and the client's
	// capabilities in _meta (see v2026.go). It is in ModernVersions, not
	// in SupportedVersions (the revisions negotiated by initialize), so
	// NegotiateVersion never selects it.
	Version20260728 = "2026-07-28"
)

// LatestVersion is the newest revision this package implements.
const LatestVersion = Version20251125

// SupportedVersions lists the revisions this package can speak, newest
// first. Do not modify it; copy it with slices.Clone to derive a list of
// your own.
var SupportedVersions = []string{Version20251125, Version20250618, Version20250326, Version20241105}

// KnownVersion reports whether v names a published revision, including
// ones this package does not serve (Version20260728).
func KnownVersion(v string) bool {
	return v == Version20260728 || slices.Contains(SupportedVersions, v)
}

// IsSupportedVersion reports whether v is in SupportedVersions.
func IsSupportedVersion(v string) bool {
	return slices.Contains(SupportedVersions, v)
}

// NegotiateVersion returns the revision a server answers an initialize
// request for revision requested with, as the lifecycle section of the
// specification prescribes: the requested revision if it is supported,
// otherwise the latest supported one. The client then decides whether it
// can continue with that revision.
func NegotiateVersion(requested string) string {
	if IsSupportedVersion(requested) {
		return requested
	}
	return LatestVersion
}

// atLeast reports whether v is a known revision no older than min.
// Revision names are dates, so they order lexically.
func atLeast(v, min string) bool {
	return KnownVersion(v) && v >= min
}

// What each revision allows. These functions let a server shape its output
// for an older client. They return false for unknown revision strings.

// UsesInitialize reports whether revision v starts a session with the
// initialize handshake (every revision up to 2025-11-25; 2026-07-28 is
// stateless).
func UsesInitialize(v string) bool {
	return KnownVersion(v) && v <= Version20251125
}

// AllowsBatch reports whether revision v allows JSON-RPC batches, which only
// 2025-03-26 does.
func AllowsBatch(v string) bool { return v == Version20250326 }

// AllowsAudio reports whether revision v has audio content (2025-03-26 on).
func AllowsAudio(v string) bool { return atLeast(v, Version20250326) }

// AllowsToolAnnotations reports whether revision v has tool annotations
// (2025-03-26 on).
func AllowsToolAnnotations(v string) bool { return atLeast(v, Version20250326) }

// AllowsProgressMessage reports whether revision v has the message field of
// progress notifications (2025-03-26 on).
func AllowsProgressMessage(v string) bool { return atLeast(v, Version20250326) }

// AllowsElicitation reports whether revision v has elicitation (2025-06-18
// on).
func AllowsElicitation(v string) bool { return atLeast(v, Version20250618) }

// AllowsStructuredContent reports whether revision v has Tool.OutputSchema
// and CallToolResult.StructuredContent (2025-06-18 on).
func AllowsStructuredContent(v string) bool { return atLeast(v, Version20250618) }

// AllowsResourceLinks reports whether revision v has resource_link content
// (2025-06-18 on).
func AllowsResourceLinks(v string) bool { return atLeast(v, Version20250618) }

// AllowsTitles reports whether revision v has the title fields of tools,
// prompts, resources and implementations (2025-06-18 on).
func AllowsTitles(v string) bool { return atLeast(v, Version20250618) }

// AllowsIcons reports whether revision v has icons (2025-11-25 on).
func AllowsIcons(v string) bool { return atLeast(v, Version20251125) }

// AllowsTasks reports whether revision v has tasks in the core protocol,
// which only 2025-11-25 does (2026-07-28 moved them to an extension).
func AllowsTasks(v string) bool { return v == Version20251125 }

// AllowsURLElicitation reports whether revision v has URL mode elicitation
// (2025-11-25 on).
func AllowsURLElicitation(v string) bool { return atLeast(v, Version20251125) }

// AllowsSamplingTools reports whether revision v has tool use in sampling
// (2025-11-25 on).
func AllowsSamplingTools(v string) bool { return atLeast(v, Version20251125) }

// AllowsElicitationDefaults reports whether revision v allows defaults on
// string, number and enum elicitation fields (2025-11-25 on; boolean fields
// have had defaults since 2025-06-18).
func AllowsElicitationDefaults(v string) bool { return atLeast(v, Version20251125) }

// AllowsEnumVariants reports whether revision v has the titled single-select
// (oneOf), untitled multi-select and titled multi-select enum schemas of
// SEP-1330 (2025-11-25 on). Older revisions only know enum with optional
// enumNames ([LegacyTitledEnumSchema] and [UntitledSingleSelectEnumSchema]).
func AllowsEnumVariants(v string) bool { return atLeast(v, Version20251125) }
