package report

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxName bounds a name in the text output (a pod's namespace/name may be
// 317 bytes, a path more): enough to tell one from another, not enough to
// bury the line.
const maxName = 128

// Clean is the one way a name reaches the text output. Names come from
// processes, namespaces, hostnames, containers and the command line, which
// anyone on the host may choose: '|' would start perfdata, a line break the
// long output, so a name could forge the status line of root's check.
// Clean replaces '|' with '¦', control, line-separating and
// direction-changing characters and invalid UTF-8 with U+FFFD, and cuts the
// name to maxName bytes, saying so with '…'. JSON carries names exact.
func Clean(name string) string { return clean(name, maxName) }

// clean is Clean with a bound of its own (0: none), for whole messages.
func clean(s string, bound int) string {
	if safe(s) && (bound == 0 || len(s) <= bound) {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				r = '\ufffd'
			}
		}
		switch {
		case r == '|':
			r = '¦'
		case unsafeRune(r):
			r = '\ufffd'
		}
		b.WriteRune(r)
	}
	out := b.String()
	if bound > 0 && len(out) > bound {
		n := bound - len("…")
		for n > 0 && !utf8.RuneStart(out[n]) {
			n--
		}
		out = out[:n] + "…"
	}
	return out
}

// safe reports whether s needs no replacement.
func safe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c == '|' || c >= 0x7f {
			return safeSlow(s)
		}
	}
	return true
}

func safeSlow(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == '|' || unsafeRune(r) {
			return false
		}
	}
	return true
}

// unsafeRune: control characters (C0, DEL, C1 with NEL), Unicode's line and
// paragraph separators, and the marks that reorder text on screen (bidi
// overrides and isolates), which could make a name read as another.
func unsafeRune(r rune) bool {
	switch {
	case unicode.IsControl(r), r == '\u2028', r == '\u2029':
		return true
	case r == '\u061c', r == '\u200e', r == '\u200f',
		'\u202a' <= r && r <= '\u202e', '\u2066' <= r && r <= '\u2069':
		return true
	}
	return false
}
