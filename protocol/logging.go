package protocol

import "log/slog"

// LoggingLevel is the severity of a log message, following the syslog
// levels of RFC 5424.
type LoggingLevel string

// Logging levels, from least to most severe.
const (
	LoggingLevelDebug     LoggingLevel = "debug"
	LoggingLevelInfo      LoggingLevel = "info"
	LoggingLevelNotice    LoggingLevel = "notice"
	LoggingLevelWarning   LoggingLevel = "warning"
	LoggingLevelError     LoggingLevel = "error"
	LoggingLevelCritical  LoggingLevel = "critical"
	LoggingLevelAlert     LoggingLevel = "alert"
	LoggingLevelEmergency LoggingLevel = "emergency"
)

// Severity returns the rank of the level: 0 for debug up to 7 for
// emergency, and -1 for a string that is not a level.
func (l LoggingLevel) Severity() int {
	switch l {
	case LoggingLevelDebug:
		return 0
	case LoggingLevelInfo:
		return 1
	case LoggingLevelNotice:
		return 2
	case LoggingLevelWarning:
		return 3
	case LoggingLevelError:
		return 4
	case LoggingLevelCritical:
		return 5
	case LoggingLevelAlert:
		return 6
	case LoggingLevelEmergency:
		return 7
	}
	return -1
}

// Valid reports whether l is one of the eight levels.
func (l LoggingLevel) Valid() bool { return l.Severity() >= 0 }

// CompareLevels compares the severities of a and b: it returns a negative
// number if a is less severe than b, zero if they are equally severe and a
// positive number otherwise. An invalid level ranks below debug.
func CompareLevels(a, b LoggingLevel) int { return a.Severity() - b.Severity() }

// The slog levels the MCP levels map to. debug, info, warning and error are
// slog's own; the others sit between and above them.
const (
	slogNotice    = slog.LevelInfo + 2
	slogCritical  = slog.LevelError + 4
	slogAlert     = slog.LevelError + 8
	slogEmergency = slog.LevelError + 12
)

// SlogLevel returns the log/slog level for l: debug, info, warning and
// error map to slog's levels of the same name, notice to Info+2, critical
// to Error+4, alert to Error+8 and emergency to Error+12. An invalid level
// maps to Info.
func (l LoggingLevel) SlogLevel() slog.Level {
	switch l {
	case LoggingLevelDebug:
		return slog.LevelDebug
	case LoggingLevelNotice:
		return slogNotice
	case LoggingLevelWarning:
		return slog.LevelWarn
	case LoggingLevelError:
		return slog.LevelError
	case LoggingLevelCritical:
		return slogCritical
	case LoggingLevelAlert:
		return slogAlert
	case LoggingLevelEmergency:
		return slogEmergency
	}
	return slog.LevelInfo
}

// LevelFromSlog returns the MCP level for a slog level, the inverse of
// [LoggingLevel.SlogLevel] on its values. Levels in between round down:
// anything below Info is debug, [Info, Info+2) is info, [Info+2, Warn) is
// notice, [Warn, Error) is warning, [Error, Error+4) is error and so on up
// to emergency.
func LevelFromSlog(l slog.Level) LoggingLevel {
	switch {
	case l < slog.LevelInfo:
		return LoggingLevelDebug
	case l < slogNotice:
		return LoggingLevelInfo
	case l < slog.LevelWarn:
		return LoggingLevelNotice
	case l < slog.LevelError:
		return LoggingLevelWarning
	case l < slogCritical:
		return LoggingLevelError
	case l < slogAlert:
		return LoggingLevelCritical
	case l < slogEmergency:
		return LoggingLevelAlert
	}
	return LoggingLevelEmergency
}

// SetLevelRequestParams are the params of logging/setLevel.
type SetLevelRequestParams struct {
	// Level is the minimum level of the log messages the client wants
	// to receive as notifications/message.
	Level LoggingLevel `json:"level"`
	// Meta is the request's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// LoggingMessageNotificationParams are the params of notifications/message.
type LoggingMessageNotificationParams struct {
	// Level is the severity of the message.
	Level LoggingLevel `json:"level"`
	// Logger optionally names the component that logged the message.
	Logger string `json:"logger,omitzero"`
	// Data is the message: a string or any JSON-encodable value. It is
	// required on the wire; nil is sent as null.
	Data any `json:"data"`
	// Meta is the notification's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}
