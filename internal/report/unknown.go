package report

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// WriteUnknown prints an UNKNOWN: one line naming what was wrong, or with
// asJSON a JSON document carrying it.
func WriteUnknown(w io.Writer, msg string, asJSON bool) error {
	msg = oneLine(msg)
	if asJSON {
		return writeJSONError(w, msg)
	}
	_, err := fmt.Fprintf(w, "UNKNOWN: %s\n", msg)
	return err
}

// oneLine keeps an error to one line (the core shows only the first),
// cleaned as every name is (a bad value may hold a '|', which would start
// perfdata). A huge value is cut to what a core shows.
func oneLine(s string) string {
	return clean(cutLong(strings.Join(strings.Fields(s), " ")), 0)
}

// The most of one quoted value, and of a whole message, that an UNKNOWN line
// shows: cores show a few hundred characters, and a 100 KB value echoed whole
// buries the reason.
const (
	maxShownValue   = 200
	maxShownMessage = 1000
)

// Shown is a value as messages show it: cut to maxShownValue, saying so.
func Shown(v string) string {
	if len(v) <= maxShownValue {
		return v
	}
	return fmt.Sprintf("%s... (cut: %d characters)", cutAt(v, maxShownValue), len(v))
}

// cutLong cuts each quoted value ("...", as %q writes it) longer than
// maxShownValue, saying so, then the message to maxShownMessage.
func cutLong(s string) string {
	var b strings.Builder
	for {
		start := strings.IndexByte(s, '"')
		if start < 0 {
			b.WriteString(s)
			break
		}
		end := start + 1
		for end < len(s) && s[end] != '"' {
			if s[end] == '\\' {
				end++
			}
			end++
		}
		if end >= len(s) { // unterminated: no value to cut
			b.WriteString(s)
			break
		}
		b.WriteString(s[:start])
		if q := s[start+1 : end]; len(q) > maxShownValue {
			b.WriteString(`"` + Shown(q) + `"`)
		} else {
			b.WriteString(s[start : end+1])
		}
		s = s[end+1:]
	}
	out := b.String()
	if len(out) > maxShownMessage {
		out = cutAt(out, maxShownMessage) + fmt.Sprintf("... (cut: %d characters)", len(out))
	}
	return out
}

// cutAt cuts s to at most n bytes, whole UTF-8 characters and no half of a
// backslash escape.
func cutAt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	s = s[:n]
	if i := strings.LastIndexByte(s, '\\'); i >= 0 && i >= len(s)-4 {
		s = s[:i]
	}
	return s
}
