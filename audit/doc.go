// Package audit keeps the gateway's audit trail: one [Record] for every
// request a client makes of the gateway and every decision taken on it
// (calls, reads, denials, tool errors), for every request an upstream
// makes of a client (sampling, elicitation, roots, with the answer: who
// approved what), and for the gateway's own decisions (budget warnings,
// events that could not be recorded).
//
// Records are append-only and tamper-evident: each carries the SHA-256
// hash of the previous record of its stream (a hash chain per stream, one
// stream per gateway process by default), and the [Writer] adds signed
// [Checkpoint]s (Ed25519, the key sealed with the store's master key) every
// few hundred records, every minute and when it closes. [Verify] checks
// every chain and checkpoint and names the first record that was edited,
// deleted, reordered or cut off the end.
//
// The [Writer] is fed by gateway.Hooks.Observe ([Writer.Observe]) and
// writes off the hot path: events go into a bounded queue that a
// goroutine drains in batches, one transaction per batch. When the queue
// is full or the database fails, the configured policy applies: fail open
// (keep serving, count the events that were not recorded, log it and
// record the count in the trail once it can) or fail closed
// ([Writer.Authorize] refuses calls until records can be written again).
//
// Arguments are recorded by shape by default (every value replaced by
// its JSON type); with [CaptureValues] the values are kept, except those
// under keys or matching patterns of the [Redactor]. Records can be
// streamed to a SIEM ([Sink]: JSON lines to a rotating file or over
// HTTP, OpenTelemetry logs over OTLP), searched, exported as JSON lines
// ([WriteExport]) and verified from an export ([ReadExport]).
package audit
